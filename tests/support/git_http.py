"""A private git host on loopback: ``git http-backend`` (smart HTTP) behind HTTP Basic auth.

    host = git_http.GitHttp(projects_dir, "deployer", token, address="127.0.3.1")
    url = host.url("shop.git", "deployer", token)   # http://deployer:TOKEN@127.0.3.1:PORT/shop.git
    ...
    host.stop()

Every request without the right credentials gets 401 (git then asks its credential helper);
``delay`` holds each authorised request, so the git processes of a fetch live long enough
for a test to read their /proc/PID/cmdline. The expected credentials stay in this process:
no argv or file of the server holds them.
"""

from __future__ import annotations

import base64
import hmac
import os
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from tests.support.http_server import BackgroundServer


class GitHttp:
    def __init__(self, projects: str, user: str, password: str, address: str = "127.0.3.1",
                 delay: float = 0.0) -> None:
        self.projects = projects
        self.expected = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.delay = delay
        self.address = address
        self.log: list = []  # (method, path, authorised)
        self.lock = threading.Lock()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                host.serve(self)

            def do_POST(self) -> None:
                host.serve(self)

        self.server = BackgroundServer(address, 0, Handler, "git-http")
        self.port = self.server.port

    def url(self, name: str, user: str | None = None, password: str | None = None) -> str:
        auth = ""
        if user is not None:
            auth = urllib.parse.quote(user, safe="")
            if password is not None:
                auth += ":" + urllib.parse.quote(password, safe="")
            auth += "@"
        return "http://%s%s:%d/%s" % (auth, self.address, self.port, name)

    def stop(self) -> None:
        self.server.stop()

    # --- one request ---------------------------------------------------------------------------

    def serve(self, req: BaseHTTPRequestHandler) -> None:
        authorised = hmac.compare_digest(req.headers.get("Authorization", ""), self.expected)
        with self.lock:
            self.log.append((req.command, req.path, authorised))
        if not authorised:
            req.send_response(401)
            req.send_header("WWW-Authenticate", 'Basic realm="git"')
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        time.sleep(self.delay)
        body = self._body(req)
        path, _q, query = req.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.projects,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": req.command,
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "CONTENT_TYPE": req.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "deployer",
            "REMOTE_ADDR": req.client_address[0],
        }
        if req.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = req.headers["Content-Encoding"]
        if req.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = req.headers["Git-Protocol"]
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60,
                              check=False)
        head, sep, payload = proc.stdout.partition(b"\r\n\r\n")
        if not sep:
            head, _sep, payload = proc.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _colon, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        req.send_response(status)
        for name, value in headers:
            req.send_header(name, value)
        req.send_header("Content-Length", str(len(payload)))
        req.end_headers()
        req.wfile.write(payload)

    @staticmethod
    def _body(req: BaseHTTPRequestHandler) -> bytes:
        if req.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(req.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    req.rfile.readline()
                    return out
                out += req.rfile.read(size)
                req.rfile.readline()
        return req.rfile.read(int(req.headers.get("Content-Length") or 0))


class CmdlineWatch:
    """Read every /proc/PID/cmdline (and the command names) every few ms while a test runs."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.seen: dict = {}  # pid -> cmdline text
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cmdline-watch", daemon=True)

    def __enter__(self) -> CmdlineWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as fh:
                        text = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
                except OSError:
                    continue
                if text:
                    self.seen["%s %s" % (pid, text)] = text
            time.sleep(self.interval)

    def matching(self, needle: str) -> list:
        return [text for text in self.seen.values() if needle in text]
