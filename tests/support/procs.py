"""Start a server process for a test, wait until it is ready, stop it by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import typing as t


class Server:
    def __init__(self, name: str, proc: subprocess.Popen, log_path: str) -> None:
        self.name = name
        self.proc = proc
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                return fh.read()[-4000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)


def wait_port(host: str, port: int, timeout: float = 10.0, udp: bool = False) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if udp:
                return True
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def start(name: str, argv: t.Sequence[str], log_path: str, ready: t.Callable[[], bool],
          timeout: float = 10.0, env: dict | None = None, cwd: str | None = None) -> Server:
    """Start ``argv`` with output to ``log_path``; raise with the log if not ready in time."""
    log = open(log_path, "ab")
    proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, cwd=cwd, start_new_session=True)
    log.close()
    server = Server(name, proc, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s:\n%s" % (name, proc.returncode, server.log()))
        if ready():
            return server
        time.sleep(0.05)
    server.stop()
    raise RuntimeError("%s not ready within %.0f s:\n%s" % (name, timeout, server.log()))
