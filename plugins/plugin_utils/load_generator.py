# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small, bounded HTTP/1.1 load generator on asyncio streams (controller-only).

Two scenarios, both with hard caps (run duration, total requests, requests in flight):

* ``run_open``: each route at a constant arrival rate (open model).  Latency is measured
  from the *intended* send time, so a server that stalls shows up in the high percentiles
  instead of silently slowing the generator down (coordinated omission).  Requests go out on
  keep-alive connection slots (``_Slots``); the scheduler's own lateness, when this process is
  short of CPU, is reported apart as ``send_lag`` instead of being charged to the server.
* ``run_closed``: N users each walking a journey of steps one after the other, each user
  with its own connection and cookies (closed model).

It connects to the address it is given (resolved by the caller through the site's
resolvers), with SNI and Host set to the site's name, and trusts the ``ssl.SSLContext``
the caller passes (http_probe.ssl_context: the OpenSSL store plus launch_ca_bundle).
Redirects are followed only to the same scheme, host and port (the journey's login
answers 303 to the account page); anything else is recorded, never fetched.

Per route: count, errors by kind, HDR histograms of total latency and of the connect,
TLS and first-byte phases, and a per-second timeline.  Plain Python plus ``hdrh``.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import http.cookies
import json
import ssl
import time
import typing as t
import urllib.parse

try:
    from hdrh.histogram import HdrHistogram
    HAS_HDRH = True
except ImportError:  # the load check reports it: "pip install hdrhistogram" on the controller
    HdrHistogram = t.Any
    HAS_HDRH = False

USER_AGENT = "launchready.ops/0.1 (+load check)"
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
LOWEST_US, HIGHEST_US, DIGITS = 1, 3_600_000_000, 3  # 1 us to 1 h, 3 significant digits

# Error kinds, as the report groups them.
TIMEOUT = "timeout"
CONNECT = "connect"
TLS = "tls"
HTTP_4XX = "4xx"
HTTP_5XX = "5xx"
RESET = "reset"  # the connection broke mid-request
PROTOCOL = "protocol"  # not a valid HTTP answer, or over a cap
OFF_SITE = "off_site_redirect"
NOT_SENT = "not_sent"  # its send time came after the run's deadline (open model): counted, never a pass
ERROR_KINDS = (TIMEOUT, CONNECT, TLS, HTTP_4XX, HTTP_5XX, RESET, PROTOCOL, OFF_SITE, NOT_SENT)


class CapReached(Exception):
    """The run's total-request cap is spent."""


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where requests go: the site's name (SNI, Host) and the resolved address to connect to."""

    scheme: str
    host: str
    port: int
    address: str
    ssl_context: ssl.SSLContext | None = None

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else "%s:%d" % (self.host, self.port)


@dataclasses.dataclass(frozen=True)
class Step:
    """One request: ``route`` names it in the report; ``form`` or ``json_body`` make it a POST body."""

    route: str
    path: str
    method: str = "GET"
    json_body: t.Any = None
    form: dict | None = None
    headers: tuple = ()

    def body(self) -> tuple:
        if self.json_body is not None:
            return json.dumps(self.json_body).encode(), "application/json"
        if self.form is not None:
            return urllib.parse.urlencode(self.form).encode(), "application/x-www-form-urlencoded"
        return b"", None


@dataclasses.dataclass
class Caps:
    duration: float = 30.0     # seconds requests are sent; what is in flight then gets ``timeout`` more, no longer
    max_requests: int = 2000   # requests sent, over the whole run (shared by every scenario)
    in_flight: int = 50        # requests outstanding at once
    timeout: float = 5.0       # one request's total deadline (connect, TLS, headers, body)


def _histogram() -> HdrHistogram:
    if not HAS_HDRH:
        raise RuntimeError("the load check needs the Python package hdrhistogram on the controller "
                           "(pip install hdrhistogram)")
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def _record(hist: HdrHistogram, seconds: float) -> None:
    hist.record_value(min(HIGHEST_US, max(LOWEST_US, int(seconds * 1_000_000))))


class _Samples:
    """Latencies in microseconds, kept in a plain list while the run goes and folded into an
    HDR histogram when read: a list append costs a fraction of hdrh's record_value, which
    would otherwise be a fifth of the generator's CPU per request."""

    __slots__ = ("hist", "values")

    def __init__(self) -> None:
        self.hist = _histogram()
        self.values: list = []

    def add(self, seconds: float) -> None:
        self.values.append(min(HIGHEST_US, max(LOWEST_US, int(seconds * 1_000_000))))

    def histogram(self) -> HdrHistogram:
        if self.values:
            for value, count in collections.Counter(self.values).items():
                self.hist.record_value(value, count)
            self.values = []
        return self.hist


def _ms(hist: HdrHistogram, percentile: float) -> float | None:
    if hist.get_total_count() == 0:
        return None
    return round(hist.get_value_at_percentile(percentile) / 1000.0, 1)


@dataclasses.dataclass
class RouteStats:
    route: str
    count: int = 0
    ok: int = 0
    errors: dict = dataclasses.field(default_factory=dict)  # kind -> count
    statuses: dict = dataclasses.field(default_factory=dict)  # "200" -> count
    latency: _Samples = dataclasses.field(default_factory=_Samples)
    connect: _Samples = dataclasses.field(default_factory=_Samples)
    tls: _Samples = dataclasses.field(default_factory=_Samples)
    first_byte: _Samples = dataclasses.field(default_factory=_Samples)
    timeline: dict = dataclasses.field(default_factory=dict)  # second -> [count, errors, _Samples]
    db_queries: list = dataclasses.field(default_factory=list)  # (second, queries) from a response header

    def add(self, result: "Result", second: int) -> None:
        self.count += 1
        self.latency.add(result.latency)
        if result.connect is not None:
            self.connect.add(result.connect)
        if result.tls is not None:
            self.tls.add(result.tls)
        if result.first_byte is not None:
            self.first_byte.add(result.first_byte)
        if result.status is not None:
            key = str(result.status)
            self.statuses[key] = self.statuses.get(key, 0) + 1
        if result.error:
            self.errors[result.error] = self.errors.get(result.error, 0) + 1
        else:
            self.ok += 1
        slot = self.timeline.get(second)
        if slot is None:  # never setdefault(..., _histogram()): that builds a histogram per request
            slot = self.timeline[second] = [0, 0, _Samples()]
        slot[0] += 1
        slot[1] += 1 if result.error else 0
        slot[2].add(result.latency)
        if result.db_queries is not None:
            self.db_queries.append((second, result.db_queries))

    def percentiles(self, samples: _Samples | None = None) -> dict:
        hist = (samples or self.latency).histogram()
        return {"p50": _ms(hist, 50), "p90": _ms(hist, 90), "p95": _ms(hist, 95), "p99": _ms(hist, 99),
                "max": round(hist.get_max_value() / 1000.0, 1) if hist.get_total_count() else None}

    def summary(self) -> dict:
        out = {"route": self.route, "count": self.count, "ok": self.ok,
               "errors": dict(sorted(self.errors.items())), "statuses": dict(sorted(self.statuses.items())),
               "error_rate": round(sum(self.errors.values()) / self.count, 4) if self.count else None}
        out.update(self.percentiles())
        out["phases"] = {name: {"p50": _ms(h, 50), "p95": _ms(h, 95), "count": h.get_total_count()}
                         for name, h in (("connect", self.connect.histogram()), ("tls", self.tls.histogram()),
                                         ("first_byte", self.first_byte.histogram()))}
        out["timeline"] = []
        for second, (count, errors, samples) in sorted(self.timeline.items()):
            hist = samples.histogram()
            out["timeline"].append({"t": second, "count": count, "errors": errors, "p50": _ms(hist, 50),
                                    "p95": _ms(hist, 95), "max": round(hist.get_max_value() / 1000.0, 1)})
        if self.db_queries:
            per_second: dict = {}
            for second, n in self.db_queries:
                per_second.setdefault(second, []).append(n)
            out["db_queries"] = [(second, round(sum(v) / len(v), 1)) for second, v in sorted(per_second.items())]
        return out


@dataclasses.dataclass
class Result:
    route: str
    latency: float  # seconds, from the due send time (open model: intended, or the scheduler's late wake) or the send
    status: int | None = None
    error: str | None = None
    detail: str = ""
    connect: float | None = None
    tls: float | None = None
    first_byte: float | None = None
    db_queries: int | None = None
    location: str | None = None
    set_cookies: list = dataclasses.field(default_factory=list)


class Recorder:
    """Every result of one scenario, per route, plus the run's budget of requests."""

    def __init__(self, budget: "Budget", started: float, query_header: str | None = None) -> None:
        self.routes: dict = {}
        self.budget = budget
        self.started = started
        self.query_header = query_header.lower() if query_header else None
        self.samples: list = []  # a few error details, for the evidence
        self.peak_in_flight = 0
        self._in_flight = 0
        self.unused_failures = 0  # connections a slot failed to open while no request waited for one
        self.send_lag = _histogram()  # open model: how late the scheduler itself was, send by send

    def add(self, result: Result) -> None:
        stats = self.routes.get(result.route)
        if stats is None:  # built once per route: four HDR histograms are costly to allocate
            stats = self.routes[result.route] = RouteStats(result.route)
        stats.add(result, int(time.monotonic() - self.started))
        if result.error and len(self.samples) < 10:
            self.samples.append({"route": result.route, "kind": result.error, "detail": result.detail[:200]})

    def enter(self) -> None:
        self._in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    def leave(self) -> None:
        self._in_flight -= 1

    def summary(self) -> dict:
        return {"routes": {name: stats.summary() for name, stats in sorted(self.routes.items())},
                "requests": sum(s.count for s in self.routes.values()),
                "peak_in_flight": self.peak_in_flight, "error_samples": self.samples,
                "unused_connect_failures": self.unused_failures,
                "send_lag": {"p50": _ms(self.send_lag, 50), "p95": _ms(self.send_lag, 95),
                             "p99": _ms(self.send_lag, 99), "max": _ms(self.send_lag, 100)}}


class Budget:
    """The total-request cap, shared by every scenario of one run."""

    def __init__(self, max_requests: int) -> None:
        self.left = max_requests
        self.spent = 0

    def take(self) -> None:
        if self.left <= 0:
            raise CapReached()
        self.left -= 1
        self.spent += 1


# --- one connection, one request ----------------------------------------------------------------

class Connection:
    """One keep-alive HTTP/1.1 connection.

    ``connect`` and ``tls`` are the phases of its last open; the first request that uses the
    connection reports them (``fresh``), whether it opened the connection itself or a slot of
    the open model opened it ahead of the request.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.usable = False
        self.fresh = False      # opened, its phases not reported yet
        self.served = 0         # requests answered since the last open
        self.requests: dict = {}  # (id(step), path, cookies) -> (step, bytes): see _request_bytes
        self.connect: float | None = None
        self.tls: float | None = None

    async def open(self) -> None:
        ep = self.endpoint
        self.close()
        self.connect = self.tls = None
        t0 = time.monotonic()
        try:
            self.reader, self.writer = await asyncio.open_connection(ep.address, ep.port, limit=MAX_HEADER_BYTES)
        except OSError as exc:
            raise _Failed(CONNECT, "%s:%d: %s" % (ep.address, ep.port, exc.strerror or exc)) from None
        t1 = time.monotonic()
        self.connect = t1 - t0
        if ep.ssl_context is not None:
            try:
                await self.writer.start_tls(ep.ssl_context, server_hostname=ep.host)
            except ssl.SSLError as exc:
                self.close()
                raise _Failed(TLS, "TLS with %s at %s: %s" % (ep.host, ep.address, exc.reason or exc)) from None
            except (OSError, EOFError) as exc:
                self.close()
                raise _Failed(TLS, "TLS with %s at %s: %s" % (ep.host, ep.address, exc)) from None
            self.tls = time.monotonic() - t1
        self.usable, self.fresh, self.served = True, True, 0

    def report_phases(self, result: "Result") -> None:
        if self.fresh:
            result.connect, result.tls, self.fresh = self.connect, self.tls, False

    def close(self) -> None:
        self.usable = False
        if self.writer is not None:
            self.writer.transport.abort()  # never wait on a peer that stopped answering
            self.writer = self.reader = None


class _Failed(Exception):
    def __init__(self, kind: str, detail: str, unanswered: bool = False) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.unanswered = unanswered  # the connection broke before a single byte of the answer


async def _read_body(reader: asyncio.StreamReader, headers: dict) -> int:
    """Read and discard the body; returns its size.  Over MAX_BODY_BYTES is a protocol error."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        size = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            chunk = int(line.split(b";")[0].strip() or b"0", 16)
            if chunk == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return size
            size += chunk
            if size > MAX_BODY_BYTES:
                raise _Failed(PROTOCOL, "body over %d bytes" % MAX_BODY_BYTES)
            await reader.readexactly(chunk + 2)
    length = int(headers.get("content-length", "0") or 0)
    if length > MAX_BODY_BYTES:
        raise _Failed(PROTOCOL, "body of %d bytes is over the %d byte cap" % (length, MAX_BODY_BYTES))
    if length:
        await reader.readexactly(length)
    return length


def _request_bytes(conn: Connection, step: Step, path: str, cookies: dict) -> bytes:
    """The request's bytes, built once per step, path and cookies on each connection."""
    key = (id(step), path, tuple(sorted(cookies.items())) if cookies else ())
    cached = conn.requests.get(key)
    if cached is not None and cached[0] is step:
        return cached[1]
    data = _build_request(conn, step, path, cookies)
    if len(conn.requests) > 64:
        conn.requests.clear()
    conn.requests[key] = (step, data)
    return data


def _build_request(conn: Connection, step: Step, path: str, cookies: dict) -> bytes:
    body, content_type = step.body() if path == step.path else (b"", None)
    method = step.method if path == step.path else "GET"
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % conn.endpoint.host_header,
             "User-Agent: %s" % USER_AGENT, "Accept: */*", "Accept-Encoding: identity"]
    if cookies:
        lines.append("Cookie: %s" % "; ".join("%s=%s" % kv for kv in sorted(cookies.items())))
    if content_type:
        lines.append("Content-Type: %s" % content_type)
    if body or method not in ("GET", "HEAD"):
        lines.append("Content-Length: %d" % len(body))
    lines.extend("%s: %s" % kv for kv in step.headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _exchange(conn: Connection, step: Step, path: str, cookies: dict, result: Result, t0: float,
                    query_header: str | None) -> bool:
    """Send ``step`` on ``conn`` and read the answer; returns whether the connection stays open."""
    if not conn.usable or conn.reader.at_eof():  # the server closed it while it sat idle
        await conn.open()
    conn.report_phases(result)
    try:
        conn.writer.write(_request_bytes(conn, step, path, cookies))
        await conn.writer.drain()
        head = await conn.reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise _Failed(PROTOCOL, "response headers over %d bytes" % MAX_HEADER_BYTES) from None
    except asyncio.IncompleteReadError as exc:
        raise _Failed(RESET, "connection closed before the answer: %s" % type(exc).__name__,
                      unanswered=not exc.partial) from None
    except (ConnectionError, OSError) as exc:
        raise _Failed(RESET, "connection closed before the answer: %s" % type(exc).__name__,
                      unanswered=True) from None
    result.first_byte = time.monotonic() - t0
    text = head.decode("latin-1").split("\r\n")
    try:
        _version, code, *_reason = text[0].split(" ", 2)
        result.status = int(code)
    except ValueError:
        raise _Failed(PROTOCOL, "not an HTTP status line: %r" % text[0][:80]) from None
    headers: dict = {}
    for line in text[1:]:
        name, _sep, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            result.set_cookies.append(value)
        elif name:
            headers[name] = value
    if query_header and query_header in headers:
        try:
            result.db_queries = int(headers[query_header])
        except ValueError:
            pass
    result.location = headers.get("location")
    try:
        await _read_body(conn.reader, headers)
    except (asyncio.IncompleteReadError, ConnectionError, OSError, ValueError) as exc:
        raise _Failed(RESET, "body cut short: %s" % type(exc).__name__) from None
    conn.served += 1
    return "close" not in headers.get("connection", "").lower()


def _same_site(endpoint: Endpoint, location: str, current: str) -> str | None:
    """The path to fetch for a redirect to ``location``, or None when it leaves scheme, host and port."""
    url = urllib.parse.urljoin("%s://%s%s" % (endpoint.scheme, endpoint.host_header, current), location)
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme != endpoint.scheme or (parts.hostname or "").lower() != endpoint.host or port != endpoint.port:
        return None
    return (parts.path or "/") + ("?" + parts.query if parts.query else "")


async def _walk(conn: Connection, step: Step, cookies: dict, result: Result, t0: float, query_header: str | None,
                follow: bool) -> None:
    path = step.path
    for _hop in range(MAX_REDIRECTS + 1):
        reused = conn.usable and conn.served > 0
        try:
            keep = await _exchange(conn, step, path, cookies, result, t0, query_header)
        except _Failed as exc:
            # A kept-alive connection the server closed while it sat idle breaks before a single
            # byte of the answer: the request never reached the server.  Send it once more on a
            # new connection, as browsers do; any other break is the request's error.
            if not (reused and exc.unanswered):
                raise
            conn.close()
            keep = await _exchange(conn, step, path, cookies, result, t0, query_header)
        for raw in result.set_cookies:
            jar = http.cookies.SimpleCookie()
            try:
                jar.load(raw)
            except http.cookies.CookieError:
                continue
            for name, morsel in jar.items():
                cookies[name] = morsel.value
        if not keep:
            conn.close()
        if not (follow and result.status in (301, 302, 303, 307, 308) and result.location):
            return
        nxt = _same_site(conn.endpoint, result.location, path)
        if nxt is None:
            raise _Failed(OFF_SITE, "redirect to %s is off the site: not followed" % result.location[:200])
        path = nxt


async def request(conn: Connection, step: Step, cookies: dict, intended: float, timeout: float,
                  query_header: str | None = None, follow: bool = False) -> Result:
    """One step on ``conn`` within ``timeout`` of ``intended``; never raises for I/O.

    The latency runs from ``intended`` (the schedule's send time: a late send is the server's
    or the generator's delay, never hidden), or from the actual send when that came first, so
    it is never shorter than the exchange itself.
    """
    result = Result(route=step.route, latency=0.0)
    t0 = time.monotonic()
    start = min(intended, t0)
    try:
        # asyncio.timeout, not wait_for: wait_for wraps every request in one more task.
        async with asyncio.timeout(max(0.001, intended + timeout - t0)):
            await _walk(conn, step, cookies, result, t0, query_header, follow)
    except TimeoutError:
        result.error, result.detail = TIMEOUT, "no complete answer within %.1f s" % timeout
        conn.close()
    except _Failed as exc:
        result.error, result.detail = exc.kind, exc.detail
        conn.close()
    except Exception as exc:  # a fault of any other shape is an error of the request, never a crash of the run
        result.error, result.detail = PROTOCOL, "%s: %s" % (type(exc).__name__, exc)
        conn.close()
    result.latency = time.monotonic() - start
    if result.error is None and result.status is not None:
        if result.status >= 500:
            result.error, result.detail = HTTP_5XX, "HTTP %d" % result.status
        elif result.status >= 400:
            result.error, result.detail = HTTP_4XX, "HTTP %d" % result.status
    return result


# --- scenarios ----------------------------------------------------------------------------------

# The open model's scheduler wakes this much before a send time: the event loop's timers fire up
# to a millisecond late (epoll's resolution), which would otherwise land in every latency.
EARLY_WAKE = 0.001
# Connection slots opening at once (open model): enough to follow a stalled server's growing
# queue, few enough that a burst of TLS handshakes does not starve the requests already running.
MAX_OPENING = 4
# How long a request waits for a busy slot before a new one is opened for it: about one answer
# (a running average), within these bounds, so a short burst is served by the open connections
# and a stalled server still gets a new connection every few milliseconds.
GROW_AFTER = (0.001, 0.010)


class _Slots:
    """The open model's connection slots: each a task holding one keep-alive connection.

    A request due goes to an idle slot (the one idle most recently, so a few connections stay
    hot) or waits in ``queue`` for the first slot that frees up.  A new slot is opened only
    while requests have waited about one answer's time (GROW_AFTER) and fewer than MAX_OPENING
    slots are opening: the connection it opens serves whichever request is still waiting when
    its handshake ends, so no request waits on a handshake that an already open connection could
    have spared it, and a burst does not leave a pool of idle connections behind.  Waiting
    counts in the latency (it runs from the due send time); the slots never exceed
    ``caps.in_flight``.
    """

    def __init__(self, endpoint: Endpoint, caps: Caps, recorder: Recorder, query_header: str | None,
                 deadline: float) -> None:
        self.endpoint, self.caps, self.recorder, self.query_header = endpoint, caps, recorder, query_header
        self.deadline = deadline  # nothing is sent after it
        self.loop = asyncio.get_running_loop()
        self.queue: collections.deque = collections.deque()  # (step, intended) waiting for a slot
        self.idle: list = []  # futures of idle slots
        self.tasks: set = set()
        self.opening = 0
        self.closing = False
        self.answer_time = GROW_AFTER[0]  # running average of one exchange, for GROW_AFTER
        self.grow_timer: asyncio.TimerHandle | None = None

    def submit(self, step: Step, intended: float) -> None:
        while self.idle:
            waiter = self.idle.pop()
            if not waiter.done():
                waiter.set_result((step, intended))
                return
        self.queue.append((step, intended))
        if not self.tasks:
            self._grow()  # nothing open yet: no slot to wait for
        elif self.grow_timer is None:
            self._grow_later()

    def _grow_later(self) -> None:
        grace = min(GROW_AFTER[1], max(GROW_AFTER[0], self.answer_time))
        self.grow_timer = self.loop.call_later(grace, self._grow_due)

    def _grow_due(self) -> None:
        self.grow_timer = None
        if self.closing or not self.queue:
            return
        self._grow()
        self._grow_later()  # still waiting next time: one more round

    def _grow(self) -> None:
        while (self.queue and len(self.tasks) < self.caps.in_flight and self.opening < MAX_OPENING
               and self.opening < len(self.queue)):
            self.opening += 1
            task = self.loop.create_task(self._slot())
            self.tasks.add(task)
            task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not self.closing:
            self._grow()  # a slot whose connection failed leaves its queue to a new one

    async def _next(self) -> tuple | None:
        if self.queue:
            return self.queue.popleft()
        if self.closing:
            return None
        waiter = self.loop.create_future()
        self.idle.append(waiter)
        return await waiter

    async def _slot(self) -> None:
        conn = Connection(self.endpoint)
        opening = True
        try:
            while True:
                if not conn.usable:
                    failure = None
                    try:
                        async with asyncio.timeout(self.caps.timeout):
                            await conn.open()
                    except TimeoutError:
                        failure = _Failed(TIMEOUT, "no connection within %.1f s" % self.caps.timeout)
                    except _Failed as exc:
                        failure = exc
                    if opening:
                        opening, self.opening = False, self.opening - 1
                    if failure is not None:
                        # The request waiting longest gets the failure: it is the one this
                        # connection was for.  A slot that cannot connect ends.
                        if self.queue:
                            step, intended = self.queue.popleft()
                            self.recorder.add(Result(route=step.route, latency=time.monotonic() - intended,
                                                     error=failure.kind, detail=failure.detail))
                        else:
                            self.recorder.unused_failures += 1
                        return
                item = await self._next()
                if item is None:
                    return
                step, intended = item
                now = time.monotonic()
                # Nothing is sent after the deadline, but for a request due just before it that
                # waited less than a slot's growth time (GROW_AFTER): that is the run's edge, not a
                # server holding every slot.
                if now >= intended + self.caps.timeout or (now >= self.deadline
                                                           and now - intended >= GROW_AFTER[1]):
                    self.recorder.add(self._unsent(step, intended, now))
                    continue
                self.recorder.enter()
                try:
                    result = await request(conn, step, {}, intended, self.caps.timeout, self.query_header)
                finally:
                    self.recorder.leave()
                self.answer_time += (time.monotonic() - now - self.answer_time) / 8
                self.recorder.add(result)
        finally:
            if opening:
                self.opening -= 1
            conn.close()

    async def finish(self, hard_end: float) -> None:
        """No more requests: let the slots empty the queue until ``hard_end``, then stop them."""
        self.closing = True
        if self.grow_timer is not None:
            self.grow_timer.cancel()
        for waiter in self.idle:
            if not waiter.done():
                waiter.set_result(None)
        self.idle.clear()
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=max(0.0, hard_end - time.monotonic()))
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        now = time.monotonic()
        while self.queue:  # never sent: the server held every slot to the end
            step, intended = self.queue.popleft()
            self.recorder.add(self._unsent(step, intended, now))

    def _unsent(self, step: Step, intended: float, now: float) -> Result:
        """A request that waited for a slot past its timeout or past the run's deadline, when
        nothing more is sent: from the customer's side it timed out, or it was never sent."""
        return Result(route=step.route, latency=now - intended,
                      error=TIMEOUT if now >= intended + self.caps.timeout else NOT_SENT,
                      detail="waited %.1f s for one of the %d in-flight slots" % (now - intended, self.caps.in_flight))


async def _open(endpoint: Endpoint, steps: t.Sequence[Step], rate: float, caps: Caps, recorder: Recorder,
                query_header: str | None) -> None:
    start = time.monotonic()
    deadline = start + caps.duration
    slots = _Slots(endpoint, caps, recorder, query_header, deadline)
    interval = 1.0 / rate  # per step: every step gets ``rate`` requests a second
    try:
        n = 0
        while True:
            intended = start + n * interval
            if intended >= deadline:
                break
            delay = intended - EARLY_WAKE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            # The scheduler's own lateness (this process short of CPU, the timer's resolution) is
            # the generator's fault, never the server's: it is kept apart in send_lag.  From
            # ``due`` on, everything counts: waiting for a slot the server holds, a handshake,
            # the answer, so a server that stalls still shows in full (coordinated omission).
            due = max(intended, time.monotonic())
            _record(recorder.send_lag, due - intended)
            try:
                for step in steps:
                    recorder.budget.take()
                    slots.submit(step, due)
            except CapReached:
                break
            n += 1
    finally:
        # Sending stopped at the deadline; what is in flight gets its own timeout, no more.
        await slots.finish(deadline + caps.timeout + 0.05)


async def _closed(endpoint: Endpoint, journeys: t.Sequence[t.Sequence[Step]], caps: Caps, recorder: Recorder,
                  query_header: str | None, think: float) -> None:
    start = time.monotonic()
    deadline = start + caps.duration
    slots = asyncio.Semaphore(caps.in_flight)

    async def user(journey: t.Sequence[Step]) -> None:
        conn = Connection(endpoint)
        cookies: dict = {}  # each user its own session
        try:
            while time.monotonic() < deadline:
                for step in journey:
                    if time.monotonic() >= deadline:
                        return
                    try:
                        recorder.budget.take()
                    except CapReached:
                        return
                    async with slots:
                        recorder.enter()
                        try:
                            result = await request(conn, step, cookies, time.monotonic(), caps.timeout,
                                                   query_header, follow=True)
                        finally:
                            recorder.leave()
                    recorder.add(result)
                    if think:
                        await asyncio.sleep(think)
        finally:
            conn.close()

    tasks = [asyncio.ensure_future(user(j)) for j in journeys]
    try:
        await asyncio.wait(tasks, timeout=caps.duration + caps.timeout + 0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _run(coro_fn: t.Callable[[Recorder], t.Awaitable[None]], budget: Budget, query_header: str | None) -> dict:
    async def main() -> dict:
        recorder = Recorder(budget, time.monotonic(), query_header)
        started = time.monotonic()
        await coro_fn(recorder)
        out = recorder.summary()
        out["elapsed_s"] = round(time.monotonic() - started, 2)
        return out
    return asyncio.run(main())


def run_open(endpoint: Endpoint, steps: t.Sequence[Step], rate: float, caps: Caps, budget: Budget | None = None,
             query_header: str | None = None) -> dict:
    """Every step at ``rate`` requests a second for ``caps.duration``; latency from the intended send time."""
    if rate <= 0:
        raise ValueError("rate must be positive, got %r" % rate)
    budget = budget or Budget(caps.max_requests)
    out = _run(lambda rec: _open(endpoint, steps, rate, caps, rec, query_header), budget, query_header)
    out.update(model="open", rate=rate, duration=caps.duration)
    return out


def run_closed(endpoint: Endpoint, journeys: t.Sequence[t.Sequence[Step]], caps: Caps, budget: Budget | None = None,
               query_header: str | None = None, think: float = 0.0) -> dict:
    """One user per journey, each walking it again and again until ``caps.duration``."""
    budget = budget or Budget(caps.max_requests)
    out = _run(lambda rec: _closed(endpoint, journeys, caps, rec, query_header, think), budget, query_header)
    out.update(model="closed", users=len(journeys), duration=caps.duration)
    return out


def burst(endpoint: Endpoint, step: Step, count: int, timeout: float) -> list:
    """``count`` copies of ``step`` sent at once, each on its own connection; their Results."""
    async def main() -> list:
        conns = [Connection(endpoint) for _n in range(count)]
        try:
            now = time.monotonic()
            return list(await asyncio.gather(*(request(c, step, {}, now, timeout) for c in conns)))
        finally:
            for conn in conns:
                conn.close()
    return asyncio.run(main())
