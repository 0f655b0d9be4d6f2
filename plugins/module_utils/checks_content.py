# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""content.mixed: https pages load no http:// subresources (checks.md, Stage 2).

Two ways to look, and the finding says which one was used (``evidence.method``):

- ``chromium``: headless Chromium loads each page and the browser's own mixed-content
  reports (its "Mixed Content: ..." console messages) are read.  This sees what scripts add
  at run time too.  Names are mapped to the addresses the site's resolvers give
  (``--host-resolver-rules``; every other name fails to resolve, so the browser reaches
  nothing but the site), a private CA is honoured by pinning the leaf keys that this
  collection's own verifying handshake accepted (``--ignore-certificate-errors-spki-list``).
  The driver is ``chromium_probe.py``: a throwaway profile (its TMPDIR inside, removed
  also when the browser is killed at its budget), the sandbox kept on (root hands the
  browser to ``nobody``), and a few browser slots shared by every fork.
- ``parse``: when no Chromium is found (or ``launch_browser: none``), the HTML is parsed
  for subresources (scripts, stylesheets, images, media, frames, objects, form targets,
  inline CSS) and the site's own stylesheets for url() and @import; only what the markup
  holds is seen.

Pages: the canonical homepage and every configured route that answers 200 with HTML.
"""

from __future__ import annotations

import base64
import hashlib
import time
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import (
    chromium_probe,
    probe_budget,
    tls_pin,
    tls_probe,
)
from ansible_collections.launchready.ops.plugins.module_utils import edge_probe as E
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - reported by tls_probe's results
    pass

MAX_STYLESHEETS = 5


def browser_path(site: Site) -> tuple:
    """(path of Chromium or None, why not when None), from ``launch_browser``."""
    return chromium_probe.browser_path(site.browser)


def _spki(der: bytes) -> str:
    cert = x509.load_der_x509_certificate(der)
    info = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(info).digest()).decode("ascii")


def _browser_setup(site: Site, probes) -> tuple:
    """(host resolver rules, SPKI pins of leaves our own verification accepted, problem or "")."""
    rules, pins = [], []
    for host in dict.fromkeys([site.canonical_host] + list(site.hosts)):
        addrs, _problem = P.resolve_host(site, probes, host)
        if not addrs:
            continue
        rules.append("MAP %s %s" % (host, addrs[0] if ":" not in addrs[0] else "[%s]" % addrs[0]))
        # Past a rejected certificate (the audit's pinned pass) the leaf tls.cert_valid saw is accepted too.
        pinned = P.pin_for(site, "https://%s/" % host, addrs[0])
        if site.ca_bundle or pinned:
            result = tls_probe.handshake_cached(probes, addrs[0], 443, host, ca_bundle=site.ca_bundle,
                                                timeout=site.timeout, verify=True)
            if result.ok and result.chain and (
                    result.verified or (pinned and tls_pin.leaf_sha256(result.chain[0]) == pinned)):
                pins.append(_spki(result.chain[0]))
    if not rules:
        return "", [], "none of the site's hosts resolves"
    rules.append("MAP * ~NOTFOUND")
    return ", ".join(rules), sorted(set(pins)), ""


def parse_page(site: Site, probes, page: P.Response) -> dict:
    """The parse fallback: http:// references in the page's markup and in the site's own stylesheets."""
    started = time.monotonic()
    refs = E.page_refs(page.url, page.body)
    resources = [{"url": url, "kind": kind, "outcome": "referenced"} for kind, url in refs
                 if url.lower().startswith("http://")]
    sheets = [url for kind, url in refs if kind == "stylesheet" and url.startswith("https://")
              and E.same_site(site, url)][:MAX_STYLESHEETS]
    for sheet in sheets:
        resp = P.fetch_cached(site, probes, sheet, page.address)
        if resp.ok and resp.status == 200:
            for kind, raw in E.css_refs(resp.body.decode("utf-8", errors="replace")):
                url = urllib.parse.urljoin(sheet, raw)
                if url.lower().startswith("http://"):
                    resources.append({"url": url, "kind": "%s in %s" % (kind, sheet), "outcome": "referenced"})
    return {"resources": resources, "error": "", "seconds": round(time.monotonic() - started, 3),
            "stylesheets": sheets}


def pages(site: Site, probes) -> list:
    """Final https responses on the canonical host that are 200 HTML pages, one per URL."""
    found: dict = {}
    for chains in P.route_chains(site, probes, "https").values():
        for chain in chains:
            final = chain.final
            if (chain.outcome == P.FINAL and final is not None and final.response is not None
                    and final.response.ok and final.status == 200 and E.is_html(final.response)
                    and final.host == site.canonical_host):
                found.setdefault(final.url, final.response)
    return list(found.values())


# --- content.mixed ---------------------------------------------------------------------------------

MIXED = F.CheckSpec(
    id="content.mixed", impact=F.MEDIUM, stage="edge",
    title="https pages load no http:// subresources",
    fix="Load every script, stylesheet, image, font and frame over https (or a relative URL); in the app's "
        "templates and CSS replace http:// with https://; `Content-Security-Policy: upgrade-insecure-requests` "
        "is a stopgap.",
    why="Browsers block mixed scripts and styles (the page breaks: no cart button, no styling) and flag the rest, "
        "which costs the padlock and trust at checkout.")


@check(MIXED)
def mixed(site: Site, probes) -> list:
    found = pages(site, probes)
    if not found:
        problem, failed = "", []
        for chains in P.route_chains(site, probes, "https").values():
            for chain in chains:
                if chain.outcome == P.FAILED:
                    problem = chain.detail
                    failed.append(chain.to_dict())
        if problem:
            return [F.make(MIXED, F.ERROR, site.canonical_host, "no page could be fetched: %s" % problem,
                           evidence={"chains": failed})]
        return [F.make(MIXED, F.SKIP, site.canonical_host,
                       "no configured route of %s answers 200 with an HTML page" % site.canonical_host)]
    binary, why_not = browser_path(site)
    method = "chromium" if binary else "parse"
    if binary:
        rules, pins, problem = _browser_setup(site, probes)
        budget = site.browser_timeout or max(15.0, 3 * site.timeout)
        slots = probe_budget.for_site(site)
        # One browser start for all the site's pages: the start costs more than a page on a busy controller.
        results = chromium_probe.load_pages(binary, [page.url for page in found], rules, pins, budget, slots=slots)
    else:
        results = [parse_page(site, probes, page) for page in found]
    how = "headless Chromium" if binary else "HTML/CSS parse (%s)" % why_not
    out = []
    for page, result in zip(found, results, strict=True):
        ev = {"method": method, "browser": binary, "resources": result["resources"], "seconds": result["seconds"]}
        if binary:
            ev.update(sandbox=result["sandbox"], browser_user=result["user"])
            if result["sandbox_note"]:
                ev["sandbox_note"] = "--no-sandbox: %s" % result["sandbox_note"]
        else:
            ev["fallback_reason"] = why_not
        if result["error"]:
            out.append(F.make(MIXED, F.ERROR, page.url, result["error"], evidence=ev))
        elif result["resources"]:
            shown = ", ".join("%s (%s, %s)" % (r["url"], r["kind"], r["outcome"]) for r in result["resources"][:3])
            more = len(result["resources"]) - 3
            out.append(F.make(MIXED, F.FAIL, page.url, "%s loads %d http:// subresource(s) [%s]: %s%s"
                              % (page.url, len(result["resources"]), how, shown,
                                 " and %d more" % more if more > 0 else ""), evidence=ev))
        else:
            out.append(F.make(MIXED, F.PASS, page.url, "%s loads no http:// subresource [%s]" % (page.url, how),
                              evidence=ev))
    return out
