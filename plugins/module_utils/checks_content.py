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
  collection's own verifying handshake accepted (``--ignore-certificate-errors-spki-list``),
  the profile lives in a fresh temporary directory, and a browser that overruns its
  budget is killed by its process group id.
- ``parse``: when no Chromium is found (or ``launch_browser: none``), the HTML is parsed
  for subresources (scripts, stylesheets, images, media, frames, objects, form targets,
  inline CSS) and the site's own stylesheets for url() and @import; only what the markup
  holds is seen.

Pages: the canonical homepage and every configured route that answers 200 with HTML.
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import edge_probe as E
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils import tls_pin, tls_probe
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - reported by tls_probe's results
    pass

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_BROWSER = ("none", "parse", "off", "false", "no")
BROWSER_WORKERS = 2
MAX_STYLESHEETS = 5
# Let timers and script-inserted resources run (virtual time: no real waiting).
VIRTUAL_TIME_MS = 3000

_MIXED = re.compile(r"Mixed Content: The page at '(?P<page>[^']*)' was loaded over (?:HTTPS|a secure connection), "
                    r"but (?:requested an insecure (?P<kind>[\w -]+?)|contains a form that targets an insecure "
                    r"endpoint) '(?P<url>[^']*)'\.\s*(?P<rest>[^\"]*)")
_LOAD_FAILED = re.compile(r"Page load failed: (\S+)")


def browser_path(site) -> tuple:
    """(path of Chromium or None, why not when None)."""
    wanted = (site.browser or "auto").strip()
    if wanted.lower() in NO_BROWSER:
        return None, "launch_browser is %s" % wanted
    if wanted.lower() == "auto":
        for name in CHROMIUM_NAMES:
            found = shutil.which(name)
            if found:
                return found, ""
        return None, "no Chromium found on PATH (%s)" % ", ".join(CHROMIUM_NAMES)
    if os.path.isfile(wanted) and os.access(wanted, os.X_OK):
        return wanted, ""
    return None, "launch_browser %s is not an executable file" % wanted


def _spki(der: bytes) -> str:
    cert = x509.load_der_x509_certificate(der)
    info = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(info).digest()).decode("ascii")


def _browser_setup(site, probes) -> tuple:
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


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the browser's own process group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def chromium_page(binary: str, url: str, resolver_rules: str, pins: list, budget: float) -> dict:
    """Load ``url`` in headless Chromium: {"resources": [...], "error": str, "seconds": float}."""
    workdir = tempfile.mkdtemp(prefix="launchready-chromium-")
    argv = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-sync", "--disable-background-networking", "--disable-component-update",
            "--disable-extensions", "--disable-default-apps", "--mute-audio",
            "--user-data-dir=%s" % os.path.join(workdir, "profile"),
            "--host-resolver-rules=%s" % resolver_rules,
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=%d" % VIRTUAL_TIME_MS, "--dump-dom", url]
    if pins:
        argv.insert(-1, "--ignore-certificate-errors-spki-list=%s" % ",".join(pins))
    env = {"HOME": workdir, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "DBUS_SESSION_BUS_ADDRESS": "disabled:"}
    started = time.monotonic()
    out = {"resources": [], "error": "", "seconds": 0.0}
    log_path = os.path.join(workdir, "stderr.log")
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
        try:
            rc = proc.wait(budget)
        except subprocess.TimeoutExpired:
            _kill(proc)
            out["error"] = "Chromium did not finish loading %s within %.0f s" % (url, budget)
            rc = None
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        seen = set()
        for m in _MIXED.finditer(text):
            rest = m.group("rest").lower()
            outcome = "blocked" if "blocked" in rest else "upgraded" if "upgraded" in rest else "warned"
            item = (m.group("url"), (m.group("kind") or "form").strip(), outcome)
            if item not in seen:
                seen.add(item)
                out["resources"].append({"url": item[0], "kind": item[1], "outcome": item[2], "page": m.group("page")})
        failed = _LOAD_FAILED.search(text)
        if failed and not out["error"]:
            out["error"] = "Chromium could not load %s: %s" % (url, failed.group(1))
        elif rc not in (0, None) and not out["error"]:
            out["error"] = "Chromium exited with %s on %s: %s" % (rc, url, text.strip().splitlines()[-1:] or "")
    except OSError as exc:
        out["error"] = "could not run Chromium (%s): %s" % (binary, exc)
    finally:
        out["seconds"] = round(time.monotonic() - started, 3)
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def parse_page(site, probes, page: P.Response) -> dict:
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


def pages(site, probes) -> list:
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

# medium: browsers block mixed scripts and styles (the page breaks: no cart button, no styling)
# and flag the rest, which costs the padlock and trust at checkout.
MIXED = F.CheckSpec(
    id="content.mixed", impact=F.MEDIUM, stage="edge",
    title="https pages load no http:// subresources (medium: browsers block them, breaking the page, and drop "
          "the padlock)",
    fix="Load every script, stylesheet, image, font and frame over https (or a relative URL); in the app's "
        "templates and CSS replace http:// with https://; `Content-Security-Policy: upgrade-insecure-requests` "
        "is a stopgap.")


@check(MIXED)
def mixed(site, probes) -> list:
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
        budget = max(15.0, 3 * site.timeout)
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(BROWSER_WORKERS, len(found))) as pool:
            results = list(pool.map(lambda page: chromium_page(binary, page.url, rules, pins, budget), found))
    else:
        results = [parse_page(site, probes, page) for page in found]
    how = "headless Chromium" if binary else "HTML/CSS parse (%s)" % why_not
    out = []
    for page, result in zip(found, results, strict=True):
        ev = {"method": method, "browser": binary, "resources": result["resources"], "seconds": result["seconds"]}
        if not binary:
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
