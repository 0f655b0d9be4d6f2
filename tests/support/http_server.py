"""An http.server running in a background thread, for the stand-in services the tests start."""

from __future__ import annotations

import threading
import typing as t
from http.server import ThreadingHTTPServer


class BackgroundServer:
    """Serve ``handler`` on ``address``:``port`` (0 picks a free port) until ``stop``."""

    def __init__(self, address: str, port: int, handler: type, name: str,
                 wrap: t.Callable[[t.Any], t.Any] | None = None) -> None:
        self.server = ThreadingHTTPServer((address, port), handler)
        self.server.daemon_threads = True
        if wrap is not None:  # e.g. an SSLContext's wrap_socket, for an https service
            self.server.socket = wrap(self.server.socket)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name=name, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
