"""TCP servers that misbehave on purpose, for the error paths of the HTTP and TLS probes.

Modes: ``silent`` accepts and never speaks; ``reset`` accepts then closes with
SO_LINGER 0 (an RST); ``garbage`` answers a non-HTTP line; ``trickle`` sends an
HTTP status line and ``tls_trickle`` a TLS record header, then one byte every
0.2 s, so that only a total deadline (not a per-read timeout) stops the client.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
import typing as t

MODES = ("silent", "reset", "garbage", "trickle", "tls_trickle")
# What a trickling server says first: an HTTP status line, or a TLS handshake record
# header announcing 16 KiB that never arrive.
_PROLOGUE = {"trickle": b"HTTP/1.1 200 OK\r\n", "tls_trickle": b"\x16\x03\x03\x40\x00"}


class FaultServer:
    def __init__(self, address: str, ports: t.Sequence[int], mode: str) -> None:
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % ", ".join(MODES))
        self.address, self.ports, self.mode = address, list(ports), mode
        self._stop = threading.Event()
        self._listeners: list = []
        self._held: list = []
        self._threads: list = []
        self._lock = threading.Lock()

    def start(self) -> "FaultServer":
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        for port in self.ports:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.address, port))
            except OSError:
                sock.close()
                self.stop()
                raise
            sock.listen(64)
            self._listeners.append(sock)
            self._spawn(self._accept_loop, sock)
        return self

    def _spawn(self, fn: t.Callable, *args) -> None:
        th = threading.Thread(target=fn, args=args, daemon=True, name="fault-%s" % self.mode)
        with self._lock:
            self._threads.append(th)
        th.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            ready = select.select([listener], [], [], 0.05)[0]
            if not ready:
                continue
            try:
                conn, _peer = listener.accept()
            except OSError:
                return
            if self.mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            elif self.mode == "silent":
                with self._lock:
                    self._held.append(conn)
            else:
                with self._lock:
                    self._held.append(conn)
                self._spawn(self._talk, conn)

    def _talk(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(0.5)
            try:
                conn.recv(4096)
            except OSError:
                pass
            if self.mode == "garbage":
                conn.sendall(b"SSH-2.0-OpenSSH_9.2 not http at all\r\n")
                conn.close()
                return
            conn.sendall(_PROLOGUE[self.mode])
            while not self._stop.is_set():
                conn.sendall(b"X")
                time.sleep(0.2)
        except OSError:
            pass

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            held, threads = list(self._held), list(self._threads)
        for conn in held:  # wakes any thread blocked on it
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for th in threads:
            th.join(2)
        for sock in held + self._listeners:
            sock.close()
        self._listeners.clear()
        self._held.clear()

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
