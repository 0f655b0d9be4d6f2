"""TCP servers that misbehave on purpose, for the error paths of HTTP probes.

Modes: ``silent`` accepts and never speaks; ``reset`` accepts then closes with
SO_LINGER 0 (an RST); ``garbage`` answers a non-HTTP line; ``trickle`` sends a
status line then one header byte every 0.2 s, to beat per-call timeouts.

127.0.0.205 (silent) and 127.0.0.206 (reset) are shared fault addresses: the
listeners use SO_REUSEPORT, and when another test process already holds the
port without it, that server (same behaviour by convention) is used instead.
"""

from __future__ import annotations

import errno
import select
import socket
import struct
import threading
import time
import typing as t

MODES = ("silent", "reset", "garbage", "trickle")


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
        self.borrowed: list = []  # ports already served by another process

    def start(self) -> "FaultServer":
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        for port in self.ports:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            try:
                sock.bind((self.address, port))
            except OSError as exc:
                sock.close()
                if exc.errno != errno.EADDRINUSE:
                    raise
                self.borrowed.append(port)
                continue
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
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
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
