# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Stage 2 checks (edge.*, cache.*, content.*) ask the public edge, shared and memoized.

Every request goes through ``http_probe.fetch`` (the address resolved through the site's
resolvers, SNI and Host set to the name, the site's CA bundle), so these checks take the
same code path as the http.* checks.  Caching questions need a request *repeated*:
``fetch_twice`` asks for one URL twice in a row at one address and is memoized per run,
so cache.never_cache, cache.set_cookie and cache.edge_hit share the requests.

Also here: ``burst``, the POST burst of edge.rate_limit.  Reading Cache-Control and the cache status headers of the common edges
(nginx's X-Cache-Status, Cloudflare's CF-Cache-Status, X-Cache, RFC 9211 Cache-Status,
Age), and finding the subresources a page references (the static assets, and the
http:// ones for content.mixed's parse fallback).

Plain Python, stdlib only: no Ansible imports.
"""

from __future__ import annotations

import html.parser
import re
import threading
import time
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import http_cache_rules as R
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

MAX_ASSETS = 12

# Headers that say whether a shared cache answered: (header, how to read it).
CACHE_STATUS_HEADERS = ("X-Cache-Status", "CF-Cache-Status", "X-Cache", "X-Proxy-Cache", "Cache-Status")
_HIT_WORDS = ("HIT", "STALE", "UPDATING", "REVALIDATED")

# A content hash in the file name: app.3f2a9c1b.js, app-3f2a9c1b7d.css, chunk_0123abcd.js.
FINGERPRINT = re.compile(r"[.\-_][0-9a-fA-F]{8,}(?:[.\-_]|$)")

ONE_YEAR = 31536000
ONE_DAY = 86400


# --- requests --------------------------------------------------------------------------------

def canonical_addresses(site: Site, probes: t.Any) -> tuple:
    """(addresses of the canonical host, problem sentence or "")."""
    return P.resolve_host(site, probes, site.canonical_host)


def url_for(site: Site, path: str) -> str:
    return "https://%s%s" % (site.canonical_host, path)


def fetch(site: Site, url: str, address: str, method: str = "GET", headers: dict | None = None) -> P.Response:
    """One polite request (``http_probe.polite_fetch``: the site's CA bundle, timeout and probe budget;
    429/503 waited out), not memoized."""
    return P.polite_fetch(site, url, address, method=method, headers=headers)


BURST_WORKERS = 4


def burst(site: Site, url: str, address: str, limit: int, content_type: str) -> dict:
    """POST ``url`` at ``address`` until a 429 (or 503) comes back or ``limit`` requests went out.

    A few requests are in flight at once (the limiters of nginx and Cloudflare count
    arrivals); no new request starts after the first throttled answer.  Unlike every
    other probe, a 429 here is the answer wanted, so nothing is retried; the requests
    still take their slots in the controller-wide budget.  edge.rate_limit runs it only
    after every other check of the site finished (``CheckSpec.burst``).
    """
    lock = threading.Lock()
    state = {"sent": 0, "statuses": {}, "first_throttled": None, "throttle_status": None, "errors": [],
             "retry_after": None}
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            with lock:
                if state["sent"] >= limit:
                    return
                state["sent"] += 1
                number = state["sent"]
            resp = P.budgeted_fetch(site, url, address, method="POST",
                                    headers={"Content-Type": content_type, "Content-Length": "0"})
            with lock:
                if not resp.ok:
                    state["errors"].append("%s: %s" % (resp.error_kind, resp.error))
                    if len(state["errors"]) >= 3:
                        stop.set()
                    continue
                key = str(resp.status)
                state["statuses"][key] = state["statuses"].get(key, 0) + 1
                if resp.status in (429, 503) and state["first_throttled"] is None:
                    state["first_throttled"] = number
                    state["throttle_status"] = resp.status
                    state["retry_after"] = resp.header("Retry-After")
                    stop.set()

    started = time.monotonic()
    workers = [threading.Thread(target=worker, daemon=True) for _n in range(min(BURST_WORKERS, limit))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(site.timeout * limit + 5)  # each request is bounded by the timeout
    state["seconds"] = round(time.monotonic() - started, 3)
    return state


def fetch_twice(site: Site, probes: t.Any, url: str, address: str) -> tuple:
    """(first, second): ``url`` asked for twice in a row at ``address``, once per run."""
    def compute() -> tuple:
        first = fetch(site, url, address)
        second = fetch(site, url, address) if first.ok else first
        return first, second
    return probes.memo(("edge.twice", url, address), compute)


# --- reading responses -------------------------------------------------------------------------

def cache_control(resp: P.Response) -> dict:
    """Cache-Control directives of ``resp`` (every header line), lower-cased: {name: value or True}."""
    out: dict = {}
    for value in resp.header_all("Cache-Control"):
        for part in value.split(","):
            name, _sep, arg = part.strip().partition("=")
            name = name.strip().lower()
            if name:
                out[name] = arg.strip().strip('"') if _sep else True
    return out


def _seconds(value: t.Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def max_age(directives: dict) -> int | None:
    return _seconds(directives.get("max-age"))


def shared_cacheable(resp: P.Response) -> tuple:
    """(True/False, why): may a shared cache store ``resp`` and answer the next visitor from it (RFC 9111)?"""
    verdict = storability(resp)
    return verdict.reusable, verdict.why


def storability(resp: P.Response) -> R.Storability:
    """The RFC 9111 verdict of a shared cache on ``resp``, with the rule that decided (http_cache_rules)."""
    return R.shared_storability(resp.status, resp.headers)


def cache_state(resp: P.Response) -> tuple:
    """("hit" | "miss" | None, evidence): what the cache status headers (or Age) say about ``resp``."""
    for name in CACHE_STATUS_HEADERS:
        value = resp.header(name)
        if not value:
            continue
        upper = value.upper()
        if name == "Cache-Status":  # RFC 9211: "cache-name; hit" or "; fwd=miss"
            hit = any(p.strip().lower() == "hit" for p in value.split(";"))
        else:
            hit = any(word in upper for word in _HIT_WORDS)
        return ("hit" if hit else "miss"), "%s: %s" % (name, value)
    age = _seconds(resp.header("Age"))
    if age is not None:
        return ("hit" if age > 0 else "miss"), "Age: %d" % age
    return None, "no cache status header (X-Cache-Status, CF-Cache-Status, X-Cache, Cache-Status, Age)"


def content_type(resp: P.Response) -> str:
    return (resp.header("Content-Type") or "").split(";")[0].strip().lower()


def is_html(resp: P.Response) -> bool:
    return content_type(resp) in ("text/html", "application/xhtml+xml")


def brief(resp: P.Response) -> dict:
    """A JSON-friendly view of a response for evidence: status, type and the caching headers."""
    out = resp.summary()
    if resp.ok:
        out["content_type"] = resp.header("Content-Type")
        out["cache_control"] = resp.header_all("Cache-Control") or None
        out["cache_status"] = cache_state(resp)[1]
        cookies = [v.partition("=")[0].strip() for v in resp.header_all("Set-Cookie")]
        if cookies:
            out["set_cookie"] = cookies  # names only: a cookie value may be a session
    return out


def fingerprinted(url: str) -> bool:
    name = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
    return bool(FINGERPRINT.search(name))


# --- what a page references ---------------------------------------------------------------------

class _Refs(html.parser.HTMLParser):
    """Subresource references of an HTML page: (kind, url as written), in document order."""

    _LINK_RELS = ("stylesheet", "icon", "preload", "modulepreload", "apple-touch-icon", "manifest", "prefetch")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list = []
        self.base: str | None = None
        self.styles: list = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        add = self.refs.append
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        elif tag == "script" and a.get("src"):
            add(("script", a["src"]))
        elif tag == "link" and a.get("href"):
            rels = a.get("rel", "").lower().split()
            if any(r in self._LINK_RELS for r in rels):
                add(("stylesheet" if "stylesheet" in rels else "link", a["href"]))
        elif tag in ("img", "source", "video", "audio", "track", "embed", "iframe", "input"):
            if a.get("src"):
                add(({"img": "image", "iframe": "frame"}.get(tag, tag), a["src"]))
            for candidate in a.get("srcset", "").split(","):
                url = candidate.strip().split(" ")[0]
                if url:
                    add(("image", url))
            if a.get("poster"):
                add(("image", a["poster"]))
        elif tag == "object" and a.get("data"):
            add(("object", a["data"]))
        elif tag == "form" and a.get("action"):
            add(("form", a["action"]))
        if a.get("style"):
            self.styles.append(a["style"])
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.I)


def css_refs(text: str) -> list:
    """url(...) and @import targets of a stylesheet, as written."""
    out = []
    for m in _CSS_URL.finditer(text):
        url = m.group(2) or m.group(4)
        if url and not url.lower().startswith("data:"):
            out.append(("css", url))
    return out


def page_refs(page_url: str, body: bytes) -> list:
    """[(kind, absolute url)] a page references, inline CSS included; resolved against <base>."""
    parser = _Refs()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except Exception:  # a broken page still yields what was read before the fault
        pass
    base = urllib.parse.urljoin(page_url, parser.base) if parser.base else page_url
    refs = parser.refs + [ref for style in parser.styles for ref in css_refs(style)]
    out, seen = [], set()
    for kind, raw in refs:
        raw = raw.strip()
        if not raw or raw.startswith(("#", "data:", "javascript:", "mailto:", "about:", "blob:")):
            continue
        url = urllib.parse.urljoin(base, raw)
        if (kind, url) not in seen:
            seen.add((kind, url))
            out.append((kind, url))
    return out


def same_site(site: Site, url: str) -> bool:
    """``url`` is on one of the site's hosts, on its scheme's default port (never another port: the page's
    author must not aim the audit at other services, see http_probe.off_site)."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return (host == site.canonical_host or host in site.hosts) and not P.off_site(site, url)


def homepage(site: Site, probes: t.Any) -> tuple:
    """(first response of https://CANONICAL/ at the first address, problem sentence or "")."""
    addrs, problem = canonical_addresses(site, probes)
    if not addrs:
        return None, problem
    first, _second = fetch_twice(site, probes, url_for(site, "/"), addrs[0])
    if not first.ok:
        return first, first.describe_error()
    return first, ""


def static_assets(site: Site, probes: t.Any) -> tuple:
    """(asset URLs on the site's own hosts that the homepage loads, problem or ""), at most MAX_ASSETS."""
    def compute() -> tuple:
        page, problem = homepage(site, probes)
        if problem:
            return [], problem
        if not is_html(page):
            return [], "%s answers %s, not an HTML page" % (page.url, content_type(page) or "no Content-Type")
        kinds = ("script", "stylesheet", "link", "image")
        urls = [url for kind, url in page_refs(page.url, page.body)
                if kind in kinds and url.startswith("https://") and same_site(site, url)]
        return list(dict.fromkeys(urls))[:MAX_ASSETS], ""
    return probes.memo(("edge.assets",), compute)
