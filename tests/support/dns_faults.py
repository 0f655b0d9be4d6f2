"""Misbehaving DNS servers for fault tests: one that never answers, one that answers SERVFAIL.

Each is a UDP socket served by a thread of the test process; ``stop()`` ends
the thread and closes the socket, so nothing outlives the test.
"""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode

HANG = "hang"
SERVFAIL = "servfail"


class FaultyDNS:
    """A UDP 'DNS server' on ``address``:``port``: mode HANG reads and never replies, SERVFAIL answers SERVFAIL."""

    def __init__(self, address: str, mode: str, port: int = 53) -> None:
        if mode not in (HANG, SERVFAIL):
            raise ValueError("unknown mode %r" % mode)
        self.address, self.port, self.mode = address, port, mode
        self.received = 0
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "FaultyDNS":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((self.address, self.port))
        sock.settimeout(0.1)  # so the loop sees stop() promptly
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="dns-%s@%s" % (self.mode, self.address),
                                        daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received += 1
            if self.mode == HANG:
                continue
            try:
                reply = dns.message.make_response(dns.message.from_wire(wire))
            except Exception:  # not a DNS query: ignore it like a real server would
                continue
            reply.set_rcode(dns.rcode.SERVFAIL)
            self._sock.sendto(reply.to_wire(), peer)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
            self._thread = None
        if self._sock:
            self._sock.close()
            self._sock = None
