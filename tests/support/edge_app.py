"""A tiny shop-shaped upstream for edge variants: one thread, every variant told apart by its Host.

    app = EdgeApp({"cookie.edge.test": {"headers": {"/": {"Cache-Control": "public, max-age=300",
                                                          "Set-Cookie": "session=abc; Secure; HttpOnly"}}}})
    app.start()            # http://127.0.0.1:<free port>
    app.hits["/static/app.0123abcd4567.css"]
    app.stop()

Routes, like the demo shop's: ``/`` (a page loading a fingerprinted stylesheet and script and a
plain image), ``/login`` (GET form, POST -> 400 for an empty form), ``/checkout``, ``/cart``,
``/account`` and anything below it (the page again: a path-tolerant framework, the
precondition of web cache deception), ``/api/chat`` (POST -> 400 without a message, GET ->
405), ``/static/...`` assets, 404 otherwise.  Per host: extra response headers by exact path
(``headers``) and extra HTML in the homepage's head (``head``).
"""

from __future__ import annotations

import collections
import typing as t
from http.server import BaseHTTPRequestHandler

from tests.support import http_server

CSS = "/static/app.0123abcd4567.css"
JS = "/static/app.89abcdef0123.js"
IMAGE = "/static/logo.png"
ASSETS = {
    CSS: ("text/css", b"body{font-family:sans-serif}\n"),
    JS: ("application/javascript", b"document.documentElement.dataset.ready='1';\n"),
    IMAGE: ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32),
}


def _page(title: str, head: str = "") -> bytes:
    return ("<!doctype html><html><head><meta charset='utf-8'><title>%s</title>"
            "<link rel='stylesheet' href='%s'><script src='%s' defer></script>%s</head>"
            "<body><h1>%s</h1><img src='%s' alt=''></body></html>" % (title, CSS, JS, head, title, IMAGE)).encode()


class EdgeApp:
    def __init__(self, hosts: dict | None = None, address: str = "127.0.0.1") -> None:
        self.hosts = hosts or {}
        self.address = address
        self.port = 0
        self.hits: collections.Counter = collections.Counter()
        self._server: http_server.BackgroundServer | None = None

    @property
    def upstream(self) -> str:
        return "%s:%d" % (self.address, self.port)

    def _answer(self, method: str, host: str, path: str) -> tuple:
        conf = self.hosts.get(host, {})
        if path in ASSETS:
            ctype, body = ASSETS[path]
            return 200, ctype, body
        if path == "/":
            return 200, "text/html; charset=utf-8", _page("Shop", conf.get("head", ""))
        if path == "/login":
            if method == "POST":
                return 400, "text/html; charset=utf-8", b"<p>Enter your e-mail and password.</p>"
            return 200, "text/html; charset=utf-8", _page("Log in")
        if path in ("/checkout", "/cart") or path == "/account" or path.startswith("/account/"):
            return 200, "text/html; charset=utf-8", _page("Account of jane@example.com" if "account" in path
                                                          else path.strip("/").title())
        if path == "/api/chat":
            if method == "POST":
                return 400, "application/json", b'{"error": "bad_request"}'
            return 405, "application/json", b'{"error": "method_not_allowed"}'
        return 404, "text/html; charset=utf-8", b"<p>not found</p>"

    def start(self) -> "EdgeApp":
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: t.Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                path = self.path.split("?")[0]
                app.hits[path] += 1
                status, ctype, body = app._answer(self.command, host, path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for name, value in app.hosts.get(host, {}).get("headers", {}).get(path, {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _handle

        self._server = http_server.BackgroundServer(self.address, self.port, Handler, "edge-app")
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None
