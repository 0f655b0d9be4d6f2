"""A Slack-style incoming-webhook sink for the lab: every POST body is kept as one JSON line.

``python webhook_sink.py --host 127.0.0.1 --port 9000 --out hooks.jsonl`` answers ``ok`` (as
Slack does) and appends ``{"received": epoch, "path": ..., "body": <parsed JSON or text>}``.
Loopback only: it is where the lab's Alertmanager sends its Slack notifications.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024
_LOCK = threading.Lock()


def make_handler(out: str) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_BODY:
                self.send_error(413)
                return
            raw = self.rfile.read(length).decode("utf-8", "replace")
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
            with _LOCK, open(out, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"received": time.time(), "path": self.path, "body": body}) + "\n")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, fmt: str, *args) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if not ipaddress.ip_address(args.host).is_loopback:
        parser.error("the sink listens on loopback only")
    ThreadingHTTPServer((args.host, args.port), make_handler(args.out)).serve_forever()


if __name__ == "__main__":
    main()
