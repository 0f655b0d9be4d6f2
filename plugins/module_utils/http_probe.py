# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask one origin address for one URL, and walk redirect chains, as a customer would.

``fetch`` connects to the address it is given (never to whatever the local
resolver says), with SNI and Host set to the URL's host, so every origin address
of a site is probed and no /etc/hosts editing is needed.  It never follows a
redirect and never raises for a network fault: the outcome carries a classified
``error_kind`` so a check can end as ``error`` with the reason, never as pass.

``follow`` walks a redirect chain hop by hop, resolving each hop's host through
the site's resolvers, and only within the site (``off_site``): the audited site
must not make the controller fetch anything else.  ``variants`` walks http/https
x every host x every address (at most ``MAX_ADDRESSES_PER_NAME`` per name).
Both memoize in the run's ``Probes`` so all http.* checks share the requests.

Plain Python, stdlib only: no Ansible imports.
"""

from __future__ import annotations

import dataclasses
import email.utils
import errno
import functools
import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import (
    dns_query,
    parallel,
    probe_budget,
    tls_pin,
    tls_probe,
)
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

MAX_BODY = 512 * 1024
MAX_HOPS = 10
# A name may resolve to thousands of addresses (the audited site's DNS decides): probe a few.
MAX_ADDRESSES_PER_NAME = 16
# Redirect walks (scheme x host x address) and host lookups at once.
WALK_WORKERS = 16
RESOLVE_WORKERS = 8
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
USER_AGENT = "launchready.ops/0.1 (+launch audit)"

# error_kind values: the outcome of a fetch that got no complete response.
TIMEOUT = "timeout"
REFUSED = "refused"
RESET = "reset"
TLS = "tls"
PROTOCOL = "protocol"
DNS = "dns"
UNREACHABLE = "unreachable"  # no route / address not available: a network fault, not the server's answer
LIMITED = "rate_limited"  # the site kept answering 429/503 to a polite, retried GET (polite_fetch)
ERROR_KINDS = (TIMEOUT, REFUSED, RESET, TLS, PROTOCOL, DNS, UNREACHABLE, LIMITED)

# polite_fetch: statuses that say "not now" rather than describe the page, and how long a GET
# may keep waiting for the site to let it through (on top of the requests' own timeouts).
LIMIT_STATUSES = (429, 503)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LIMIT_ATTEMPTS = 5
LIMIT_BACKOFF = (0.5, 1.0, 2.0, 4.0)

DEFAULT_PORTS = {"http": 80, "https": 443}

# Chain outcomes.
FINAL = "final"        # ended on a response that is not a redirect
LOOP = "loop"          # a hop pointed back at a URL already visited
TOO_MANY = "too_many"  # still redirecting after max_hops redirects
FAILED = "error"       # a hop got no response (error_kind says why)
OFF_SITE = "off_site"  # a hop redirected outside the site: that target was not fetched


@dataclasses.dataclass
class Response:
    """What one request to one address got back; ``error_kind`` is None when a response was read."""

    url: str
    address: str
    method: str = "GET"
    status: int | None = None
    reason: str = ""
    headers: list = dataclasses.field(default_factory=list)  # [(name, value)], repeats kept, in order
    body: bytes = b""
    body_truncated: bool = False
    location: str | None = None  # Location resolved against ``url``
    elapsed_ms: float = 0.0
    tls_version: str | None = None
    error_kind: str | None = None
    error: str = ""
    tls_verify_message: str | None = None  # OpenSSL's words, e.g. "certificate has expired"

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def is_redirect(self) -> bool:
        return self.ok and self.status in REDIRECT_STATUSES and bool(self.location)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def summary(self) -> dict:
        """A small, JSON-friendly view for evidence (no body, no headers)."""
        out = {"url": self.url, "address": self.address, "status": self.status, "location": self.location,
               "elapsed_ms": self.elapsed_ms}
        if self.tls_version:
            out["tls_version"] = self.tls_version
        if self.error_kind:
            out["error_kind"] = self.error_kind
            out["error"] = self.error
        return out

    def describe_error(self) -> str:
        """For a summary: "https://x.test/: timeout at 127.0.0.5: no complete answer within 1.0 s"."""
        return "%s: %s at %s: %s" % (self.url, self.error_kind, self.address, self.error)


# --- one request ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _context(ca_bundle: str | None, verify: bool, _stamp: float) -> ssl.SSLContext:
    # Building a context reads the whole system store (tens of ms): share one per bundle
    # version; SSLContext is safe to use from many threads.
    # The same trust as the TLS checks: OpenSSL's own store plus the site's bundle, never
    # whatever SSL_CERT_FILE happens to say in the operator's environment.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cafile, capath = tls_probe.system_store()
    if cafile or capath:
        ctx.load_verify_locations(cafile=cafile, capath=capath)
    if ca_bundle:
        ctx.load_verify_locations(cafile=ca_bundle)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def ssl_context(ca_bundle: str | None, verify: bool = True) -> ssl.SSLContext:
    """The system store plus ``ca_bundle`` (PEM path), cached until the bundle file changes."""
    stamp = 0.0
    if ca_bundle:
        try:
            stamp = os.stat(ca_bundle).st_mtime
        except OSError:
            stamp = -1.0  # load_verify_locations will raise with the path in the message
    return _context(ca_bundle, bool(verify), stamp)


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = "[%s]" % host if ":" in host else host
    default = 443 if scheme == "https" else 80
    return shown if port == default else "%s:%d" % (shown, port)


def _request_bytes(method: str, target: str, headers: dict) -> bytes:
    lines = ["%s %s HTTP/1.1" % (method, target)]
    for name, value in headers.items():
        if any(c in str(name) + str(value) for c in "\r\n\0"):
            raise ValueError("header %r holds a line break" % name)
        lines.append("%s: %s" % (name, value))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _classify(exc: BaseException, deadline_hit: bool, timeout: float) -> tuple:
    """(error_kind, message, tls_verify_message) for an exception raised by a fetch."""
    if deadline_hit or isinstance(exc, (socket.timeout, TimeoutError)):
        return TIMEOUT, "no complete answer within %.1f s" % timeout, None
    if isinstance(exc, ssl.SSLCertVerificationError):
        message = exc.verify_message or str(exc)
        return TLS, "certificate verify failed: %s" % message, message
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED, "connection refused", None
    if isinstance(exc, http.client.RemoteDisconnected):
        return RESET, "the server closed the connection without a response", None
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return RESET, "connection reset by the server", None
    if isinstance(exc, ssl.SSLEOFError):
        return RESET, "the server closed the connection during the TLS handshake", None
    if isinstance(exc, ssl.SSLError):
        return TLS, "TLS failure: %s" % (exc.reason or exc), None
    if isinstance(exc, socket.gaierror):
        return DNS, "name resolution failed: %s" % exc, None
    if isinstance(exc, http.client.IncompleteRead):
        return RESET, "the server closed the connection mid-body (%d bytes read)" % len(exc.partial), None
    if isinstance(exc, http.client.HTTPException):
        return PROTOCOL, "not a valid HTTP response: %s: %s" % (type(exc).__name__, exc), None
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
        return UNREACHABLE, "%s" % (exc.strerror or exc), None
    if isinstance(exc, OSError):
        return RESET, "%s: %s" % (type(exc).__name__, exc), None
    return PROTOCOL, "%s: %s" % (type(exc).__name__, exc), None


def _abort(sock_box: list, fired: threading.Event) -> None:
    # The deadline passed: shut the socket down under whatever call is blocked on it
    # (a server trickling one byte a second would otherwise beat every per-call timeout).
    fired.set()
    for sock in sock_box:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def fetch(url: str, address: str, *, ca_bundle: str | None, timeout: float, method: str = "GET",
          headers: dict | None = None, max_body: int = MAX_BODY, verify: bool = True,
          body: bytes | None = None, tls_context: ssl.SSLContext | None = None) -> Response:
    """Request ``url`` from ``address`` (IPv4/IPv6 literal) and return what came back; never raises for I/O.

    SNI and Host are the URL's host; certificates are checked against the system
    store plus ``ca_bundle``. ``timeout`` bounds the whole fetch (connect, TLS,
    request, headers and body). Redirects are reported, never followed.
    ``body`` is sent as is, with its Content-Length.  ``tls_context`` replaces the
    verifying context (``fetch_pinned`` passes its pinned, unverified one).
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return Response(url=url, address=address, method=method, error_kind=PROTOCOL,
                        error="not an http(s) URL: %r" % url)
    host = parts.hostname
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return Response(url=url, address=address, method=method, error_kind=PROTOCOL, error="bad port in %r" % url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query

    response = Response(url=url, address=address, method=method)
    started = time.monotonic()
    deadline = started + timeout
    fired = threading.Event()
    sock_box: list = []
    watchdog = threading.Timer(timeout, _abort, args=(sock_box, fired))
    watchdog.daemon = True
    watchdog.start()

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline passed")
        return left

    resp = None
    try:
        ctx = (tls_context or ssl_context(ca_bundle, verify)) if scheme == "https" else None
        raw = socket.create_connection((address, port), timeout=remaining())
        sock_box.append(raw)
        sock = raw
        if ctx is not None:
            raw.settimeout(remaining())
            # IP literals are not sent as SNI (RFC 6066); ssl then matches IP SANs.
            sock = ctx.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False)
            sock_box.append(sock)  # wrap_socket took over the descriptor: the watchdog needs the new object
            sock.do_handshake()
            response.tls_version = sock.version()
        send = {"Host": _host_header(host, port, scheme), "User-Agent": USER_AGENT, "Accept": "*/*",
                "Accept-Encoding": "identity", "Connection": "close"}
        if body is not None:
            send["Content-Length"] = str(len(body))
        for name, value in (headers or {}).items():
            for known in [k for k in send if k.lower() == name.lower()]:
                del send[known]
            send[name] = value
        sock.settimeout(remaining())
        sock.sendall(_request_bytes(method, target, send) + (body or b""))
        sock.settimeout(remaining())
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        response.status, response.reason = resp.status, resp.reason
        response.headers = list(resp.getheaders())
        location = resp.getheader("Location")
        if location:
            response.location = urllib.parse.urljoin(url, location.strip())
        chunks, size = [], 0
        while size < max_body:
            sock.settimeout(remaining())
            chunk = resp.read(min(65536, max_body - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        else:
            sock.settimeout(remaining())
            response.body_truncated = bool(resp.read(1))
        response.body = b"".join(chunks)
        if fired.is_set():  # the watchdog cut the socket: what was read ends early, not where the server ended
            raise socket.timeout("deadline passed")
    except Exception as exc:  # every fault becomes a classified outcome, never an exception
        kind, message, verify_message = _classify(exc, fired.is_set(), timeout)
        response.error_kind, response.error, response.tls_verify_message = kind, message, verify_message
    finally:
        watchdog.cancel()
        if resp is not None:
            resp.close()
        for sock in reversed(sock_box):
            try:
                sock.close()
            except OSError:
                pass
        response.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return response


# --- the polite, budgeted layer the checks use -------------------------------------------------------

def budgeted_fetch(site: Site, url: str, address: str, *, method: str = "GET", headers: dict | None = None,
                   verify: bool = True, max_body: int = MAX_BODY) -> Response:
    """``site_fetch`` (the site's CA bundle and timeout, or its pin), inside the controller-wide connection budget.

    The timeout starts at the probe's own connect: time spent waiting for a slot (other
    forks' probes of the same address) is never charged to the site.
    """
    with probe_budget.for_site(site).connection(address):
        return site_fetch(site, url, address, method=method, headers=headers, verify=verify, max_body=max_body)


def _retry_after(resp: Response) -> float | None:
    value = (resp.header("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return None


def limit_budget(site: Site) -> float:
    """Seconds a GET may spend waiting for a rate-limiting site to let it through."""
    return max(8.0, 2 * site.timeout)


def polite_fetch(site: Site, url: str, address: str, *, method: str = "GET", headers: dict | None = None,
                 verify: bool = True, max_body: int = MAX_BODY) -> Response:
    """``budgeted_fetch`` that behaves like a patient customer, for every check that reads a page.

    - A 429 or 503 is never handed back as the page: a safe method waits (Retry-After
      when given, else 0.5, 1, 2, 4 s) and asks again, within ``limit_budget``.  When the
      site keeps limiting, the outcome is ``error_kind`` LIMITED, "rate limited by the
      site", with the counts.
    - A timeout is retried once before it is reported (a lost SYN or a busy moment).
    """
    safe = method.upper() in SAFE_METHODS
    limited: dict = {}
    waited = 0.0
    timeouts = 0
    attempt = 0
    while True:
        attempt += 1
        resp = budgeted_fetch(site, url, address, method=method, headers=headers, verify=verify, max_body=max_body)
        if resp.error_kind == TIMEOUT and safe and timeouts == 0:
            timeouts += 1
            continue
        if not (safe and resp.ok and resp.status in LIMIT_STATUSES):
            return resp
        limited[resp.status] = limited.get(resp.status, 0) + 1
        wanted = _retry_after(resp)
        pause = wanted if wanted is not None else LIMIT_BACKOFF[min(len(LIMIT_BACKOFF) - 1, attempt - 1)]
        if attempt >= LIMIT_ATTEMPTS or waited + pause > limit_budget(site):
            counts = ", ".join("%d x%d" % kv for kv in sorted(limited.items()))
            resp.error_kind = LIMITED
            resp.error = ("rate limited by the site: %d of %d requests answered %s (%s), %.1f s waited%s"
                          % (sum(limited.values()), attempt, "/".join(str(s) for s in sorted(limited)), counts,
                             waited, "; Retry-After %s" % resp.header("Retry-After")
                             if resp.header("Retry-After") else ""))
            return resp
        time.sleep(pause)
        waited += pause


# --- chains ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class Hop:
    url: str
    address: str | None
    response: Response | None = None  # None when the host did not resolve
    error_kind: str | None = None
    error: str = ""

    @property
    def status(self) -> int | None:
        return self.response.status if self.response else None

    @property
    def location(self) -> str | None:
        return self.response.location if self.response else None

    @property
    def scheme(self) -> str:
        return urllib.parse.urlsplit(self.url).scheme.lower()

    @property
    def host(self) -> str:
        return (urllib.parse.urlsplit(self.url).hostname or "").lower()

    def to_dict(self) -> dict:
        out = {"url": self.url, "address": self.address, "status": self.status, "location": self.location}
        if self.error_kind:
            out["error_kind"] = self.error_kind
            out["error"] = self.error
        return out


@dataclasses.dataclass
class Chain:
    """A redirect chain from ``start``: every hop in order, and how it ended."""

    start: str
    address: str | None  # the address of the first hop
    hops: list = dataclasses.field(default_factory=list)
    outcome: str = FINAL
    detail: str = ""
    off_site: str | None = None  # the redirect target not followed (outcome OFF_SITE)
    addresses_skipped: int = 0  # addresses of the start host beyond MAX_ADDRESSES_PER_NAME, not probed

    @property
    def final(self) -> Hop | None:
        return self.hops[-1] if self.hops else None

    @property
    def redirects(self) -> int:
        """How many hops answered with a redirect."""
        return sum(1 for h in self.hops if h.response is not None and h.response.is_redirect)

    @property
    def failed_hop(self) -> Hop | None:
        return self.hops[-1] if self.outcome == FAILED and self.hops else None

    def responses(self) -> list:
        return [h.response for h in self.hops if h.response is not None and h.response.ok]

    def to_dict(self) -> dict:
        out = {"start": self.start, "address": self.address, "outcome": self.outcome,
               "hops": [h.to_dict() for h in self.hops]}
        if self.detail:
            out["detail"] = self.detail
        if self.off_site:
            out["off_site"] = self.off_site
        if self.addresses_skipped:
            out["addresses_skipped"] = self.addresses_skipped
        return out


def _memo(probes: t.Any, key: t.Hashable, fn: t.Callable[[], t.Any]) -> t.Any:
    value = probes.memo(key, fn)
    if isinstance(value, BaseException):  # Probes caches failures as values: raise them again
        raise value
    return value


def _normal(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return "%s://%s:%d%s%s" % (scheme, host, port, parts.path or "/", "?" + parts.query if parts.query else "")


def fetch_cached(site: Site, probes: t.Any, url: str, address: str, method: str = "GET") -> Response:
    """``polite_fetch`` (the site's CA bundle, timeout and the probe budget), once per run for (method, url, address)."""
    return _memo(probes, ("http.fetch", method, url, address),
                 lambda: polite_fetch(site, url, address, method=method))


def resolve_host(site: Site, probes: t.Any, host: str) -> tuple:
    """(addresses to probe, error sentence or "") for ``host`` through the site's resolvers; IP literals as is.

    At most ``MAX_ADDRESSES_PER_NAME`` addresses (the first in sorted order); ``skipped_addresses``
    says how many more the name has.
    """
    try:
        ipaddress.ip_address(host)
        return [host], ""
    except ValueError:
        pass
    result = dns_query.resolve_cached(site, probes, host)
    if isinstance(result, BaseException):  # Probes caches failures as values
        raise result
    if result["addresses"]:
        return list(result["addresses"])[:MAX_ADDRESSES_PER_NAME], ""
    problems = sorted({"%s %s at %s%s" % (a.rdtype, a.status, a.server, " (%s)" % a.detail if a.detail else "")
                       for a in result["answers"]})
    return [], "%s does not resolve: %s" % (host, "; ".join(problems) or "no resolver configured")


# --- the site's boundary ----------------------------------------------------------------------------

def skipped_addresses(site: Site, probes: t.Any, host: str) -> int:
    """How many resolved addresses of ``host`` ``resolve_host`` leaves out (beyond the cap)."""
    try:
        ipaddress.ip_address(host)
        return 0
    except ValueError:
        pass
    result = dns_query.resolve_cached(site, probes, host)
    if isinstance(result, BaseException):
        return 0
    return max(0, len(result["addresses"]) - MAX_ADDRESSES_PER_NAME)


def off_site(site: Site, url: str) -> str:
    """Why a redirect walk must not fetch ``url``, or "" when it may.

    The site is its own names (launch_hosts, the canonical host, names under launch_domain)
    on the scheme's default port.  Anything else (another domain, an IP literal, which would
    skip the site's resolvers, another port) would let the audited site aim the controller
    at its neighbours, so the walk ends there.
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return "not a valid port"
    if scheme not in DEFAULT_PORTS:
        return "not http(s)"
    try:
        ipaddress.ip_address(host)
        return "an IP address, not one of the site's names"
    except ValueError:
        pass
    own = {h.lower() for h in site.hosts} | {site.canonical_host.lower(), site.domain.lower()}
    if host not in own and not host.endswith("." + site.domain.lower()):
        return "%s is not one of the site's names (launch_hosts, the canonical host, names under %s)" % (
            host or "no host", site.domain)
    if port != DEFAULT_PORTS[scheme]:
        return "port %d, not the %s port %d" % (port, scheme, DEFAULT_PORTS[scheme])
    return ""


def follow(site: Site, probes: t.Any, url: str, max_hops: int = MAX_HOPS, address: str | None = None) -> Chain:
    """Walk the redirect chain from ``url``; ``address`` pins the first hop (else the first resolved address).

    Later hops stay on the same address while the next host still resolves to it
    (so one chain follows one origin), otherwise take the host's first address.
    """
    return _memo(probes, ("http.follow", url, address, max_hops),
                 lambda: _follow(site, probes, url, max_hops, address))


def _follow(site: Site, probes: t.Any, url: str, max_hops: int, address: str | None) -> Chain:
    chain = Chain(start=url, address=address)
    seen: set = set()
    current, pinned = url, address
    while True:
        host = (urllib.parse.urlsplit(current).hostname or "").lower()
        if pinned is None:
            addrs, problem = resolve_host(site, probes, host)
            if not addrs:
                chain.hops.append(Hop(url=current, address=None, error_kind=DNS, error=problem))
                chain.outcome, chain.detail = FAILED, problem
                return chain
            previous = chain.hops[-1].address if chain.hops else None
            pinned = previous if previous in addrs else addrs[0]
        if chain.address is None:
            chain.address = pinned
        seen.add(_normal(current))
        resp = fetch_cached(site, probes, current, pinned)
        hop = Hop(url=current, address=pinned, response=resp, error_kind=resp.error_kind, error=resp.error)
        chain.hops.append(hop)
        if not resp.ok:
            where = "" if current == url else "%s: " % current
            chain.outcome, chain.detail = FAILED, "%s%s at %s: %s" % (where, resp.error_kind, pinned, resp.error)
            return chain
        if not resp.is_redirect:
            chain.outcome = FINAL
            return chain
        if len(chain.hops) > max_hops:
            chain.outcome = TOO_MANY
            chain.detail = "still redirecting after %d redirects" % max_hops
            return chain
        nxt = resp.location
        if urllib.parse.urlsplit(nxt).scheme.lower() not in ("http", "https"):
            chain.outcome, chain.detail = FINAL, "redirects to a non-http URL %s" % nxt
            return chain
        if _normal(nxt) in seen:
            chain.outcome, chain.detail = LOOP, "%s redirects back to %s" % (current, nxt)
            return chain
        why = off_site(site, nxt)
        if why:
            chain.outcome, chain.off_site = OFF_SITE, nxt
            chain.detail = "%s redirects off the site to %s (%s): not followed" % (current, nxt, why)
            return chain
        current, pinned = nxt, None


def _walk_all(site: Site, probes: t.Any, starts: list) -> dict:
    """Walk every (key, url, host) start from every address of host, concurrently: {key: [Chain...]}."""
    jobs: list = []
    out: dict = {key: [] for key, _url, _host in starts}
    for key, url, host in starts:
        addrs, problem = resolve_host(site, probes, host)
        if not addrs:
            out[key].append(Chain(start=url, address=None, outcome=FAILED, detail=problem,
                                  hops=[Hop(url=url, address=None, error_kind=DNS, error=problem)]))
        for addr in addrs:
            jobs.append((key, url, addr))
    if jobs:
        chains = parallel.each(lambda job: follow(site, probes, job[1], address=job[2]), jobs, WALK_WORKERS)
        for (key, url, _addr), chain in zip(jobs, chains, strict=True):
            chain.addresses_skipped = skipped_addresses(site, probes, urllib.parse.urlsplit(url).hostname or "")
            out[key].append(chain)
    return out


def _resolve_hosts(site: Site, probes: t.Any, hosts: t.Iterable[str]) -> None:
    # Ask for every host at once so a hanging resolver costs one timeout, not one per host.
    hosts = list(dict.fromkeys(hosts))
    parallel.each(lambda h: resolve_host(site, probes, h), hosts, RESOLVE_WORKERS)


def variants(site: Site, probes: t.Any) -> dict:
    """Every variant (scheme x configured host) walked from every address of the host.

    {("http"|"https", host): [Chain per address]}; computed once per run.
    """
    def compute() -> dict:
        _resolve_hosts(site, probes, list(site.hosts) + [site.canonical_host])
        starts = [((scheme, host), "%s://%s/" % (scheme, host), host)
                  for host in site.hosts for scheme in ("http", "https")]
        return _walk_all(site, probes, starts)
    return _memo(probes, ("http.variants",), compute)


def route_chains(site: Site, probes: t.Any, scheme: str = "https") -> dict:
    """Every configured route on the canonical host, from every canonical address: {path: [Chain...]}."""
    def compute() -> dict:
        host = site.canonical_host
        paths = list(dict.fromkeys(["/"] + list(site.routes.values())))
        starts = [(path, "%s://%s%s" % (scheme, host, path), host) for path in paths]
        return _walk_all(site, probes, starts)
    return _memo(probes, ("http.routes", scheme), compute)


# --- past a rejected certificate ------------------------------------------------------------------

def fetch_pinned(url: str, address: str, *, leaf_sha256: str, timeout: float, **kwargs: t.Any) -> Response:
    """``fetch`` over a connection that skips chain and name verification but accepts only one leaf.

    ``leaf_sha256`` is the SHA-256 of the DER leaf the TLS probe saw at ``address``
    (tls.cert_valid's evidence); another leaf ends as ``error_kind`` TLS with a
    "certificate pin mismatch" sentence, and no request is sent over that connection.
    """
    return fetch(url, address, ca_bundle=None, timeout=timeout, verify=False,
                 tls_context=tls_pin.pinned_context(leaf_sha256, address), **kwargs)


def pin_for(site: Site, url: str, address: str) -> str | None:
    """The leaf pin ``site.tls_pins`` holds for an https ``url`` at ``address`` (port 443 only), else None."""
    pins = getattr(site, "tls_pins", None)
    if not pins:
        return None
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or 443
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or port != 443:
        return None
    return pins.get(((parts.hostname or "").rstrip(".").lower(), address))


def site_fetch(site: Site, url: str, address: str, **kwargs: t.Any) -> Response:
    """``fetch`` with the site's CA bundle and timeout; where ``site.tls_pins`` pins the (host, address)
    (the audit's pass behind a rejected certificate), ``fetch_pinned`` instead."""
    pin = pin_for(site, url, address)
    if pin:
        kwargs.pop("verify", None)
        return fetch_pinned(url, address, leaf_sha256=pin, timeout=site.timeout, **kwargs)
    return fetch(url, address, ca_bundle=site.ca_bundle, timeout=site.timeout, **kwargs)
