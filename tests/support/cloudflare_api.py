"""A local stand-in for the Cloudflare API v4 that enforces the documented request shapes.

    api = CloudflareAPI(tokens=["t0ken"]).start()   # https://127.0.0.1:PORT/client/v4
    zone_id = api.add_zone("shop.test")
    ... point the client or the module at api.url with api.ca_file (its own TestCA's root,
        or the root of the ``ca`` given): the client refuses http:// API URLs ...
    api.records("shop.test")      # what the zone holds now
    api.requests                  # every request, for assertions
    api.stop()

Built as a small router over an in-memory store so other endpoints can be added
with ``route(method, pattern, handler)`` (zone settings, rulesets...): a handler
gets a Request and the pattern's named groups, returns (status, result) or
(status, result, result_info), or raises ApiError.  Every answer is the v4
envelope {success, errors, messages, result[, result_info]}.

What is enforced, as documented for API tokens and DNS records:

- ``Authorization: Bearer <token>`` with a known token (400/9106 without, 403/10000 wrong);
- bodies only as ``Content-Type: application/json`` (400/6003), valid JSON objects (400/9207);
- known query parameters only, page >= 1 and per_page within the endpoint's bounds;
- DNS records: known type, name inside the zone, content valid for the type, ttl 1 or
  60-86400, proxied only for A/AAAA/CNAME, MX priority 0-65535, TXT strings of at most
  255 octets and content of at most 2048 characters, no unknown fields, no identical
  record twice (81058), CNAME exclusive at its name (81053);
- unknown paths 400/7003, unknown record ids 404/81044, wrong methods 405/10405.

Also (for the edge_cloudflare role): zone settings (GET/PATCH /zones/{id}/settings/{name},
values checked), rulesets (GET /zones/{id}/rulesets, GET/PUT .../rulesets/phases/{phase}/entrypoint,
rules checked per phase: actions, managed ruleset ids, ratelimit periods), and ``fail()`` to
answer the next matching requests with an error (429, 5xx) before the token is even looked at.

Threads of the test process: ``stop()`` leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import ssl
import tempfile
import threading
import typing as t
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

from tests.support import http_server, pki

BASE = "/client/v4"
RECORD_TYPES = ("A", "AAAA", "CAA", "CERT", "CNAME", "DNSKEY", "DS", "HTTPS", "LOC", "MX", "NAPTR", "NS", "PTR",
                "SMIMEA", "SRV", "SSHFP", "SVCB", "TLSA", "TXT", "URI")
DATA_TYPES = ("CAA", "CERT", "DNSKEY", "DS", "HTTPS", "LOC", "NAPTR", "SMIMEA", "SRV", "SSHFP", "SVCB", "TLSA", "URI")
PROXIABLE = ("A", "AAAA", "CNAME")
RECORD_FIELDS = {"type", "name", "content", "ttl", "proxied", "priority", "comment", "tags", "data", "settings", "id"}
_HOST_RE = re.compile(r"^(?=.{1,253}$)(\*\.)?([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
                      r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


class ApiError(Exception):
    """An error answer: HTTP status, Cloudflare error code and message (optionally an error_chain)."""

    def __init__(self, status: int, code: int, message: str, chain: list | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.chain = status, code, message, chain or []

    def errors(self) -> list:
        err: dict = {"code": self.code, "message": self.message}
        if self.chain:
            err["error_chain"] = [{"code": c, "message": m} for c, m in self.chain]
        return [err]


class Request:
    def __init__(self, method: str, path: str, query: dict, headers: t.Any, raw: bytes) -> None:
        self.method, self.path, self.query, self.headers, self.raw = method, path, query, headers, raw

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def allow_params(self, *names: str) -> None:
        unknown = sorted(set(self.query) - set(names))
        if unknown:
            raise ApiError(400, 1001, "Unknown query parameter(s): %s" % ", ".join(unknown))

    def page(self, minimum: int, maximum: int, default: int) -> tuple:
        try:
            page = int(self.param("page", "1"))
            per_page = int(self.param("per_page", str(default)))
        except ValueError:
            raise ApiError(400, 1002, "page and per_page must be integers") from None
        if page < 1:
            raise ApiError(400, 1002, "page must be at least 1")
        if not minimum <= per_page <= maximum:
            raise ApiError(400, 1002, "per_page must be between %d and %d" % (minimum, maximum))
        return page, per_page

    def json(self) -> dict:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError(400, 6003, "Invalid request headers",
                           [(6105, "Invalid Content-Type header, valid values are application/json,multipart/form-data")])
        try:
            body = json.loads(self.raw.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, 9207, "Request body is invalid.") from None
        if not isinstance(body, dict):
            raise ApiError(400, 9207, "Request body is invalid.")
        return body


def _paged(items: list, page: int, per_page: int) -> tuple:
    total = len(items)
    pages = max(1, (total + per_page - 1) // per_page)
    chunk = items[(page - 1) * per_page:page * per_page]
    return chunk, {"page": page, "per_page": per_page, "count": len(chunk), "total_count": total,
                   "total_pages": pages}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def txt_strings(content: str) -> list | None:
    """The character-strings of quoted TXT content, or None when it is not quoted."""
    content = content.strip()
    if not content.startswith('"'):
        return None
    out, current, inside, i = [], [], False, 0
    while i < len(content):
        ch = content[i]
        if inside:
            if ch == "\\" and i + 1 < len(content):
                current.append(content[i + 1])
                i += 2
                continue
            if ch == '"':
                out.append("".join(current))
                current, inside = [], False
            else:
                current.append(ch)
        elif ch == '"':
            inside = True
        elif not ch.isspace():
            raise ApiError(400, 9004, "TXT content: text outside quotation marks")
        i += 1
    if inside:
        raise ApiError(400, 9004, "TXT content: unterminated quotation mark")
    return out


class CloudflareAPI:
    """The server: zones and their DNS records in memory, a router, a request log."""

    def __init__(self, tokens: t.Sequence[str] = ("test-token",), address: str = "127.0.0.1", port: int = 0,
                 ca: t.Any = None) -> None:
        self.tokens = set(tokens)
        self.address, self.port = address, port
        self.ca = ca if ca is not None else pki.TestCA("cloudflare stand-in")  # https always, like the real API
        self.ca_file: str | None = None
        self.zones: dict = {}  # id -> {"zone": dict, "records": {id: record}}
        self.requests: list = []
        self._routes: list = []
        self._lock = threading.Lock()
        self._server: http_server.BackgroundServer | None = None
        self._tmp: str | None = None
        self.route("GET", r"/zones", self.list_zones)
        self.route("GET", r"/zones/(?P<zone_id>[0-9a-f]{32})", self.get_zone)
        self.route("GET", r"/zones/(?P<zone_id>[0-9a-f]{32})/dns_records", self.list_records)
        self.route("POST", r"/zones/(?P<zone_id>[0-9a-f]{32})/dns_records", self.create_record)
        for method, handler in (("GET", self.get_record), ("PUT", self.put_record), ("PATCH", self.patch_record),
                                ("DELETE", self.delete_record)):
            self.route(method, r"/zones/(?P<zone_id>[0-9a-f]{32})/dns_records/(?P<record_id>[0-9a-f]{32})", handler)
        self._faults: list = []
        self._add_edge_routes()

    # -- life cycle

    @property
    def url(self) -> str:
        return "https://%s:%d%s" % (self.address, self.port, BASE)

    def start(self) -> "CloudflareAPI":
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: t.Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, envelope = api.dispatch(self.command, self.path, self.headers, raw)
                data = json.dumps(envelope).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._tmp = tempfile.mkdtemp(prefix="cf-api-")
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

        def wrap(sock):
            return context.wrap_socket(sock, server_side=True)
        self._server = http_server.BackgroundServer(self.address, self.port, Handler, "cloudflare-api", wrap)
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None
        if self._tmp:
            for name in os.listdir(self._tmp):
                os.unlink(os.path.join(self._tmp, name))
            os.rmdir(self._tmp)
            self._tmp = None

    # -- routing

    def route(self, method: str, pattern: str, handler: t.Callable) -> None:
        """Add an endpoint: ``pattern`` is a regular expression for the path after /client/v4."""
        self._routes.append((method.upper(), re.compile(pattern + r"\Z"), handler))

    def dispatch(self, method: str, target: str, headers: t.Any, raw: bytes) -> tuple:
        split = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        entry = {"method": method, "path": split.path, "query": {k: v[-1] for k, v in query.items()},
                 "authorization": headers.get("Authorization"), "content_type": headers.get("Content-Type"),
                 "body": None}
        try:
            if raw:
                try:
                    entry["body"] = json.loads(raw.decode("utf-8"))
                except ValueError:
                    entry["body"] = raw.decode("utf-8", "replace")
            with self._lock:
                self.requests.append(entry)
            result = self._dispatch(method, split.path, query, headers, raw)
        except ApiError as exc:
            entry["status"] = exc.status
            return exc.status, {"success": False, "errors": exc.errors(), "messages": [], "result": None}
        status, body = result[0], result[1]
        envelope = {"success": True, "errors": [], "messages": [], "result": body}
        if len(result) > 2:
            envelope["result_info"] = result[2]
        entry["status"] = status
        return status, envelope

    def _dispatch(self, method: str, path: str, query: dict, headers: t.Any, raw: bytes) -> tuple:
        self._injected_fault(method, path)
        if not path.startswith(BASE + "/"):
            raise ApiError(400, 7003, "Could not route to %s, perhaps your object identifier is invalid?" % path)
        rest = path[len(BASE):]
        auth = headers.get("Authorization") or ""
        if not auth:
            raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        if not auth.startswith("Bearer ") or auth[len("Bearer "):] not in self.tokens:
            raise ApiError(403, 10000, "Authentication error")
        allowed = []
        for route_method, pattern, handler in self._routes:
            match = pattern.match(rest)
            if match:
                if route_method == method:
                    with self._lock:
                        return handler(Request(method, rest, query, headers, raw), **match.groupdict())
                allowed.append(route_method)
        if allowed:
            raise ApiError(405, 10405, "Method %s not allowed for this endpoint (allowed: %s)"
                           % (method, ", ".join(sorted(set(allowed)))))
        raise ApiError(400, 7003, "Could not route to %s, perhaps your object identifier is invalid?" % path)

    # -- store helpers (for tests)

    def add_zone(self, name: str) -> str:
        zone_id = uuid.uuid4().hex
        self.zones[zone_id] = {"zone": {"id": zone_id, "name": name.lower().rstrip("."), "status": "active",
                                        "paused": False, "type": "full", "name_servers": [
                                            "ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]},
                               "records": {}}
        return zone_id

    def zone_id(self, name: str) -> str:
        for zone_id, entry in self.zones.items():
            if entry["zone"]["name"] == name.lower().rstrip("."):
                return zone_id
        raise KeyError(name)

    def add_record(self, zone: str, body: dict) -> dict:
        """Store a record directly (validated like a POST)."""
        zone_id = self.zone_id(zone)
        with self._lock:
            return self._store(zone_id, self._validate(zone_id, dict(body), None))

    def records(self, zone: str, name: str | None = None, rtype: str | None = None) -> list:
        entry = self.zones[self.zone_id(zone)]
        return [dict(r) for r in entry["records"].values()
                if (name is None or r["name"] == name.lower().rstrip(".")) and (rtype is None or r["type"] == rtype)]

    def writes(self) -> list:
        """Requests that change something (POST, PUT, PATCH, DELETE)."""
        return [r for r in self.requests if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]

    # -- zones

    def _zone(self, zone_id: str) -> dict:
        if zone_id not in self.zones:
            raise ApiError(400, 7003, "Could not route to /zones/%s, perhaps your object identifier is invalid?"
                           % zone_id)
        return self.zones[zone_id]

    def list_zones(self, req: Request) -> tuple:
        req.allow_params("name", "status", "page", "per_page", "order", "direction", "match", "account.id",
                         "account.name")
        page, per_page = req.page(5, 50, 20)
        name = req.param("name")
        zones = [e["zone"] for e in self.zones.values() if name is None or e["zone"]["name"] == name.lower()]
        chunk, info = _paged(sorted(zones, key=lambda z: z["name"]), page, per_page)
        return 200, chunk, info

    def get_zone(self, req: Request, zone_id: str) -> tuple:
        req.allow_params()
        return 200, self._zone(zone_id)["zone"]

    # -- DNS records

    def list_records(self, req: Request, zone_id: str) -> tuple:
        req.allow_params("type", "name", "name.exact", "content", "content.exact", "proxied", "page", "per_page",
                         "order", "direction", "match", "comment", "tag")
        entry = self._zone(zone_id)
        page, per_page = req.page(5, 5000000, 100)
        rtype = req.param("type")
        if rtype is not None and rtype not in RECORD_TYPES:
            raise ApiError(400, 1004, "DNS Validation Error", [(9000, "type %s is not a DNS record type" % rtype)])
        name = req.param("name.exact", req.param("name"))
        content = req.param("content.exact", req.param("content"))
        items = [r for r in entry["records"].values()
                 if (rtype is None or r["type"] == rtype)
                 and (name is None or r["name"] == name.lower().rstrip("."))
                 and (content is None or r.get("content") == content)]
        chunk, info = _paged(sorted(items, key=lambda r: (r["type"], r["name"], r["created_on"])), page, per_page)
        return 200, [dict(r) for r in chunk], info

    def _record(self, zone_id: str, record_id: str) -> dict:
        records = self._zone(zone_id)["records"]
        if record_id not in records:
            raise ApiError(404, 81044, "Record does not exist.")
        return records[record_id]

    def get_record(self, req: Request, zone_id: str, record_id: str) -> tuple:
        req.allow_params()
        return 200, dict(self._record(zone_id, record_id))

    def create_record(self, req: Request, zone_id: str) -> tuple:
        req.allow_params()
        self._zone(zone_id)
        return 200, dict(self._store(zone_id, self._validate(zone_id, req.json(), None)))

    def put_record(self, req: Request, zone_id: str, record_id: str) -> tuple:
        req.allow_params()
        old = self._record(zone_id, record_id)
        record = self._validate(zone_id, req.json(), record_id)
        return 200, dict(self._store(zone_id, record, old))

    def patch_record(self, req: Request, zone_id: str, record_id: str) -> tuple:
        req.allow_params()
        old = self._record(zone_id, record_id)
        body = req.json()
        merged = {k: old[k] for k in ("type", "name", "content", "ttl", "proxied", "comment", "tags", "priority",
                                      "data") if k in old and old[k] is not None}
        merged.update(body)
        record = self._validate(zone_id, merged, record_id)
        return 200, dict(self._store(zone_id, record, old))

    def delete_record(self, req: Request, zone_id: str, record_id: str) -> tuple:
        req.allow_params()
        self._record(zone_id, record_id)
        del self.zones[zone_id]["records"][record_id]
        return 200, {"id": record_id}

    def _store(self, zone_id: str, record: dict, old: dict | None = None) -> dict:
        zone = self.zones[zone_id]["zone"]
        now = _now()
        record.update(id=old["id"] if old else uuid.uuid4().hex, zone_id=zone_id, zone_name=zone["name"],
                      proxiable=record["type"] in PROXIABLE, locked=False, meta={}, settings=record.get("settings", {}),
                      created_on=old["created_on"] if old else now, modified_on=now)
        record.setdefault("comment", None)
        record.setdefault("tags", [])
        self.zones[zone_id]["records"][record["id"]] = record
        return record

    def _validate(self, zone_id: str, body: dict, record_id: str | None) -> dict:
        def invalid(code: int, message: str) -> ApiError:
            return ApiError(400, 1004, "DNS Validation Error", [(code, message)])

        unknown = sorted(set(body) - RECORD_FIELDS)
        if unknown:
            raise invalid(9207, "Unknown field(s): %s" % ", ".join(unknown))
        rtype = body.get("type")
        if rtype not in RECORD_TYPES:
            raise invalid(9000, "type is required and must be a DNS record type (got %r)" % (rtype,))
        zone = self.zones[zone_id]["zone"]["name"]
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise invalid(9007, "name is required")
        name = name.lower().rstrip(".")
        if name != zone and not name.endswith("." + zone):
            raise invalid(9007, "name %s is not inside the zone %s" % (name, zone))
        if len(name) > 255 or not _HOST_RE.match(name):
            raise invalid(9007, "name %s is not a valid DNS name" % name)
        record: dict = {"type": rtype, "name": name}
        ttl = body.get("ttl", 1)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not (ttl == 1 or 60 <= ttl <= 86400):
            raise invalid(9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
        record["ttl"] = ttl
        if "proxied" in body:
            if not isinstance(body["proxied"], bool):
                raise invalid(9003, "proxied must be true or false")
            if body["proxied"] and rtype not in PROXIABLE:
                raise invalid(9004, "This record type cannot be proxied.")
        record["proxied"] = bool(body.get("proxied", False)) if rtype in PROXIABLE else False
        if "comment" in body:
            if body["comment"] is not None and not isinstance(body["comment"], str):
                raise invalid(9101, "comment must be a string")
            record["comment"] = body["comment"]
        if "tags" in body:
            if not isinstance(body["tags"], list) or not all(isinstance(x, str) for x in body["tags"]):
                raise invalid(9101, "tags must be a list of strings")
            record["tags"] = body["tags"]
        if rtype in DATA_TYPES:
            if not isinstance(body.get("data"), dict):
                raise invalid(9101, "data is required for %s records" % rtype)
            record["data"] = body["data"]
            if rtype == "CAA":
                data = body["data"]
                record["content"] = '%s %s "%s"' % (data.get("flags", 0), data.get("tag", ""), data.get("value", ""))
        else:
            content = body.get("content")
            if not isinstance(content, str) or not content:
                raise invalid(9005, "content is required for %s records" % rtype)
            self._check_content(rtype, content, invalid)
            record["content"] = content
        if rtype == "MX":
            priority = body.get("priority")
            if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 65535:
                raise invalid(9100, "MX records need a priority from 0 to 65535")
            record["priority"] = priority
        elif "priority" in body and rtype not in ("SRV", "URI"):
            raise invalid(9100, "priority is only for MX, SRV and URI records")
        others = [r for r in self.zones[zone_id]["records"].values() if r["id"] != record_id and r["name"] == name]
        if any(r["type"] == rtype and r.get("content") == record.get("content") for r in others):
            raise ApiError(400, 81058, "An identical record already exists.")
        if rtype == "CNAME" and others:
            raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        if any(r["type"] == "CNAME" for r in others):
            raise ApiError(400, 81054, "A CNAME record with that host already exists.")
        return record

    @staticmethod
    def _check_content(rtype: str, content: str, invalid: t.Callable) -> None:
        if rtype in ("A", "AAAA"):
            try:
                address = ipaddress.ip_address(content)
            except ValueError:
                address = None
            if address is None or address.version != (4 if rtype == "A" else 6):
                raise invalid(9005 if rtype == "A" else 9006, "Content for %s record must be a valid IPv%d address."
                              % (rtype, 4 if rtype == "A" else 6))
        elif rtype in ("CNAME", "MX", "NS", "PTR"):
            if not _HOST_RE.match(content.rstrip(".")):
                raise invalid(9005, "Content for %s record must be a valid host name." % rtype)
        elif rtype == "TXT":
            if len(content) > 2048:
                raise invalid(9005, "TXT content is limited to 2048 characters.")
            strings = txt_strings(content)
            for string in strings or []:
                if len(string.encode("utf-8")) > 255:
                    raise invalid(9005, "Each quoted string of a TXT record is limited to 255 octets.")

    # -- injected faults (rate limiting, Cloudflare's own errors)

    def fail(self, status: int, code: int, message: str, times: int = 1, method: str | None = None,
             path: str | None = None) -> None:
        """Answer the next ``times`` requests (matching ``method`` and the ``path`` regex) with this error."""
        self._faults.append({"status": status, "code": code, "message": message, "left": times,
                             "method": method, "path": re.compile(path) if path else None})

    def _injected_fault(self, method: str, path: str) -> None:
        with self._lock:
            for fault in self._faults:
                if fault["left"] > 0 and (fault["method"] in (None, method)) \
                        and (fault["path"] is None or fault["path"].search(path)):
                    fault["left"] -= 1
                    raise ApiError(fault["status"], fault["code"], fault["message"])

    # -- zone settings and rulesets (the edge_cloudflare role)
    #
    # GET/PATCH /zones/{id}/settings/{name} with {"value": ...}; GET /zones/{id}/settings;
    # GET /zones/{id}/rulesets; GET/PUT /zones/{id}/rulesets/phases/{phase}/entrypoint.

    SETTINGS = {
        "ssl": ("off", ("off", "flexible", "full", "strict")),
        "always_use_https": ("off", ("on", "off")),
        "automatic_https_rewrites": ("off", ("on", "off")),
        "min_tls_version": ("1.0", ("1.0", "1.1", "1.2", "1.3")),
        "tls_1_3": ("on", ("on", "off", "zrt")),
        "http3": ("on", ("on", "off")),
        "security_level": ("medium", ("off", "essentially_off", "low", "medium", "high", "under_attack")),
        "browser_check": ("on", ("on", "off")),
        "security_header": ({"strict_transport_security": {"enabled": False, "max_age": 0, "include_subdomains": False,
                                                           "preload": False, "nosniff": False}}, None),
    }
    PHASES = {
        "http_request_firewall_managed": ("execute", "skip", "log"),
        "http_request_firewall_custom": ("block", "challenge", "js_challenge", "managed_challenge", "log", "skip"),
        "http_ratelimit": ("block", "challenge", "js_challenge", "managed_challenge", "log"),
        "http_request_cache_settings": ("set_cache_settings",),
    }
    RULE_FIELDS = {"id", "ref", "description", "expression", "action", "action_parameters", "ratelimit", "enabled",
                   "logging"}
    RATELIMIT_PERIODS = (10, 60, 120, 300, 600, 3600)
    MITIGATION_TIMEOUTS = (0, 10, 60, 120, 300, 600, 3600, 86400)

    def _add_edge_routes(self) -> None:
        zone = r"/zones/(?P<zone_id>[0-9a-f]{32})"
        self.route("GET", zone + r"/settings", self.list_settings)
        self.route("GET", zone + r"/settings/(?P<name>[a-z0-9_]+)", self.get_setting)
        self.route("PATCH", zone + r"/settings/(?P<name>[a-z0-9_]+)", self.patch_setting)
        self.route("GET", zone + r"/rulesets", self.list_rulesets)
        self.route("GET", zone + r"/rulesets/phases/(?P<phase>[a-z_]+)/entrypoint", self.get_entrypoint)
        self.route("PUT", zone + r"/rulesets/phases/(?P<phase>[a-z_]+)/entrypoint", self.put_entrypoint)

    def settings(self, zone: str) -> dict:
        """{name: value} of a zone's settings (for tests)."""
        entry = self.zones[self.zone_id(zone)]
        return {name: entry.setdefault("settings", {}).get(name, default)
                for name, (default, _choices) in self.SETTINGS.items()}

    def set_setting(self, zone: str, name: str, value: t.Any) -> None:
        self.zones[self.zone_id(zone)].setdefault("settings", {})[name] = value

    def entrypoint(self, zone: str, phase: str) -> dict | None:
        return self.zones[self.zone_id(zone)].setdefault("rulesets", {}).get(phase)

    def _setting(self, zone_id: str, name: str) -> dict:
        entry = self._zone(zone_id)
        if name not in self.SETTINGS:
            raise ApiError(400, 1006, "Unrecognized zone setting name")
        value = entry.setdefault("settings", {}).get(name, self.SETTINGS[name][0])
        stamps = entry.setdefault("settings_modified", {})
        return {"id": name, "value": json.loads(json.dumps(value)), "editable": True,
                "modified_on": stamps.get(name)}

    def list_settings(self, req: Request, zone_id: str) -> tuple:
        req.allow_params()
        return 200, [self._setting(zone_id, name) for name in sorted(self.SETTINGS)]

    def get_setting(self, req: Request, zone_id: str, name: str) -> tuple:
        req.allow_params()
        return 200, self._setting(zone_id, name)

    def patch_setting(self, req: Request, zone_id: str, name: str) -> tuple:
        req.allow_params()
        current = self._setting(zone_id, name)
        body = req.json()
        if set(body) != {"value"}:
            raise ApiError(400, 1007, "Invalid value for zone setting %s: the body must be {\"value\": ...}" % name)
        value = body["value"]
        default, choices = self.SETTINGS[name]
        if choices is not None and value not in choices:
            raise ApiError(400, 1007, "Invalid value for zone setting %s" % name)
        if choices is None:
            hsts = value.get("strict_transport_security") if isinstance(value, dict) else None
            types = {"enabled": bool, "max_age": int, "include_subdomains": bool, "preload": bool, "nosniff": bool}
            if not isinstance(hsts, dict) or set(value) != {"strict_transport_security"} \
                    or any(k not in types or not isinstance(v, types[k]) for k, v in hsts.items()):
                raise ApiError(400, 1007, "Invalid value for zone setting security_header")
            merged = json.loads(json.dumps(current["value"]))
            merged["strict_transport_security"].update(hsts)
            value = merged
        self.zones[zone_id].setdefault("settings", {})[name] = value
        self.zones[zone_id].setdefault("settings_modified", {})[name] = _now()
        return 200, self._setting(zone_id, name)

    def list_rulesets(self, req: Request, zone_id: str) -> tuple:
        req.allow_params()
        rulesets = self._zone(zone_id).setdefault("rulesets", {})
        return 200, [{k: v for k, v in r.items() if k != "rules"} for r in rulesets.values()]

    def _phase(self, phase: str) -> None:
        if phase not in self.PHASES:
            raise ApiError(400, 20118, "%s is not a valid phase" % phase)

    def get_entrypoint(self, req: Request, zone_id: str, phase: str) -> tuple:
        req.allow_params()
        self._phase(phase)
        ruleset = self._zone(zone_id).setdefault("rulesets", {}).get(phase)
        if ruleset is None:
            raise ApiError(404, 10003, "could not find entrypoint ruleset in the %s phase" % phase)
        return 200, json.loads(json.dumps(ruleset))

    def put_entrypoint(self, req: Request, zone_id: str, phase: str) -> tuple:
        req.allow_params()
        self._phase(phase)
        body = req.json()
        unknown = sorted(set(body) - {"rules", "description", "name", "kind", "phase"})
        if unknown:
            raise ApiError(400, 20021, "unknown field(s): %s" % ", ".join(unknown))
        rules = body.get("rules")
        if not isinstance(rules, list):
            raise ApiError(400, 20021, "rules must be a list")
        rulesets = self._zone(zone_id).setdefault("rulesets", {})
        current = rulesets.get(phase)
        known = {r["id"]: r for r in (current or {}).get("rules", [])}
        stored, refs = [], set()
        now = _now()
        for n, rule in enumerate(rules):
            self._validate_rule(phase, rule, n, known)
            ref = rule.get("ref") or rule.get("id") or None
            if ref in refs:
                raise ApiError(400, 20217, "rules[%d]: duplicate ref %s" % (n, ref))
            old = known.get(rule.get("id", ""))
            rid = old["id"] if old else uuid.uuid4().hex
            item = {k: v for k, v in rule.items() if k != "id"}
            item.setdefault("enabled", True)
            same = old is not None and all(old.get(k) == item.get(k) for k in self.RULE_FIELDS - {"id"})
            item.update(id=rid, ref=ref or rid, version=old["version"] if same else
                        str(int(old["version"]) + 1 if old else 1), last_updated=old["last_updated"] if same else now)
            refs.add(item["ref"])
            stored.append(item)
        version = str(int(current["version"]) + 1) if current else "1"
        ruleset = {"id": current["id"] if current else uuid.uuid4().hex, "name": body.get("name", "default"),
                   "description": body.get("description", (current or {}).get("description", "")),
                   "kind": "zone", "phase": phase, "version": version, "last_updated": now, "rules": stored}
        rulesets[phase] = ruleset
        return 200, json.loads(json.dumps(ruleset))

    def _validate_rule(self, phase: str, rule: t.Any, n: int, known: dict) -> None:
        def bad(message: str) -> ApiError:
            return ApiError(400, 20021, "rules[%d]: %s" % (n, message))

        if not isinstance(rule, dict):
            raise bad("a rule must be an object")
        unknown = sorted(set(rule) - self.RULE_FIELDS)
        if unknown:
            raise bad("unknown field(s): %s" % ", ".join(unknown))
        if "id" in rule and rule["id"] not in known:
            raise bad("rule id %s does not exist in this ruleset" % rule["id"])
        if not isinstance(rule.get("expression"), str) or not rule["expression"].strip():
            raise bad("expression is required")
        if rule["expression"].count("(") != rule["expression"].count(")"):
            raise bad("filter parsing error: unbalanced parentheses in %r" % rule["expression"])
        action = rule.get("action")
        if action not in self.PHASES[phase]:
            raise bad("action %r is not allowed in the %s phase" % (action, phase))
        for key, kind in (("description", str), ("ref", str), ("enabled", bool), ("action_parameters", dict),
                          ("ratelimit", dict)):
            if key in rule and not isinstance(rule[key], kind):
                raise bad("%s must be a %s" % (key, kind.__name__))
        params = rule.get("action_parameters") or {}
        if action == "execute" and not (isinstance(params.get("id"), str) and re.match(r"^[0-9a-f]{32}$", params["id"])):
            raise bad("execute needs action_parameters.id, the id of a managed ruleset")
        if action == "set_cache_settings" and not isinstance(params.get("cache"), bool):
            raise bad("set_cache_settings needs action_parameters.cache (true or false)")
        if phase == "http_ratelimit":
            limit = rule.get("ratelimit")
            if not isinstance(limit, dict):
                raise bad("rate limiting rules need a ratelimit object")
            chars = limit.get("characteristics")
            if not isinstance(chars, list) or "cf.colo.id" not in chars:
                raise bad("ratelimit.characteristics must be a list holding cf.colo.id")
            if limit.get("period") not in self.RATELIMIT_PERIODS:
                raise bad("ratelimit.period must be one of %s" % (self.RATELIMIT_PERIODS,))
            rpp = limit.get("requests_per_period")
            if not isinstance(rpp, int) or isinstance(rpp, bool) or rpp < 1:
                raise bad("ratelimit.requests_per_period must be a positive integer")
            if limit.get("mitigation_timeout") not in self.MITIGATION_TIMEOUTS:
                raise bad("ratelimit.mitigation_timeout must be one of %s" % (self.MITIGATION_TIMEOUTS,))
        elif "ratelimit" in rule:
            raise bad("ratelimit is only allowed in the http_ratelimit phase")
