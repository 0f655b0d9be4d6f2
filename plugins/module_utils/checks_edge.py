# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge.* checks of Stage 2 (edge hardening), as the catalog in checks.md defines them.

- edge.proxied compares what the public names resolve to with the edge: Cloudflare's
  published ranges (``CLOUDFLARE_RANGES``) and/or ``launch_edge_addresses``.
- edge.rate_limit sends a bounded burst of POSTs (what credential stuffing and chatbot
  abuse send) to the login and chatbot routes and expects 429 before
  ``launch_rate_limit_requests`` (default 60, at most 300) requests.  The POSTs carry an
  empty body: the app refuses them (400) without logging anyone in or calling the
  chatbot's paid vendor.  The burst runs after every other check of the site has finished
  (``burst=True``), so a limiter it trips never answers their requests; a login that
  cannot be reached at all (redirect loop, 5xx, no answer) is an ``error``, never a
  "no limit" fail.
- edge.settings reads the Cloudflare zone back through the v4 API (only with Cloudflare).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_api, dns_query
from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_edge as CF
from ansible_collections.launchready.ops.plugins.module_utils import edge_probe as E
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

# https://www.cloudflare.com/ips/ (IPv4 and IPv6 ranges of Cloudflare's edge).
CLOUDFLARE_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
))

RATE_LIMIT_WORKERS = E.BURST_WORKERS


def _in(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in networks)


# --- edge.proxied ----------------------------------------------------------------------------------

PROXIED = F.CheckSpec(
    id="edge.proxied", impact=F.HIGH, stage="edge",
    title="Public hosts resolve to the edge (Cloudflare's ranges or launch_edge_addresses), never to the origin",
    fix="Point every public name at the edge only: on Cloudflare turn the records' proxy on (orange cloud; the "
        "edge_cloudflare role does), with nginx publish only the edge's addresses; then change the origin's "
        "address if it was ever public, and let the origin accept traffic from the edge only.",
    why="With the origin's address in public DNS, attackers go around the edge (no WAF, no rate limits, no cache) "
        "and can take the origin down directly.")


@check(PROXIED)
def proxied(site: Site, probes) -> list:
    edge_nets = [ipaddress.ip_network(a, strict=False) for a in site.edge_addresses]
    if site.edge_provider == "cloudflare":
        allowed, what = list(CLOUDFLARE_RANGES) + edge_nets, "Cloudflare's edge ranges"
    elif edge_nets:
        allowed, what = edge_nets, "the edge (launch_edge_addresses)"
    else:
        allowed, what = [], ""
    out = []
    for host in site.hosts:
        try:
            result = dns_query.resolve_cached(site, probes, host)
        except Exception as exc:  # a resolver fault is reported, never read as a pass
            out.append(F.make(PROXIED, F.ERROR, host, "cannot resolve %s: %s" % (host, exc)))
            continue
        addrs = list(result["addresses"])
        ev = {"addresses": addrs, "edge": site.edge_provider or None,
              "errors": [a.to_dict() for a in result["errors"]]}
        if result["errors"] and not addrs:
            out.append(F.make(PROXIED, F.ERROR, host, "cannot resolve %s: %s" % (host, "; ".join(
                "%s %s at %s" % (a.rdtype, a.status, a.server) for a in result["errors"])), evidence=ev))
            continue
        if not addrs:
            out.append(F.make(PROXIED, F.ERROR, host, "%s has no A or AAAA record" % host, evidence=ev))
            continue
        if not allowed:
            if all(_in(a, CLOUDFLARE_RANGES) for a in addrs):
                out.append(F.make(PROXIED, F.PASS, host, "%s resolves only to Cloudflare's edge (%s)"
                                  % (host, ", ".join(addrs)), evidence=ev))
            else:
                out.append(F.make(PROXIED, F.SKIP, host, "no edge is described: set launch_edge_provider and, for a "
                                  "self-hosted edge, launch_edge_addresses", evidence=ev))
            continue
        exposed = [a for a in addrs if not _in(a, allowed)]
        if exposed:
            out.append(F.make(PROXIED, F.FAIL, host, "%s resolves to %s, outside %s: the origin is exposed in DNS"
                              % (host, ", ".join(exposed), what), evidence=ev))
        else:
            out.append(F.make(PROXIED, F.PASS, host, "%s resolves only to %s (%s)" % (host, what, ", ".join(addrs)),
                              evidence=ev))
    return out


# --- edge.rate_limit -------------------------------------------------------------------------------

RATE_LIMIT = F.CheckSpec(
    id="edge.rate_limit", impact=F.HIGH, stage="edge",
    title="A burst against the login and the chatbot gets 429 before launch_rate_limit_requests requests",
    fix="Throttle the login and chatbot routes per client at the edge and answer 429: nginx "
        "`limit_req_zone ... rate=10r/s; limit_req zone=... burst=20 nodelay; limit_req_status 429;` (edge_nginx "
        "does), or a Cloudflare rate limiting rule on those paths (edge_cloudflare does).",
    why="Without throttling, credential stuffing runs against the login at full speed and bots run up the chatbot's "
        "vendor bill (or take it down) in minutes.",
    burst=True)

_ROUTE_BODY = {"login": ("application/x-www-form-urlencoded", "the login"),
               "chatbot": ("application/json", "the chatbot")}


def _unreachable(site: Site, probes, path: str, address: str) -> str:
    """Why ``path`` on the canonical host cannot be reached at ``address`` (loop, 5xx, no answer), or ""."""
    chains = P.route_chains(site, probes, "https").get(path) or []
    chain = next((c for c in chains if c.address == address), chains[0] if chains else None)
    if chain is None:
        return ""
    if chain.outcome in (P.LOOP, P.TOO_MANY, P.FAILED):
        return chain.detail or chain.outcome
    final = chain.final
    if final is not None and final.status is not None and final.status >= 500:
        return "%s answers %d" % (final.url, final.status)
    return ""


@check(RATE_LIMIT)
def rate_limit(site: Site, probes) -> list:
    routes = [(name, site.routes[name]) for name in ("login", "chatbot") if site.routes.get(name)]
    if not routes:
        return [F.make(RATE_LIMIT, F.SKIP, site.domain, "no login or chatbot route configured (launch_routes)")]
    addrs, problem = E.canonical_addresses(site, probes)
    if not addrs:
        return [F.make(RATE_LIMIT, F.ERROR, site.domain, "cannot probe the rate limits: %s" % problem)]
    limit = site.rate_limit_requests
    out = []
    for name, path in routes:
        url = E.url_for(site, path)
        ctype, what = _ROUTE_BODY[name]
        problem = _unreachable(site, probes, path, addrs[0])
        if problem:
            # A burst that meets a loop, a 5xx or no answer says nothing about a rate limit.
            out.append(F.make(RATE_LIMIT, F.ERROR, url, "%s (%s) could not be reached, so its rate limit cannot be "
                              "judged: %s" % (what, url, problem),
                              evidence={"url": url, "address": addrs[0], "sent": 0, "unreachable": problem}))
            continue
        result = probes.memo(("edge.burst", url, addrs[0], limit),
                             lambda url=url, ctype=ctype: E.burst(site, url, addrs[0], limit, ctype))
        ev = dict(result, url=url, address=addrs[0], limit=limit, method="POST")
        first = result["first_throttled"]
        if first is not None and result["throttle_status"] == 429:
            out.append(F.make(RATE_LIMIT, F.PASS, url, "%s (%s) answered 429 at request %d of at most %d (%.2f s)"
                              % (what, url, first, limit, result["seconds"]), evidence=ev))
        elif first is not None:
            out.append(F.make(RATE_LIMIT, F.WARN, url, "%s (%s) throttles with %d at request %d: answer 429 so "
                              "clients know to back off" % (what, url, result["throttle_status"], first),
                              evidence=ev, fix="In nginx add `limit_req_status 429;` next to limit_req_zone."))
        elif result["errors"] and result["sent"] - len(result["errors"]) < limit:
            out.append(F.make(RATE_LIMIT, F.ERROR, url, "the burst against %s could not finish: %s"
                              % (url, result["errors"][0]), evidence=ev))
        elif result["statuses"] and all(int(code) >= 500 for code in result["statuses"]):
            out.append(F.make(RATE_LIMIT, F.ERROR, url, "%s (%s) answered every POST of the burst with a server error "
                              "(statuses %s): its rate limit cannot be judged" % (what, url, ", ".join(
                                  "%s x%d" % kv for kv in sorted(result["statuses"].items()))), evidence=ev))
        else:
            out.append(F.make(RATE_LIMIT, F.FAIL, url, "%s (%s) answered all %d POSTs of a burst without throttling "
                              "(statuses %s)" % (what, url, result["sent"], ", ".join(
                                  "%s x%d" % kv for kv in sorted(result["statuses"].items()))), evidence=ev))
    return out


# --- edge.settings ---------------------------------------------------------------------------------

SETTINGS = F.CheckSpec(
    id="edge.settings", impact=F.HIGH, stage="edge",
    title="The Cloudflare zone has SSL full (strict), Always Use HTTPS, minimum TLS 1.2 and the WAF managed rules on",
    fix="Run the edge playbook with edge_provider: cloudflare (role edge_cloudflare), or in the dashboard: SSL/TLS "
        "mode Full (strict), Always Use HTTPS on, Minimum TLS Version 1.2, Security > WAF > Managed rules on.",
    why="Flexible SSL sends customers' traffic to the origin in clear; without always-HTTPS, TLS 1.2 and the managed "
        "WAF rules, the edge leaves the common attacks open.")

_TLS_ORDER = ("1.0", "1.1", "1.2", "1.3")


@check(SETTINGS)
def settings(site: Site, probes) -> list:
    if site.edge_provider != "cloudflare":
        return [F.make(SETTINGS, F.SKIP, site.domain, "the edge is not Cloudflare (launch_edge_provider: %s)"
                       % (site.edge_provider or "not set"))]
    cfg = site.cloudflare
    if not cfg["api_token"]:
        return [F.make(SETTINGS, F.ERROR, site.domain, "cannot read the Cloudflare zone: set "
                       "launch_cloudflare_api_token (from a vault) to a token that can read it")]
    try:
        client = cloudflare_api.CloudflareClient(cfg["api_token"], api_url=cfg["api_url"],
                                                 timeout=max(site.timeout, 5.0), extra_ca=site.ca_bundle)
        zone = cfg["zone_id"] or client.zone_id(site.domain)
        values = {name: CF.get_setting(client, zone, name)
                  for name in ("ssl", "always_use_https", "min_tls_version", "security_header")}
        waf_ids = CF.waf_managed(CF.get_entrypoint(client, zone, CF.PHASE_WAF))
    except cloudflare_api.CloudflareError as exc:
        return [F.make(SETTINGS, F.ERROR, site.domain, "cannot read the Cloudflare zone: %s" % CF.explain(exc))]
    problems, warnings = [], []
    if values["ssl"] != "strict":
        problems.append("SSL mode is %s, not full (strict)" % values["ssl"])
    if values["always_use_https"] != "on":
        problems.append("Always Use HTTPS is %s" % values["always_use_https"])
    tls = str(values["min_tls_version"])
    if tls not in _TLS_ORDER or _TLS_ORDER.index(tls) < _TLS_ORDER.index("1.2"):
        problems.append("minimum TLS version is %s" % tls)
    if not waf_ids:
        problems.append("no managed WAF ruleset is deployed")
    hsts = ((values["security_header"] or {}).get("strict_transport_security") or {})
    if not hsts.get("enabled"):
        warnings.append("HSTS is off in the zone's security header setting")
    evidence = {"zone_id": zone, "settings": values, "waf_managed_rulesets": waf_ids}
    if problems:
        return [F.make(SETTINGS, F.FAIL, site.domain, "Cloudflare zone %s: %s" % (site.domain, "; ".join(problems)),
                       evidence=evidence)]
    if warnings:
        return [F.make(SETTINGS, F.WARN, site.domain, "Cloudflare zone %s: %s" % (site.domain, "; ".join(warnings)),
                       evidence=evidence, fix="Turn HSTS on in SSL/TLS > Edge Certificates (edge_cloudflare does).")]
    return [F.make(SETTINGS, F.PASS, site.domain, "Cloudflare zone %s: SSL full (strict), Always Use HTTPS, minimum "
                   "TLS %s, HSTS and managed WAF rules on" % (site.domain, tls), evidence=evidence)]
