# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cache.* checks of Stage 2 (edge hardening), as the catalog in checks.md defines them.

Caching is judged from the outside, as a customer's browser and every proxy on the way see
it: the Cache-Control the edge sends, and whether a request repeated at once is answered
from the edge's cache (X-Cache-Status, CF-Cache-Status, X-Cache, Cache-Status or Age).
Every URL is asked for twice at each address of the canonical host
(``edge_probe.fetch_twice``, shared by the whole family); a request that gets no answer
ends as ``error``, never as pass.  Whether a shared cache may store an answer follows RFC 9111
(``http_cache_rules``), and the rule that decided goes into the evidence; a 429 or 503 says
"come back later", not what the page is, so it ends as ``error`` rather than being judged.

The never-cache note of the report comes from here: cache.never_cache's evidence says, for
each path, why it must never be cached (``NEVER_CACHE_WHY``).
"""

from __future__ import annotations

import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import edge_probe as E
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import http_cache_rules as R
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils import parallel
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Site
from ansible_collections.launchready.ops.plugins.module_utils.verdicts import Verdicts

# Paths x addresses fetched twice each at once (the budget in probe_budget.py caps the sockets).
WORKERS = 8

# Why each kind of path must never be cached: the note in the report and the handover.
NEVER_CACHE_WHY = (
    ("/checkout", "the checkout shows one customer's order, address and payment state; a cached copy shows "
                  "them to the next visitor and can replay a stale total"),
    ("/cart", "a cart belongs to one visitor; a cached cart shows one customer's items to everyone"),
    ("/account", "account pages hold personal data (name, e-mail, orders) of the logged-in customer"),
    ("/login", "the login answer sets the session cookie and carries CSRF tokens; a cached answer can hand "
               "one visitor's session to another"),
    ("/chatbot", "chatbot answers talk about one customer's orders; a cached answer leaks them"),
    ("/api/chat", "chatbot answers talk about one customer's orders; a cached answer leaks them"),
    ("/api/checkout", "the checkout API answers with one customer's order and total; a cached answer shows them "
                      "to the next visitor"),
    ("/api", "API answers depend on who asks (session or token): orders, carts, prices for one customer"),
)


def never_cache_why(path: str) -> str:
    """The reason ``path`` must never be cached (the most specific entry of NEVER_CACHE_WHY)."""
    best = ""
    reason = "listed in launch_never_cache: its answers depend on who asks"
    for prefix, why in NEVER_CACHE_WHY:
        if (path == prefix or path.startswith(prefix.rstrip("/") + "/")) and len(prefix) > len(best):
            best, reason = prefix, why
    return reason


def _under(path: str, prefixes: t.Iterable[str]) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def _not_a_page(url: str, resp) -> str:
    """The sentence for a 429/503 ("come back later"): never judged as how the page is cached, so ``error``."""
    if resp.status not in R.NOT_A_PAGE_STATUSES:
        return ""
    why = "rate limited by the site" if resp.status == 429 else "the site was unavailable"
    return "%s answered %d (%s): not the page itself, so how it is cached is unknown" % (url, resp.status, why)


def _pairs(site: Site, probes, paths: list) -> tuple:
    """({path: [(address, first, second)]}, problem or ""): every path asked twice at every address."""
    addrs, problem = E.canonical_addresses(site, probes)
    if not addrs:
        return {}, problem
    jobs = [(path, addr) for path in paths for addr in addrs]
    out: dict = {path: [] for path in paths}
    if not jobs:
        return out, ""
    results = parallel.each(lambda job: E.fetch_twice(site, probes, E.url_for(site, job[0]), job[1]), jobs, WORKERS)
    for (path, addr), (first, second) in zip(jobs, results, strict=True):
        out[path].append((addr, first, second))
    return out, ""


def _asset_pairs(site: Site, probes, urls: list) -> list:
    """[(url, address, first, second)] for asset URLs (each at the first address of its host)."""
    def one(url: str) -> tuple:
        host = urllib.parse.urlsplit(url).hostname or site.canonical_host
        addrs, problem = P.resolve_host(site, probes, host)
        if not addrs:
            return url, None, problem, None
        first, second = E.fetch_twice(site, probes, url, addrs[0])
        return url, addrs[0], first, second
    if not urls:
        return []
    return parallel.each(one, urls, WORKERS)


# --- cache.never_cache -----------------------------------------------------------------------------

NEVER_CACHE = F.CheckSpec(
    id="cache.never_cache", impact=F.BLOCKER, stage="edge",
    title="Checkout, cart, account, login, chatbot and API answers are private or no-store and never come from the "
          "edge cache",
    fix="Answer these paths with `Cache-Control: private, no-store` and keep them out of the edge cache: with the "
        "edge_nginx role list them in edge_nginx_never_cache (launch_never_cache); in nginx "
        "`proxy_no_cache`/`proxy_cache_bypass` for them; on Cloudflare a cache rule that bypasses the cache.",
    why="A checkout, account or login answer served from a shared cache shows one customer's private data (or "
        "session) to the next visitor.")


def never_cache_paths(site: Site) -> list:
    """launch_never_cache plus every configured route below one of them (e.g. /api/chat under /api)."""
    paths = [p if p.startswith("/") else "/" + p for p in site.never_cache]
    paths += [route for route in site.routes.values() if _under(route, site.never_cache)]
    return list(dict.fromkeys(paths))


@check(NEVER_CACHE)
def never_cache(site: Site, probes) -> list:
    paths = never_cache_paths(site)
    pairs, problem = _pairs(site, probes, paths)
    if problem:
        return [F.make(NEVER_CACHE, F.ERROR, site.domain, "cannot probe the never-cache paths: %s" % problem)]
    out = []
    for path in paths:
        url = E.url_for(site, path)
        why = never_cache_why(path)
        verdicts = Verdicts()
        for addr, first, second in pairs[path]:
            ev = {"address": addr, "first": E.brief(first), "second": E.brief(second)}
            if not second.ok:
                verdicts.add(F.ERROR, "could not fetch %s: %s" % (url, second.describe_error()), **ev)
                continue
            stored = E.storability(second)
            ev["storability"] = stored.to_dict()
            not_a_page = _not_a_page(url, second)
            state, said = E.cache_state(second)
            cc = E.cache_control(second)
            shown = ", ".join(second.header_all("Cache-Control")) or "no Cache-Control"
            if not_a_page:
                verdicts.add(F.ERROR, not_a_page, **ev)
            elif state == "hit":
                verdicts.add(F.FAIL, "%s was served from the edge cache on a repeat request (%s)" % (url, said), **ev)
            elif "private" not in cc and "no-store" not in cc and _loops(site, probes, url, addr, second):
                verdicts.add(F.ERROR, "%s redirects into a redirect loop (%s): the page is never reached"
                             % (url, _loops(site, probes, url, addr, second)), **ev)
            elif "private" not in cc and "no-store" not in cc:
                verdicts.add(*_never_cache_gap(url, second, shown, stored), **ev)
            else:
                verdicts.add(F.PASS, "%s answers %s with Cache-Control: %s and was not served from the cache (%s)"
                             % (url, second.status, shown, said), **ev)
        out.append(verdicts.finding(NEVER_CACHE, url, "%s was not probed" % url, path=path, why=why))
    return out


def _loops(site: Site, probes, url: str, address: str, resp) -> str:
    """The loop a redirect leads into ("" when it is no redirect or its chain ends): the page is never reached."""
    if not resp.is_redirect:
        return ""
    chain = P.follow(site, probes, url, address=address)
    return chain.detail if chain.outcome in (P.LOOP, P.TOO_MANY) else ""


def _never_cache_gap(url: str, resp, shown: str, stored: R.Storability) -> tuple:
    """(status, sentence) for a never-cache answer that is neither private nor no-store."""
    if resp.is_redirect and not stored.storable:
        return F.PASS, "%s answers %d (a redirect to %s) with %s, which no cache may store (%s)" % (
            url, resp.status, resp.location, shown, stored.why)
    if resp.status < 400:  # the page (or its redirect): it must say private or no-store, whatever caches guess
        return F.FAIL, "%s answers %d with %s, so a cache may store it (%s)" % (url, resp.status, shown, stored.why)
    if stored.rule in ("heuristic", "not-heuristic", "public"):
        # An error answer without a lifetime of its own holds no customer data: the path is not there (yet).
        return F.WARN, "%s answers %d with %s (%s): when it serves the page it must be private or no-store" % (
            url, resp.status, shown, stored.why)
    return F.FAIL, "%s answers %d with %s, so a cache may store it (%s)" % (url, resp.status, shown, stored.why)


# --- cache.set_cookie ------------------------------------------------------------------------------

SET_COOKIE = F.CheckSpec(
    id="cache.set_cookie", impact=F.BLOCKER, stage="edge",
    title="No cacheable response sets a cookie",
    fix="Never let a response that sets a cookie be cached: send `Cache-Control: private, no-store` with every "
        "Set-Cookie, and never make the edge ignore Set-Cookie (`proxy_ignore_headers Set-Cookie`) on pages; "
        "strip cookies from static assets instead (`proxy_hide_header Set-Cookie`).",
    why="A cached response that sets a cookie hands the same cookie (often a session) to every visitor the cache "
        "answers.")


@check(SET_COOKIE)
def set_cookie(site: Site, probes) -> list:
    paths = list(dict.fromkeys(["/"] + list(site.routes.values())))
    pairs, problem = _pairs(site, probes, paths)
    if problem:
        return [F.make(SET_COOKIE, F.ERROR, site.domain, "cannot probe the pages: %s" % problem)]
    assets, _asset_problem = E.static_assets(site, probes)
    checked = [(E.url_for(site, path), addr, first, second) for path in paths for addr, first, second in pairs[path]]
    checked += [(url, addr, first, second) for url, addr, first, second in _asset_pairs(site, probes, assets)
                if addr is not None]
    verdicts = Verdicts()
    with_cookies = 0
    for url, addr, first, second in checked:
        for resp in (first, second):
            if not resp.ok:
                verdicts.add(F.ERROR, "could not fetch %s: %s" % (url, resp.describe_error()), address=addr)
                break
            not_a_page = _not_a_page(url, resp)
            if not_a_page:
                verdicts.add(F.ERROR, not_a_page, address=addr, response=E.brief(resp))
                break
            cookies = [v.partition("=")[0].strip() for v in resp.header_all("Set-Cookie")]
            if not cookies:
                continue
            with_cookies += 1
            state, said = E.cache_state(resp)
            stored = E.storability(resp)
            cacheable, reason = stored.reusable, stored.why
            ev = {"url": url, "address": addr, "cookies": cookies, "response": E.brief(resp),
                  "storability": stored.to_dict()}
            if state == "hit":
                verdicts.add(F.FAIL, "%s came from the edge cache with Set-Cookie %s (%s)"
                             % (url, ", ".join(cookies), said), **ev)
            elif cacheable:
                verdicts.add(F.FAIL, "%s sets cookie %s on a response shared caches may store (%s)"
                             % (url, ", ".join(cookies), reason), **ev)
            else:
                verdicts.add(F.PASS, "%s sets cookie %s on a response no shared cache stores (%s)"
                             % (url, ", ".join(cookies), reason), **ev)
            break  # one verdict per URL and address
    if not verdicts.items:
        verdicts.add(F.PASS, "none of the %d responses checked sets a cookie" % len(checked),
                     checked=sorted({url for url, *_rest in checked}))
    return [verdicts.finding(SET_COOKIE, site.canonical_host, "no response was checked",
                             passed="no cacheable response of %s sets a cookie (%d checked, %d with cookies, all "
                             "uncacheable)" % (site.canonical_host, len(checked), with_cookies))]


# --- cache.deception -------------------------------------------------------------------------------

DECEPTION = F.CheckSpec(
    id="cache.deception", impact=F.BLOCKER, stage="edge",
    title="PATH/x.css on a dynamic path is not cached as HTML",
    fix="Cache by the response, not the URL's extension: keep never-cache paths out of the cache whatever they "
        "end with (edge_nginx does), make the app answer 404 for unknown sub-paths, and on Cloudflare enable "
        "Cache Deception Armor and never use 'cache everything' on dynamic paths.",
    why="Web cache deception - a victim opens /account/x.css, the edge caches their account page because of the "
        ".css, and the attacker reads it from the cache.")

DECEPTION_FILE = "launchready-deception-probe.css"


@check(DECEPTION)
def deception(site: Site, probes) -> list:
    bases = [p.rstrip("/") for p in never_cache_paths(site)]
    paths = list(dict.fromkeys("%s/%s" % (base, DECEPTION_FILE) for base in bases if base))
    pairs, problem = _pairs(site, probes, paths)
    if problem:
        return [F.make(DECEPTION, F.ERROR, site.domain, "cannot probe the dynamic paths: %s" % problem)]
    verdicts = Verdicts()
    for path in paths:
        url = E.url_for(site, path)
        for addr, first, second in pairs[path]:
            ev = {"url": url, "address": addr, "first": E.brief(first), "second": E.brief(second)}
            if not second.ok:
                verdicts.add(F.ERROR, "could not fetch %s: %s" % (url, second.describe_error()), **ev)
                continue
            not_a_page = _not_a_page(url, second)
            if not_a_page:
                verdicts.add(F.ERROR, not_a_page, **ev)
                continue
            state, said = E.cache_state(second)
            stored = E.storability(second)
            ev["storability"] = stored.to_dict()
            cacheable, reason = stored.reusable, stored.why
            kind = E.content_type(second) or "no Content-Type"
            page = second.status == 200 and not kind.startswith("text/css")
            if page and state == "hit":
                verdicts.add(F.FAIL, "%s answers 200 %s and was served from the edge cache on a repeat (%s): a "
                             "dynamic page cached under a .css name" % (url, kind, said), **ev)
            elif page and cacheable:
                verdicts.add(F.FAIL, "%s answers 200 %s that shared caches may store (%s)" % (url, kind, reason),
                             **ev)
            elif page:
                verdicts.add(F.PASS, "%s answers 200 %s but it is not cached (%s; %s)" % (url, kind, reason, said),
                             **ev)
            else:
                verdicts.add(F.PASS, "%s answers %s (%s; %s)" % (url, second.status, kind, said), **ev)
    if not verdicts.items:
        return [F.make(DECEPTION, F.SKIP, site.domain, "no dynamic path configured (launch_never_cache is empty)")]
    return [verdicts.finding(DECEPTION, site.canonical_host, "no dynamic path was probed",
                             passed="none of the %d .css URLs under dynamic paths is cached as a page"
                             % len(verdicts.items))]


# --- cache.static_assets ---------------------------------------------------------------------------

STATIC_ASSETS = F.CheckSpec(
    id="cache.static_assets", impact=F.MEDIUM, stage="edge",
    title="Fingerprinted assets are public, max-age >= 1 year and immutable; other static assets cached >= 1 day",
    fix="Send `Cache-Control: public, max-age=31536000, immutable` for files whose name holds a content hash, and "
        "at least `public, max-age=86400` for other static files (edge_nginx does by edge_nginx_fingerprint_regex).",
    why="Assets without long-lived caching make every page view slower (and cost bandwidth), which hurts conversion "
        "and search ranking; nothing leaks.")


def _asset_verdict(url: str, resp) -> tuple:
    cc = E.cache_control(resp)
    shown = ", ".join(resp.header_all("Cache-Control")) or "no Cache-Control"
    age = E.max_age(cc)
    blocked = [d for d in ("no-store", "no-cache", "private") if d in cc]
    if E.fingerprinted(url):
        if blocked or not age:
            return F.FAIL, "fingerprinted %s is sent with %s: browsers fetch it again on every visit" % (url, shown)
        missing = [w for w, ok in (("public", "public" in cc), ("immutable", "immutable" in cc),
                                   ("max-age >= 31536000", age >= E.ONE_YEAR)) if not ok]
        if missing:
            return F.WARN, "fingerprinted %s is sent with %s (missing %s)" % (url, shown, ", ".join(missing))
        return F.PASS, "fingerprinted %s is sent with %s" % (url, shown)
    if blocked or not age or age < E.ONE_DAY:
        return F.WARN, "static %s is sent with %s (at least 1 day: max-age=86400)" % (url, shown)
    return F.PASS, "static %s is sent with %s" % (url, shown)


@check(STATIC_ASSETS)
def static_assets(site: Site, probes) -> list:
    urls, problem = E.static_assets(site, probes)
    if problem:
        return [F.make(STATIC_ASSETS, F.ERROR, site.canonical_host, "cannot find the static assets: %s" % problem)]
    if not urls:
        return [F.make(STATIC_ASSETS, F.SKIP, site.canonical_host,
                       "the homepage loads no script, stylesheet or image from %s" % site.canonical_host)]
    verdicts = Verdicts()
    for url, addr, first, _second in _asset_pairs(site, probes, urls):
        if addr is None:
            verdicts.add(F.ERROR, "cannot resolve %s: %s" % (url, first))
            continue
        ev = {"url": url, "address": addr, "fingerprinted": E.fingerprinted(url), "response": E.brief(first)}
        if not first.ok:
            verdicts.add(F.ERROR, "could not fetch %s: %s" % (url, first.describe_error()), **ev)
        elif _not_a_page(url, first):
            verdicts.add(F.ERROR, _not_a_page(url, first), **ev)
        elif first.status != 200:
            verdicts.add(F.WARN, "the homepage loads %s, which answers %s" % (url, first.status), **ev)
        else:
            status, sentence = _asset_verdict(url, first)
            verdicts.add(status, sentence, **ev)
    fingerprinted = sum(1 for u in urls if E.fingerprinted(u))
    return [verdicts.finding(STATIC_ASSETS, site.canonical_host, "no asset was probed",
                             passed="all %d static assets of the homepage (%d fingerprinted, public, 1 year, "
                             "immutable) are cached long enough" % (len(urls), fingerprinted))]


# --- cache.edge_hit --------------------------------------------------------------------------------

EDGE_HIT = F.CheckSpec(
    id="cache.edge_hit", impact=F.LOW, stage="edge",
    title="A repeated request for a static asset is a cache HIT at the edge",
    fix="Let the edge keep static assets: nginx `proxy_cache` with `proxy_cache_valid 200 1d` on the static "
        "location (edge_nginx does) and `add_header X-Cache-Status $upstream_cache_status`; on Cloudflare a cache "
        "rule that caches the static path.",
    why="Without edge hits every asset request reaches the origin; the site works, just slower and closer to its "
        "capacity under a launch spike.")


@check(EDGE_HIT)
def edge_hit(site: Site, probes) -> list:
    urls, problem = E.static_assets(site, probes)
    if problem:
        return [F.make(EDGE_HIT, F.ERROR, site.canonical_host, "cannot find the static assets: %s" % problem)]
    if not urls:
        return [F.make(EDGE_HIT, F.SKIP, site.canonical_host,
                       "the homepage loads no static asset from %s to repeat" % site.canonical_host)]
    # The most cacheable asset decides: a fingerprinted one when there is one.
    url = sorted(urls, key=lambda u: not E.fingerprinted(u))[0]
    (_url, addr, first, second), = _asset_pairs(site, probes, [url])
    if addr is None:
        return [F.make(EDGE_HIT, F.ERROR, url, "cannot resolve %s: %s" % (url, first))]
    ev = {"url": url, "address": addr, "first": E.brief(first), "second": E.brief(second)}
    if not second.ok:
        return [F.make(EDGE_HIT, F.ERROR, url, "could not fetch %s: %s" % (url, second.describe_error()),
                       evidence=ev)]
    if _not_a_page(url, second):
        return [F.make(EDGE_HIT, F.ERROR, url, _not_a_page(url, second), evidence=ev)]
    state, said = E.cache_state(second)
    if state == "hit":
        return [F.make(EDGE_HIT, F.PASS, url, "the repeat request for %s was a cache HIT (%s)" % (url, said),
                       evidence=ev)]
    if state == "miss":
        return [F.make(EDGE_HIT, F.WARN, url, "the repeat request for %s was not served from the cache (%s)"
                       % (url, said), evidence=ev)]
    return [F.make(EDGE_HIT, F.WARN, url, "the edge says nothing about caching %s (%s)" % (url, said), evidence=ev)]
