# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The http.* checks of Stage 1 (quick audit), as the catalog in checks.md defines them.

Every check walks the same memoized redirect chains (``http_probe.variants``:
http/https x every configured host x every resolved address, plus the configured
routes on the canonical host), so the whole family costs one request per
distinct (URL, address).  A connection fault ends as ``error`` with its reason,
never as pass.  One finding per host (per page for security headers); when a
host has several addresses the worst address decides.
"""

from __future__ import annotations

import re
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Site
from ansible_collections.launchready.ops.plugins.module_utils.verdicts import Verdicts

MAX_CANONICAL_HOPS = 3
HSTS_FAIL_BELOW = 15552000   # 180 days
HSTS_WARN_BELOW = 31536000   # one year


def _origin(url: str) -> tuple:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def _path(chain: P.Chain) -> str:
    """"http://a/ -> https://a/ -> https://b/" for a summary."""
    urls = [h.url for h in chain.hops]
    if chain.outcome == P.LOOP and chain.final is not None and chain.final.location:
        urls.append(chain.final.location)
    return " -> ".join(urls)


def _via(chain: P.Chain, hop: P.Hop) -> str:
    return "" if hop.url == chain.start else "%s leads to " % chain.start


def _chains_for(site: Site, probes, host: str, schemes=("http", "https"), routes: bool = False) -> list:
    variants = P.variants(site, probes)
    chains = [c for scheme in schemes for c in variants.get((scheme, host), [])]
    if routes and host == site.canonical_host:
        for scheme in schemes:
            for path_chains in P.route_chains(site, probes, scheme).values():
                chains.extend(path_chains)
    # The "/" route is the variant itself: keep each (start, address) once.
    return list({(c.start, c.address): c for c in chains}.values())


def _responses_on(chains: list, host: str, scheme: str = "https") -> list:
    """Distinct responses (by URL and address) on ``host`` over ``scheme`` in ``chains``."""
    seen, out = set(), []
    for chain in chains:
        for hop in chain.hops:
            resp = hop.response
            if resp is None or not resp.ok or hop.scheme != scheme or hop.host != host:
                continue
            key = (resp.url, resp.address)
            if key not in seen:
                seen.add(key)
                out.append(resp)
    return out


def _failures(chains: list) -> list:
    return [c for c in chains if c.outcome == P.FAILED]


# --- http.https_redirect ---------------------------------------------------------------------------

HTTPS_REDIRECT = F.CheckSpec(
    id="http.https_redirect", impact=F.HIGH, stage="audit",
    title="Plain http redirects permanently to https on the same host",
    fix="Answer every plain-http request with a permanent redirect to the same host over https; in nginx: "
        "`server { listen 80; server_name HOST; return 301 https://$host$request_uri; }`.",
    why="A customer typing the bare name lands on plain http (no padlock, cookies in clear).")


@check(HTTPS_REDIRECT)
def https_redirect(site: Site, probes) -> list:
    out = []
    for host in site.hosts:
        verdicts = Verdicts()
        start = "http://%s/" % host
        for chain in P.variants(site, probes)[("http", host)]:
            first = chain.hops[0]
            hop = first.to_dict()
            resp = first.response
            if first.error_kind:
                verdicts.add(F.ERROR, "%s could not be fetched: %s" % (start, chain.detail or first.error), hop=hop)
            elif not resp.is_redirect:
                verdicts.add(F.FAIL, "%s answers %s instead of redirecting to https" % (start, resp.status), hop=hop)
            else:
                scheme, to_host, _port = _origin(resp.location)
                leaves = P.off_site(site, resp.location)
                if leaves:
                    verdicts.add(F.FAIL, "%s redirects off the site to %s (%s; not followed)"
                                 % (start, resp.location, leaves), hop=hop, off_site=resp.location)
                elif scheme != "https":
                    verdicts.add(F.FAIL, "%s redirects to %s, which is not https" % (start, resp.location), hop=hop)
                elif to_host != host:
                    verdicts.add(F.FAIL, "%s redirects straight to another host (%s); redirect to https://%s/ "
                                 "first" % (start, resp.location, host), hop=hop)
                elif resp.status in (301, 308):
                    verdicts.add(F.PASS, "%s redirects with %d to %s" % (start, resp.status, resp.location), hop=hop)
                else:
                    verdicts.add(F.WARN, "%s redirects with %d (temporary); use 301 or 308" % (start, resp.status),
                                 hop=hop)
        out.append(verdicts.finding(HTTPS_REDIRECT, host, "%s was not probed" % start,
                                    fix=HTTPS_REDIRECT.fix.replace("HOST", host)))
    return out


# --- http.redirect_loop ----------------------------------------------------------------------------

REDIRECT_LOOP = F.CheckSpec(
    id="http.redirect_loop", impact=F.BLOCKER, stage="audit",
    title="No variant (http/https x every host) loops or needs more than 10 redirects",
    fix="Make each host redirect once to its final URL and never back: check that the app's own redirects agree "
        "with nginx's (e.g. the app forcing www while nginx forces the apex, or the app redirecting to https "
        "because nginx does not pass `proxy_set_header X-Forwarded-Proto $scheme;`).",
    why="A loop means the browser shows \"too many redirects\" and nobody reaches the shop.")


@check(REDIRECT_LOOP)
def redirect_loop(site: Site, probes) -> list:
    out = []
    for host in site.hosts:
        verdicts = Verdicts()
        for chain in _chains_for(site, probes, host):
            ev = {"chain": chain.to_dict()}
            if chain.outcome == P.LOOP:
                verdicts.add(F.FAIL, "%s loops: %s" % (chain.start, _path(chain)), **ev)
            elif chain.outcome == P.TOO_MANY:
                verdicts.add(F.FAIL, "%s is still redirecting after %d hops (last: %s)"
                             % (chain.start, P.MAX_HOPS, chain.final.url), **ev)
            elif chain.outcome == P.FAILED:
                verdicts.add(F.ERROR, "could not finish walking %s: %s" % (chain.start, chain.detail), **ev)
            elif chain.outcome == P.OFF_SITE:
                # No loop on the site's own names; what the other site does is not ours to fetch.
                verdicts.add(F.PASS, "%s leaves the site after %d redirect(s) for %s (not followed)"
                             % (chain.start, chain.redirects, chain.off_site), **ev)
            else:
                verdicts.add(F.PASS, "%s ends after %d redirect(s) on %s"
                             % (chain.start, chain.redirects, chain.final.url), **ev)
        longest = max((c.redirects for c in _chains_for(site, probes, host)), default=0)
        out.append(verdicts.finding(REDIRECT_LOOP, host, "no variant of %s was probed" % host,
                                    passed="no variant of %s loops; the longest chain has %d redirect(s)"
                                    % (host, longest)))
    return out


# --- http.canonical --------------------------------------------------------------------------------

CANONICAL = F.CheckSpec(
    id="http.canonical", impact=F.HIGH, stage="audit",
    title="Every variant ends on https://CANONICAL/ within 3 redirects and serves 200",
    fix="Redirect every other host and scheme straight to the canonical host in one 301, e.g. nginx "
        "`return 301 https://CANONICAL$request_uri;` in the www and port-80 servers, and make the canonical "
        "page answer 200.",
    why="Variants ending on different hosts split sessions and carts (log in on www, cart empty on the apex) and "
        "divide search ranking; a variant ending on an error page loses the visit.")


@check(CANONICAL)
def canonical(site: Site, probes) -> list:
    want = ("https", site.canonical_host, 443)
    want_url = "https://%s/" % site.canonical_host
    out = []
    for host in site.hosts:
        verdicts = Verdicts()
        for chain in _chains_for(site, probes, host):
            ev = {"chain": chain.to_dict()}
            final = chain.final
            if chain.outcome == P.FAILED:
                verdicts.add(F.ERROR, "could not finish walking %s: %s" % (chain.start, chain.detail), **ev)
            elif chain.outcome in (P.LOOP, P.TOO_MANY):
                verdicts.add(F.FAIL, "%s never ends (%s), so it never reaches %s"
                             % (chain.start, chain.outcome.replace("_", " "), want_url), **ev)
            elif chain.outcome == P.OFF_SITE:
                verdicts.add(F.FAIL, "%s redirects off the site to %s (not followed), so it never reaches %s"
                             % (chain.start, chain.off_site, want_url), **ev)
            elif _origin(final.url) != want:
                verdicts.add(F.FAIL, "%s ends on %s instead of %s" % (chain.start, final.url, want_url), **ev)
            elif final.status != 200:
                verdicts.add(F.FAIL, "%s ends on %s with %s, not 200" % (chain.start, final.url, final.status), **ev)
            elif chain.redirects > MAX_CANONICAL_HOPS:
                verdicts.add(F.WARN, "%s needs %d redirects to reach %s (at most %d): %s"
                             % (chain.start, chain.redirects, final.url, MAX_CANONICAL_HOPS, _path(chain)), **ev)
            else:
                # Any path on the canonical origin counts: a shop may send / on to /en/.
                verdicts.add(F.PASS, "%s ends on %s (200) after %d redirect(s)"
                             % (chain.start, final.url, chain.redirects), **ev)
        most = max((c.redirects for c in _chains_for(site, probes, host)), default=0)
        out.append(verdicts.finding(CANONICAL, host, "no variant of %s was probed" % host,
                                    fix=CANONICAL.fix.replace("CANONICAL", site.canonical_host),
                                    passed="every variant of %s (http and https, every address) ends on %s with "
                                    "200 within %d redirect(s)" % (host, want_url, most)))
    return out


# --- http.no_downgrade -----------------------------------------------------------------------------

NO_DOWNGRADE = F.CheckSpec(
    id="http.no_downgrade", impact=F.HIGH, stage="audit",
    title="No redirect goes from https to http",
    fix="Never redirect https to http: use https:// or relative Locations in nginx `return`/`rewrite`, and pass "
        "`proxy_set_header X-Forwarded-Proto $scheme;` so the app builds https URLs.",
    why="An https -> http hop hands the session (and any cookie without Secure) to whoever is on the network path, "
        "and undoes the padlock the customer just saw.")


@check(NO_DOWNGRADE)
def no_downgrade(site: Site, probes) -> list:
    out = []
    for host in site.hosts:
        verdicts = Verdicts()
        chains = _chains_for(site, probes, host, routes=True)
        for chain in chains:
            for hop in chain.hops:
                if hop.scheme == "https" and hop.response is not None and hop.response.is_redirect \
                        and _origin(hop.location)[0] == "http":
                    verdicts.add(F.FAIL, "%s redirects to %s (https -> http)" % (hop.url, hop.location),
                                 hop=hop.to_dict(), chain=chain.to_dict())
        if not verdicts.items:
            for chain in _failures(chains):
                verdicts.add(F.ERROR, "could not finish walking %s: %s" % (chain.start, chain.detail),
                             chain=chain.to_dict())
        if not verdicts.items:
            verdicts.add(F.PASS, "none of the %d redirect chains from %s goes from https to http"
                         % (len(chains), host), chains=[c.to_dict() for c in chains])
        out.append(verdicts.finding(NO_DOWNGRADE, host, "no variant of %s was probed" % host))
    return out


# --- http.hosts_consistent -------------------------------------------------------------------------

HOSTS_CONSISTENT = F.CheckSpec(
    id="http.hosts_consistent", impact=F.BLOCKER, stage="audit",
    title="Every configured host answers over https with a valid certificate and no 5xx",
    fix="Give every public host a certificate valid for its name (full chain, not expired) and a healthy "
        "upstream: in nginx each server_name needs its own working ssl_certificate and proxy_pass.",
    why="A configured host with a bad certificate or a 5xx is a shop that does not open for every customer who types "
        "or bookmarks that name.")


@check(HOSTS_CONSISTENT)
def hosts_consistent(site: Site, probes) -> list:
    out = []
    for host in site.hosts:
        verdicts = Verdicts()
        for chain in P.variants(site, probes)[("https", host)]:
            ev = {"chain": chain.to_dict()}
            bad_tls = [h for h in chain.hops if h.error_kind == P.TLS]
            five = [h for h in chain.hops if h.status is not None and h.status >= 500]
            if bad_tls:
                hop = bad_tls[0]
                verdicts.add(F.FAIL, "%s%s at %s: %s" % (_via(chain, hop), hop.url, hop.address, hop.error), **ev)
            elif five:
                hop = five[0]
                verdicts.add(F.FAIL, "%s%s at %s answers %d (server error)"
                             % (_via(chain, hop), hop.url, hop.address, hop.status), **ev)
            elif chain.outcome == P.FAILED:
                verdicts.add(F.ERROR, "could not reach %s over https: %s" % (host, chain.detail), **ev)
            else:
                first = chain.hops[0].response
                verdicts.add(F.PASS, "https://%s/ at %s answers %s with a valid certificate (%s)%s"
                             % (host, chain.address, first.status, first.tls_version,
                                "" if chain.final is chain.hops[0] else
                                ", ending %s %s" % (chain.final.url, chain.final.status)), **ev)
        out.append(verdicts.finding(HOSTS_CONSISTENT, host, "https://%s/ was not probed" % host,
                                    passed="https://%s/ answers with a valid certificate and no 5xx on all %d "
                                    "address(es)" % (host, len(verdicts.items))))
    return out


# --- http.https_only -------------------------------------------------------------------------------

HTTPS_ONLY = F.CheckSpec(
    id="http.https_only", impact=F.HIGH, stage="audit",
    title="Plain http serves only redirects, never page content",
    fix="Serve nothing over plain http: make the nginx port-80 server for every host just "
        "`return 301 https://$host$request_uri;` with no root or proxy_pass.",
    why="Pages (and the forms and cookies on them) served over plain http can be read and altered by anyone on the "
        "customer's network.")


@check(HTTPS_ONLY)
def https_only(site: Site, probes) -> list:
    out = []
    for host in site.hosts:
        verdicts = Verdicts()
        chains = list(_chains_for(site, probes, host, schemes=("http",), routes=True))
        for resp in _responses_on(chains, host, scheme="http"):
            if 200 <= resp.status < 300 and resp.body:
                verdicts.add(F.FAIL, "%s serves %d with %s%d bytes of content over plain http"
                             % (resp.url, resp.status, "at least " if resp.body_truncated else "", len(resp.body)),
                             response=resp.summary(), content_type=resp.header("Content-Type"))
        for chain in _failures(chains):
            if chain.hops and chain.hops[-1].scheme == "http":
                verdicts.add(F.ERROR, "could not fetch %s over plain http: %s" % (chain.start, chain.detail),
                             chain=chain.to_dict())
        if not verdicts.items:
            verdicts.add(F.PASS, "plain http on %s answers only with redirects" % host,
                         first_hops=[c.hops[0].to_dict() for c in chains if c.hops])
        out.append(verdicts.finding(HTTPS_ONLY, host, "http://%s/ was not probed" % host))
    return out


# --- http.hsts -------------------------------------------------------------------------------------

HSTS = F.CheckSpec(
    id="http.hsts", impact=F.MEDIUM, stage="audit",
    title="Strict-Transport-Security on every https response, max-age >= 1 year with includeSubDomains",
    fix="In every nginx https server block: "
        "`add_header Strict-Transport-Security \"max-age=63072000; includeSubDomains\" always;` "
        "(`always` puts it on redirects and errors too).",
    why="Without HSTS the first request of a visit can be downgraded (SSL stripping) on hostile networks; "
        "https_redirect and no_downgrade (high) already cover the common path, HSTS closes the gap.")

_MAX_AGE = re.compile(r'^\s*max-age\s*=\s*"?(\d+)"?\s*$', re.I)


def _hsts_verdict(value: str | None) -> tuple:
    if value is None:
        return F.FAIL, "sends no Strict-Transport-Security header"
    directives = [d.strip() for d in value.split(";") if d.strip()]
    max_age = None
    for d in directives:
        m = _MAX_AGE.match(d)
        if m:
            max_age = int(m.group(1))
    subdomains = any(d.lower() == "includesubdomains" for d in directives)
    days = None if max_age is None else max_age // 86400
    if max_age is None:
        return F.FAIL, "sends Strict-Transport-Security without a valid max-age (%r)" % value
    if max_age < HSTS_FAIL_BELOW:
        return F.FAIL, "sends HSTS max-age=%d (%d days), below the 180-day minimum" % (max_age, days)
    if max_age < HSTS_WARN_BELOW:
        return F.WARN, "sends HSTS max-age=%d (%d days), below one year" % (max_age, days)
    if not subdomains:
        return F.WARN, "sends HSTS max-age=%d without includeSubDomains" % max_age
    return F.PASS, "sends HSTS max-age=%d; includeSubDomains" % max_age


@check(HSTS)
def hsts(site: Site, probes) -> list:
    out = []
    for host in site.hosts:
        verdicts = Verdicts()
        chains = _chains_for(site, probes, host, schemes=("https",), routes=True)
        responses = _responses_on(chains, host)
        for resp in responses:
            # Browsers honour only the first header (RFC 6797 8.1).
            value = resp.header("Strict-Transport-Security")
            status, sentence = _hsts_verdict(value)
            verdicts.add(status, "%s (%s) %s" % (resp.url, resp.status, sentence),
                         url=resp.url, address=resp.address, status_code=resp.status, header=value)
        for chain in _failures(chains):
            verdicts.add(F.ERROR, "could not fetch %s: %s" % (chain.start, chain.detail), chain=chain.to_dict())
        if not verdicts.items:
            verdicts.add(F.ERROR, "no https response from %s to read HSTS from" % host)
        out.append(verdicts.finding(HSTS, host, "https://%s/ was not probed" % host,
                                    passed="all %d https responses of %s send HSTS with max-age >= 1 year and "
                                    "includeSubDomains" % (len(responses), host)))
    return out


# --- http.security_headers -------------------------------------------------------------------------

SECURITY_HEADERS = F.CheckSpec(
    id="http.security_headers", impact=F.LOW, stage="audit",
    title="Pages send X-Content-Type-Options nosniff, frame-ancestors or X-Frame-Options, and a safe Referrer-Policy",
    fix="In nginx: `add_header X-Content-Type-Options nosniff always; "
        "add_header Content-Security-Policy \"frame-ancestors 'self'\" always; "
        "add_header Referrer-Policy strict-origin-when-cross-origin always;`.",
    why="Defence in depth against MIME sniffing, clickjacking of the checkout and URL leaks in Referer.")

# Both send the full URL (path and query: order ids, reset tokens) to other https sites.
_UNSAFE_REFERRER = ("unsafe-url", "no-referrer-when-downgrade")
_REFERRER_TOKENS = ("no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
                    "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url")


def _header_problems(resp: P.Response) -> tuple:
    problems, seen = [], {}
    nosniff = resp.header("X-Content-Type-Options")
    seen["X-Content-Type-Options"] = nosniff
    if (nosniff or "").strip().lower() != "nosniff":
        problems.append("X-Content-Type-Options: nosniff")
    csp = resp.header_all("Content-Security-Policy")
    xfo = resp.header("X-Frame-Options")
    seen["Content-Security-Policy"] = csp or None
    seen["X-Frame-Options"] = xfo
    has_frame_ancestors = any(d.strip().lower().startswith("frame-ancestors")
                              for value in csp for d in value.split(";"))
    if not has_frame_ancestors and (xfo or "").strip().upper() not in ("DENY", "SAMEORIGIN"):
        problems.append("frame-ancestors (Content-Security-Policy) or X-Frame-Options")
    referrer = resp.header_all("Referrer-Policy")
    seen["Referrer-Policy"] = referrer or None
    # The last token a browser knows wins (W3C Referrer Policy 11.1).
    tokens = [tok.strip().lower() for value in referrer for tok in value.split(",")]
    known = [tok for tok in tokens if tok in _REFERRER_TOKENS]
    if not known:
        problems.append("Referrer-Policy")
    elif known[-1] in _UNSAFE_REFERRER:
        problems.append("a safe Referrer-Policy (%s leaks full URLs)" % known[-1])
    return problems, seen


@check(SECURITY_HEADERS)
def security_headers(site: Site, probes) -> list:
    pages: dict = {}  # final page URL -> [responses], one per address
    failed: list = []
    unread: list = []  # chains that ended on no page (a loop, a server error): the evidence of an error
    for host in site.hosts:
        chains = _chains_for(site, probes, host, schemes=("https",), routes=True)
        failed.extend(_failures(chains))
        for chain in chains:
            final = chain.final
            if chain.outcome == P.FINAL and final.scheme == "https" and final.status < 500:
                group = pages.setdefault(final.url, [])
                if all(r.address != final.address for r in group):
                    group.append(final.response)
            else:
                unread.append(chain.to_dict())
    out = []
    for url, responses in pages.items():
        verdicts = Verdicts()
        for resp in responses:
            problems, seen = _header_problems(resp)
            if problems:
                verdicts.add(F.WARN, "%s is missing %s" % (url, "; ".join(problems)),
                             address=resp.address, status_code=resp.status, headers=seen)
            else:
                verdicts.add(F.PASS, "%s sends nosniff, frame protection and Referrer-Policy %s"
                             % (url, seen["Referrer-Policy"][-1]), address=resp.address, headers=seen)
        out.append(verdicts.finding(SECURITY_HEADERS, url, "%s was not probed" % url))
    if not pages and not failed:
        out.append(F.make(SECURITY_HEADERS, F.ERROR, site.domain,
                          "no https page of %s answered without a server error, so there are no headers to read"
                          % site.domain, evidence={"chains": unread}))
    if failed:
        errors = Verdicts()
        for chain in failed:
            errors.add(F.ERROR, "could not fetch %s: %s" % (chain.start, chain.detail), chain=chain.to_dict())
        out.append(errors.finding(SECURITY_HEADERS, site.domain, "no page could be fetched"))
    return out


# --- http.cookies ----------------------------------------------------------------------------------

COOKIES = F.CheckSpec(
    id="http.cookies", impact=F.HIGH, stage="audit",
    title="Cookies set over https are Secure; session cookies also HttpOnly and SameSite",
    fix="Set session cookies with `Secure; HttpOnly; SameSite=Lax` in the app's session settings, or in nginx "
        "`proxy_cookie_flags ~ secure httponly samesite=lax;`.",
    why="A session cookie without Secure or HttpOnly can be stolen off the wire or by any injected script, which is "
        "an account takeover.")

# Names that carry a login or session; CSRF cookies are left out (they are often read by scripts).
_SESSION_NAME = re.compile(r"sess|sid|auth|token|jwt|login|remember", re.I)
_NOT_SESSION = re.compile(r"csrf|xsrf", re.I)
_FLAG_NAMES = {"secure": "Secure", "httponly": "HttpOnly"}


def parse_set_cookie(value: str) -> dict:
    """Name and attributes of one Set-Cookie header; the value is never kept (it may be a secret)."""
    first, _sep, rest = value.partition(";")
    name = first.partition("=")[0].strip()
    attrs = {}
    for part in rest.split(";"):
        key, _sep, val = part.strip().partition("=")
        if key:
            attrs[key.strip().lower()] = val.strip()
    return {"name": name, "secure": "secure" in attrs, "httponly": "httponly" in attrs,
            "samesite": attrs.get("samesite") or None,
            "session": bool(_SESSION_NAME.search(name)) and not _NOT_SESSION.search(name)}


@check(COOKIES)
def cookies(site: Site, probes) -> list:
    out = []
    for host in site.hosts:
        verdicts = Verdicts()
        chains = _chains_for(site, probes, host, schemes=("https",), routes=True)
        responses = _responses_on(chains, host)
        checked = []
        for resp in responses:
            path = urllib.parse.urlsplit(resp.url).path or "/"
            checked.append(path)
            for raw in resp.header_all("Set-Cookie"):
                c = parse_set_cookie(raw)
                where = "%s (%s)" % (c["name"], resp.url)
                missing = [flag for flag in ("secure", "httponly") if not c[flag]]
                ev = {"cookie": c, "url": resp.url, "address": resp.address}
                if c["session"] and missing:
                    verdicts.add(F.FAIL, "session cookie %s is set without %s"
                                 % (where, " and ".join(_FLAG_NAMES[m] for m in missing)), **ev)
                elif c["session"] and (c["samesite"] or "").lower() not in ("lax", "strict"):
                    verdicts.add(F.WARN, "session cookie %s has %s; use SameSite=Lax or Strict"
                                 % (where, "SameSite=%s" % c["samesite"] if c["samesite"] else "no SameSite"), **ev)
                elif not c["secure"]:
                    verdicts.add(F.WARN, "cookie %s is set over https without Secure" % where, **ev)
                else:
                    verdicts.add(F.PASS, "cookie %s is Secure%s" % (
                        where, ", HttpOnly and SameSite=%s" % c["samesite"] if c["session"] else ""), **ev)
        for chain in _failures(chains):
            verdicts.add(F.ERROR, "could not fetch %s: %s" % (chain.start, chain.detail), chain=chain.to_dict())
        if not responses and not verdicts.items:
            verdicts.add(F.ERROR, "no https response from %s to read cookies from" % host)
        elif not verdicts.items:
            verdicts.add(F.PASS, "no cookies are set on %s (checked %s)"
                         % (host, ", ".join(sorted(set(checked)))), checked=sorted(set(checked)))
        out.append(verdicts.finding(COOKIES, host, "https://%s/ was not probed" % host,
                                    passed="all %d cookies set over https by %s are Secure; session cookies also "
                                    "HttpOnly and SameSite" % (len(verdicts.items), host)))
    return out
