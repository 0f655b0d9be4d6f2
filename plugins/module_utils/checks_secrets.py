# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""secrets.repo_files, secrets.repo_history, secrets.frontend_bundle, secrets.public_files (checks.md, Stage 1).

- The repo checks read the app's git checkout on the controller (``launch_app_repo``) and
  the extra paths of ``launch_secret_paths`` (deploy config, built output); without a repo
  they skip.  ``launch_secret_baseline`` (default ``.launchready-secrets.json`` in the repo)
  allowlists fingerprints.
- The served checks ask the canonical host's first address, through the audit's probe
  (``http_probe.polite_fetch``: SNI and Host to the resolved address, a total deadline, the
  site's CA bundle), for a bounded list of URLs: the pages of ``launch_routes``, the
  same-site scripts and stylesheets they load, the source maps those name, and the
  well-known leak paths.  A 200 whose body is what a random path gets (an SPA answering
  index.html for everything) is not a leak.

Findings name the kind, the file or URL, the line (and commit) and a fingerprint; never a value.
"""

from __future__ import annotations

import os
import re
import secrets as _random
import string
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import edge_probe as E
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils import secret_scan as S
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

DEFAULT_BASELINE = ".launchready-secrets.json"
MAX_ASSET_BODY = 8 * 1024 * 1024  # bundles are big; the probe's default 512 KiB would cut them
MAX_SCRIPTS = 12
MAX_MAPS = 12
MAX_LISTED = 20  # hits listed in a finding's evidence

_MAP_COMMENT = re.compile(rb"[#@]\s*sourceMappingURL=([^\s'\"*]+)")
_ENV_LINE = re.compile(rb"(?m)^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=")
_SHA = re.compile(rb"^[0-9a-f]{40}\s*$")


def describe(hits: list, limit: int = 3) -> str:
    shown = ", ".join("%s at %s (%s)" % (h.kind, h.where(), h.fingerprint) for h in hits[:limit])
    return shown + (" and %d more" % (len(hits) - limit) if len(hits) > limit else "")


def scanner(site: Site, probes: t.Any) -> S.Scanner:
    """One scanner per site run, so fingerprints of the repo and the served files can be compared."""
    def make() -> S.Scanner:
        return S.Scanner.with_baseline(baseline_path(site))
    return probes.memo(("secrets.scanner",), make)


def baseline_path(site: Site) -> str | None:
    if site.secret_baseline:
        return site.secret_baseline
    if site.app_repo and os.path.exists(os.path.join(site.app_repo, DEFAULT_BASELINE)):
        return os.path.join(site.app_repo, DEFAULT_BASELINE)
    return None


def _evidence(hits: list, scan: S.Scanner, **more: t.Any) -> dict:
    ev = {"count": len(hits), "secrets": [h.to_dict() for h in hits[:MAX_LISTED]],
          "fingerprints": "HMAC-SHA256 under the baseline's key" if scan.baseline else "HMAC-SHA256, per-run key"}
    ev.update(more)
    return ev


# --- secrets.repo_files ----------------------------------------------------------------------------

REPO_FILES = F.CheckSpec(
    id="secrets.repo_files", impact=F.BLOCKER, stage="audit",
    title="No credentials in the app's repository working tree, deploy config or built output",
    fix="Rotate each key at its vendor first, then move it to the vault (app_env_secrets) and read it from the "
        "environment; allowlist a fixture with '# launchready: allow-secret' or the baseline file.",
    why="A live key in the repository is a key every clone, CI log and contractor laptop holds.")


@check(REPO_FILES)
def repo_files(site: Site, probes: t.Any) -> list:
    if not site.app_repo:
        return [F.make(REPO_FILES, F.SKIP, site.domain, "launch_app_repo is not set: no repository to scan")]
    if not os.path.isdir(site.app_repo):
        return [F.make(REPO_FILES, F.ERROR, site.domain, "launch_app_repo %s is not a directory" % site.app_repo)]
    scan = scanner(site, probes)
    return [files_finding(site.app_repo, scan_files(scan, site.app_repo, site.secret_paths, baseline_path(site)),
                          scan, [site.app_repo] + list(site.secret_paths))]


def scan_files(scan: S.Scanner, repo: str, extra: t.Iterable[str], baseline: str | None) -> list:
    """Hits in the working tree of ``repo`` (the baseline file left out) and in each extra path."""
    hits = scan.scan_paths([repo], skip=[baseline] if baseline else [])
    for path in extra:
        hits += scan.scan_paths([path], relative_to=os.path.dirname(os.path.abspath(path)))
    return hits


def files_finding(target: str, hits: list, scan: S.Scanner, where: list) -> F.Finding:
    if hits:
        return F.make(REPO_FILES, F.FAIL, target, "%d secret(s) in the repository and deploy files: %s"
                      % (len(hits), describe(hits)), evidence=_evidence(hits, scan, scanned=where))
    return F.make(REPO_FILES, F.PASS, target, "no secret in %d file(s) of %s"
                  % (scan.files_scanned, ", ".join(where)), evidence=_evidence(hits, scan, scanned=where))


# --- secrets.repo_history --------------------------------------------------------------------------

REPO_HISTORY = F.CheckSpec(
    id="secrets.repo_history", impact=F.HIGH, stage="audit",
    title="No credentials anywhere in the app's git history: every branch, deleted files too",
    fix="Rotate the key at its vendor (deleting the commit does not unshare it), then add its fingerprint to the "
        "baseline (secret_scan update_baseline) so the gate passes; rewrite history only if the repo is public.",
    why="A deleted key is still in every clone's history; only rotation makes it harmless.")


@check(REPO_HISTORY)
def repo_history(site: Site, probes: t.Any) -> list:
    if not site.app_repo:
        return [F.make(REPO_HISTORY, F.SKIP, site.domain, "launch_app_repo is not set: no history to scan")]
    if not os.path.isdir(os.path.join(site.app_repo, ".git")) and not os.path.isfile(
            os.path.join(site.app_repo, "HEAD")):
        return [F.make(REPO_HISTORY, F.SKIP, site.app_repo, "%s is not a git repository" % site.app_repo)]
    scan = scanner(site, probes)
    return [history_finding(site.app_repo, scan.scan_history(site.app_repo), scan)]


def history_finding(target: str, hits: list, scan: S.Scanner) -> F.Finding:
    if hits:
        gone = sum(1 for h in hits if not h.in_head)
        return F.make(REPO_HISTORY, F.FAIL, target, "%d secret(s) in git history (%d no longer in HEAD): %s"
                      % (len(hits), gone, describe(hits)), evidence=_evidence(hits, scan))
    return F.make(REPO_HISTORY, F.PASS, target, "no secret in any commit of any branch",
                  evidence=_evidence(hits, scan))


# --- what the site serves --------------------------------------------------------------------------

def _get(site: Site, probes: t.Any, url: str, address: str) -> P.Response:
    return probes.memo(("secrets.fetch", url, address),
                       lambda: P.polite_fetch(site, url, address, max_body=MAX_ASSET_BODY))


def served(site: Site, probes: t.Any) -> dict:
    """{"address", "pages": [Response], "assets": [Response], "maps": {url: referenced by}, "problem"}."""
    def compute() -> dict:
        addrs, problem = E.canonical_addresses(site, probes)
        if not addrs:
            return {"problem": problem}
        address = addrs[0]
        pages = []
        for path in dict.fromkeys(["/"] + list(site.routes.values())):
            resp = _get(site, probes, E.url_for(site, path), address)
            if resp.ok and resp.status == 200 and E.is_html(resp):
                pages.append(resp)
        if not pages:
            first = _get(site, probes, E.url_for(site, "/"), address)
            return {"problem": first.describe_error() if not first.ok else "no configured route answers 200 HTML"}
        refs = []
        for page in pages:
            refs += [(kind, url) for kind, url in E.page_refs(page.url, page.body)
                     if kind in ("script", "stylesheet") and E.same_site(site, url)]
        urls = list(dict.fromkeys(url for _kind, url in refs))[:MAX_SCRIPTS]
        assets, maps = [], {}
        for url in urls:
            resp = _get(site, probes, url, address)
            if not (resp.ok and resp.status == 200):
                continue
            assets.append(resp)
            named = _MAP_COMMENT.findall(resp.body[-4096:]) or [
                v.encode() for v in (resp.header("SourceMap"), resp.header("X-SourceMap")) if v]
            targets = [urllib.parse.urljoin(url, n.decode("utf-8", "replace")) for n in named[-1:]]
            if not targets and url.endswith((".js", ".css")):
                targets = [url + ".map"]  # the build tools' default name, served even when the comment is gone
            for target in targets:
                if E.same_site(site, target) and len(maps) < MAX_MAPS:
                    maps.setdefault(target, url)
        return {"address": address, "pages": pages, "assets": assets, "maps": maps, "problem": ""}
    return probes.memo(("secrets.served",), compute)


def _is_source_map(resp: P.Response) -> bool:
    return resp.ok and resp.status == 200 and b'"mappings"' in resp.body[:MAX_ASSET_BODY] and \
        resp.body.lstrip()[:1] in (b"{", b")")


# --- secrets.frontend_bundle -----------------------------------------------------------------------

FRONTEND_BUNDLE = F.CheckSpec(
    id="secrets.frontend_bundle", impact=F.BLOCKER, stage="audit",
    title="The served HTML, JS, CSS and source maps hold no server-side secret",
    fix="Rotate the key, keep it on the server (no NEXT_PUBLIC_/VITE_/REACT_APP_ prefix, no import into client "
        "code), rebuild and redeploy the bundle, and purge the old one from the edge cache.",
    why="Whatever the browser downloads is public; a server key in it is a key anyone can use.")


@check(FRONTEND_BUNDLE)
def frontend_bundle(site: Site, probes: t.Any) -> list:
    got = served(site, probes)
    if got["problem"]:
        return [F.make(FRONTEND_BUNDLE, F.ERROR, site.canonical_host, "could not read the served pages: %s"
                       % got["problem"])]
    scan = scanner(site, probes)
    hits = []
    for resp in got["pages"] + got["assets"]:
        hits += scan.scan_bytes(resp.body, resp.url)
    read_maps = []
    for url in got["maps"]:
        resp = _get(site, probes, url, got["address"])
        if _is_source_map(resp):
            read_maps.append(url)
            hits += scan.scan_bytes(resp.body, url)
    ev = _evidence(hits, scan, pages=[p.url for p in got["pages"]], assets=[a.url for a in got["assets"]],
                   source_maps=read_maps, address=got["address"])
    if hits:
        return [F.make(FRONTEND_BUNDLE, F.FAIL, site.canonical_host, "%d secret(s) in what the site serves: %s"
                       % (len(hits), describe(hits)), evidence=ev)]
    return [F.make(FRONTEND_BUNDLE, F.PASS, site.canonical_host, "no secret in %d page(s), %d asset(s) and %d "
                   "source map(s)" % (len(got["pages"]), len(got["assets"]), len(read_maps)), evidence=ev)]


# --- secrets.public_files --------------------------------------------------------------------------

PUBLIC_FILES = F.CheckSpec(
    id="secrets.public_files", impact=F.BLOCKER, stage="audit",
    title="/.env, /.git, backup copies and source maps are not served",
    fix="Deny dotfiles and backups at the edge (nginx: location ~ /\\. { deny all; } and location ~ "
        "(~|\\.bak|\\.old|\\.swp|\\.zip)$ { deny all; }), deploy only the build output, and stop publishing "
        "*.map files (or serve them only to your error tracker); rotate any key the files held.",
    why="A served .env or .git hands over every key and the source code at once.")


def leak_paths(site: Site) -> list:
    """(path, how to recognise the real file) of the well-known leaks."""
    env = ("env", lambda b: bool(_ENV_LINE.search(b[:65536])))
    paths = [("/.env", env), ("/.env.production", env), ("/.env.local", env),
             ("/.git/HEAD", ("git HEAD", lambda b: b.startswith(b"ref: ") or bool(_SHA.match(b[:64])))),
             ("/.git/config", ("git config", lambda b: b"[core]" in b[:4096]))]
    other = ("a copy of another file", None)
    for name in ("index.html", "index.php", "wp-config.php", "config.php", ".env"):
        paths += [("/%s.bak" % name, other), ("/%s~" % name, other), ("/%s.old" % name, other),
                  ("/.%s.swp" % name, ("vim swap file", lambda b: b.startswith(b"b0VIM")))]
    zipped = ("zip archive", lambda b: b.startswith(b"PK\x03\x04"))
    for stem in dict.fromkeys([site.canonical_host, site.domain, "www", "site", "backup", "public", "html", "dist"]):
        paths.append(("/%s.zip" % stem, zipped))
    return paths


def _same_as(resp: P.Response, fallback: P.Response | None) -> bool:
    """Whether ``resp`` is the answer every unknown path gets (an SPA's index.html, a soft 404)."""
    if fallback is None or not fallback.ok or fallback.status != 200:
        return False
    return resp.body == fallback.body or (E.is_html(resp) and E.is_html(fallback)
                                          and len(resp.body) == len(fallback.body))


@check(PUBLIC_FILES)
def public_files(site: Site, probes: t.Any) -> list:
    got = served(site, probes)
    address = got.get("address")
    if not address:
        addrs, problem = E.canonical_addresses(site, probes)
        if not addrs:
            return [F.make(PUBLIC_FILES, F.ERROR, site.canonical_host, "could not probe: %s" % problem)]
        address = addrs[0]
    # Letters only: a random run of digits could read as a card number in the site's logs (privacy.logs_pii).
    absent = "".join(_random.choice(string.ascii_lowercase) for _n in range(16))
    fallback = _get(site, probes, E.url_for(site, "/launchready-absent-%s" % absent), address)
    exposed, asked, failed = [], 0, []
    for path, (what, looks_like) in leak_paths(site):
        resp = _get(site, probes, E.url_for(site, path), address)
        asked += 1
        if not resp.ok:
            failed.append(resp.describe_error())
            continue
        if resp.status != 200 or _same_as(resp, fallback):
            continue
        if looks_like is not None and not looks_like(resp.body):
            continue
        exposed.append({"url": resp.url, "status": resp.status, "what": what, "bytes": len(resp.body)})
    for url, script in got.get("maps", {}).items():
        resp = _get(site, probes, url, address)
        asked += 1
        if _is_source_map(resp) and not _same_as(resp, fallback):
            exposed.append({"url": url, "status": resp.status, "what": "source map of %s" % script,
                            "bytes": len(resp.body)})
    ev = {"address": address, "requests": asked + 1, "exposed": exposed,
          "random_path_status": fallback.status if fallback.ok else fallback.error_kind}
    if exposed:
        return [F.make(PUBLIC_FILES, F.FAIL, site.canonical_host, "%d file(s) that must stay private are served: %s"
                       % (len(exposed), ", ".join("%s (%s)" % (e["url"], e["what"]) for e in exposed[:5])),
                       evidence=ev)]
    if failed and len(failed) == asked:
        return [F.make(PUBLIC_FILES, F.ERROR, site.canonical_host, "no probe got an answer: %s" % failed[0],
                       evidence=ev)]
    ev["errors"] = failed[:5]
    return [F.make(PUBLIC_FILES, F.PASS, site.canonical_host, "none of %d well-known leak paths and source maps is "
                   "served" % asked, evidence=ev)]
