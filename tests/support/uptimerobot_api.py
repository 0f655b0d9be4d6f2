"""A local stand-in for UptimeRobot's API v2 that enforces the documented request shapes.

    api = UptimeRobotAPI(keys=["u123-key"], address="127.0.14.20").start()   # https://ADDR:PORT/v2
    ... point the client or the module at api.url with api.ca_file ...
    api.monitors, api.contacts        # what the account holds now
    api.calls                         # [(method, form without api_key)], for assertions
    api.stop()

Enforced, as https://uptimerobot.com/api/ documents v2: every call a POST to /v2/<method> with a
form-encoded body (``application/x-www-form-urlencoded``) holding ``api_key`` (missing ->
missing_parameter; unknown -> invalid_parameter, whose ``passed_value`` echoes the key as the real
API does, so a client that repeats it is caught); ``format`` json; only the method's known fields;
monitor type 1-5, http(s) URL, interval >= 30, http_method 1-7, post_type 1-2, post_content_type
0-1, alert_contacts as ``id_threshold_recurrence`` joined by ``-`` naming existing contacts;
getMonitors/getAlertContacts paginated by offset and limit (at most 50). Answers are
``{"stat": "ok", ...}`` or ``{"stat": "fail", "error": {...}}``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import tempfile
import threading
import typing as t
import urllib.parse
from http.server import BaseHTTPRequestHandler

from tests.support import http_server, pki

BASE = "/v2/"
WRITES = ("newMonitor", "editMonitor", "deleteMonitor", "newAlertContact")
MONITOR_FIELDS = {"friendly_name", "url", "type", "sub_type", "port", "keyword_type", "keyword_value", "interval",
                  "timeout", "http_username", "http_password", "http_auth_type", "http_method", "post_type",
                  "post_value", "post_content_type", "alert_contacts", "mwindows", "custom_http_headers",
                  "custom_http_statuses", "ignore_ssl_errors"}
KNOWN = {
    "getMonitors": {"monitors", "types", "statuses", "custom_uptime_ratios", "logs", "alert_contacts", "search",
                    "offset", "limit", "response_times", "ssl"},
    "newMonitor": MONITOR_FIELDS,
    "editMonitor": MONITOR_FIELDS | {"id", "status"},
    "deleteMonitor": {"id"},
    "getAlertContacts": {"alert_contacts", "offset", "limit"},
    "newAlertContact": {"type", "value", "friendly_name"},
}
CONTACTS_PARAM = re.compile(r"^\d+_\d+_\d+(-\d+_\d+_\d+)*$")


class Fail(Exception):
    def __init__(self, kind: str, parameter: str = "", passed: str | None = None, message: str = "") -> None:
        super().__init__(kind)
        self.error = {"type": kind}
        if parameter:
            self.error["parameter_name"] = parameter
        if passed is not None:
            self.error["passed_value"] = passed
        if message:
            self.error["message"] = message


class UptimeRobotAPI:
    def __init__(self, keys: t.Sequence[str] = ("u1-test-key",), address: str = "127.0.0.1", port: int = 0) -> None:
        self.keys = set(keys)
        self.address, self.port = address, port
        self.ca = pki.TestCA("uptimerobot stand-in")
        self.ca_file: str | None = None
        self.monitors: dict = {}   # id -> monitor
        self.contacts: dict = {}   # id -> contact
        self.calls: list = []
        self._next = 780000
        self._lock = threading.Lock()
        self._server: http_server.BackgroundServer | None = None
        self._tmp: str | None = None

    @property
    def url(self) -> str:
        return "https://%s:%d/v2" % (self.address, self.port)

    def writes(self) -> list:
        return [c for c in self.calls if c[0] in WRITES]

    def start(self) -> "UptimeRobotAPI":
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: t.Any) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = api.dispatch(self.path, self.headers.get("Content-Type", ""), raw)
                self._answer(status, body)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(405, {"stat": "fail", "error": {"type": "method_not_allowed"}})

        self._tmp = tempfile.mkdtemp(prefix="uptimerobot-api-")
        leaf = self.ca.issue([self.address, "localhost"])
        cert, key, self.ca_file = (os.path.join(self._tmp, n) for n in ("cert.pem", "key.pem", "ca.pem"))
        with open(cert, "wb") as fh:
            fh.write(leaf.pem + self.ca.intermediate_pem)
        with open(key, "wb") as fh:
            fh.write(leaf.key_pem)
        with open(self.ca_file, "wb") as fh:
            fh.write(self.ca.root_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server = http_server.BackgroundServer(self.address, self.port, Handler, "uptimerobot-api",
                                                    lambda sock: context.wrap_socket(sock, server_side=True))
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- the API

    def dispatch(self, path: str, content_type: str, raw: bytes) -> tuple:
        method = path[len(BASE):] if path.startswith(BASE) else ""
        try:
            if method not in KNOWN:
                raise Fail("not_found", message="no such API method %r" % method)
            if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
                raise Fail("invalid_parameter", "Content-Type", message="send the fields form-encoded")
            pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
            form = dict(pairs)
            if len(form) != len(pairs):
                raise Fail("invalid_parameter", message="a field is given twice")
            key = form.pop("api_key", None)
            if key is None:
                raise Fail("missing_parameter", "api_key")
            if key not in self.keys:
                raise Fail("invalid_parameter", "api_key", passed=key)
            if form.pop("format", "json") != "json":
                raise Fail("invalid_parameter", "format")
            unknown = sorted(set(form) - KNOWN[method])
            if unknown:
                raise Fail("invalid_parameter", unknown[0], passed=form[unknown[0]])
            with self._lock:
                self.calls.append((method, dict(form)))
                return 200, dict(stat="ok", **getattr(self, "_" + method)(form))
        except Fail as exc:
            return 200, {"stat": "fail", "error": exc.error}

    def _id(self) -> int:
        self._next += 1
        return self._next

    @staticmethod
    def _int(form: dict, name: str, low: int, high: int, required: bool = False) -> int | None:
        if name not in form:
            if required:
                raise Fail("missing_parameter", name)
            return None
        if not re.match(r"^-?\d+$", form[name]) or not low <= int(form[name]) <= high:
            raise Fail("invalid_parameter", name, passed=form[name])
        return int(form[name])

    def _page(self, form: dict) -> tuple:
        offset = self._int(form, "offset", 0, 10 ** 9) or 0
        limit = self._int(form, "limit", 1, 50) or 50
        return offset, limit

    def _monitor_fields(self, form: dict, monitor: dict) -> None:
        for name in ("friendly_name", "url", "post_value"):
            if name in form:
                monitor[name] = form[name]
        if "url" in form and not re.match(r"^https?://[^\s/]+", form["url"]):
            raise Fail("invalid_parameter", "url", passed=form["url"])
        for name, low, high in (("type", 1, 5), ("interval", 30, 86400), ("http_method", 1, 7),
                                ("post_type", 1, 2), ("post_content_type", 0, 1)):
            value = self._int(form, name, low, high)
            if value is not None:
                monitor[name] = value
        if "alert_contacts" in form:
            text = form["alert_contacts"]
            if text and not CONTACTS_PARAM.match(text):
                raise Fail("invalid_parameter", "alert_contacts", passed=text)
            ids = [part.split("_")[0] for part in text.split("-")] if text else []
            missing = [i for i in ids if i not in self.contacts]
            if missing:
                raise Fail("invalid_parameter", "alert_contacts", passed=text, message="no alert contact %s" % missing[0])
            monitor["alert_contacts"] = [{"id": i, "type": self.contacts[i]["type"], "value": self.contacts[i]["value"],
                                          "threshold": 0, "recurrence": 0} for i in ids]

    def _getMonitors(self, form: dict) -> dict:  # noqa: N802 - the API's method names
        offset, limit = self._page(form)
        items = [dict(self.monitors[k]) for k in sorted(self.monitors)]
        if form.get("alert_contacts") != "1":
            for m in items:
                m.pop("alert_contacts", None)
        return {"pagination": {"offset": offset, "limit": limit, "total": len(items)},
                "monitors": items[offset:offset + limit]}

    def _newMonitor(self, form: dict) -> dict:  # noqa: N802
        for name in ("friendly_name", "url", "type"):
            if not form.get(name):
                raise Fail("missing_parameter", name)
        monitor = {"id": self._id(), "status": 1, "interval": 300, "http_method": 1, "alert_contacts": []}
        self._monitor_fields(form, monitor)
        if any(m["friendly_name"] == monitor["friendly_name"] for m in self.monitors.values()):
            raise Fail("already_exists", "friendly_name", message="a monitor with this name exists")
        self.monitors[monitor["id"]] = monitor
        return {"monitor": {"id": monitor["id"], "status": 1}}

    def _existing(self, form: dict) -> dict:
        mid = self._int(form, "id", 1, 10 ** 12, required=True)
        if mid not in self.monitors:
            raise Fail("not_found", "id", passed=form["id"], message="monitor not found")
        return self.monitors[mid]

    def _editMonitor(self, form: dict) -> dict:  # noqa: N802
        monitor = self._existing(form)
        if "type" in form and int(form["type"]) != monitor["type"]:
            raise Fail("invalid_parameter", "type", message="the type of a monitor cannot be changed")
        updated = dict(monitor)
        self._monitor_fields(form, updated)
        monitor.update(updated)
        return {"monitor": {"id": monitor["id"]}}

    def _deleteMonitor(self, form: dict) -> dict:  # noqa: N802
        monitor = self._existing(form)
        del self.monitors[monitor["id"]]
        return {"monitor": {"id": monitor["id"]}}

    def _getAlertContacts(self, form: dict) -> dict:  # noqa: N802
        offset, limit = self._page(form)
        items = [dict(self.contacts[k]) for k in sorted(self.contacts)]
        return {"offset": offset, "limit": limit, "total": len(items), "alert_contacts": items[offset:offset + limit]}

    def _newAlertContact(self, form: dict) -> dict:  # noqa: N802
        kind = self._int(form, "type", 1, 23, required=True)
        if not form.get("value"):
            raise Fail("missing_parameter", "value")
        if kind == 2 and not re.match(r"^[^@\s]+@[^@\s]+$", form["value"]):
            raise Fail("invalid_parameter", "value", passed=form["value"])
        if kind == 11 and not form["value"].startswith("https://") and not form["value"].startswith("http://"):
            raise Fail("invalid_parameter", "value", passed=form["value"])
        cid = str(self._id())
        self.contacts[cid] = {"id": cid, "friendly_name": form.get("friendly_name", ""), "type": kind,
                              "status": 2, "value": form["value"]}
        return {"alertcontact": {"id": cid, "status": 0}}
