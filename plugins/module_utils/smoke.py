# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy's health gate: the key routes of the site, asked as a customer would.

Each check is one request to a route of ``launch_routes`` on the canonical host, resolved
through ``launch_resolvers`` and sent to that address with SNI and Host set to the name
(the same way the audit probes reach a site), or to ``base_url`` when a deploy targets
one app server directly. Plain Python, stdlib only.
"""

from __future__ import annotations

import json
import time
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, http_probe
from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod

USER_AGENT = "launchready.ops/0.2 (+deploy health gate)"
MAX_BODY = 64 * 1024

DEFAULT_CHECKS = (
    {"route": "homepage", "method": "GET", "status": [200]},
    {"route": "login", "method": "GET", "status": [200]},
    {"route": "health", "method": "GET", "status": [200]},
    {"route": "checkout", "method": "POST", "status": [200, 201]},
    {"route": "chatbot", "method": "POST", "status": [200]},
)


def request(url: str, address: str | None, *, method: str = "GET", body: t.Any = None, ca_bundle: str | None = None,
            timeout: float = 5.0) -> dict:
    """One request; never raises for I/O. {url, address, method, status, body (text, cut), error, elapsed_ms}.

    The audit's own client (``http_probe.fetch``): ``timeout`` bounds the whole request, so a
    server trickling bytes cannot hold the gate (and the deploy lock) past it.
    """
    host = urllib.parse.urlsplit(url).hostname or ""
    connect_to = address or host
    headers = {"User-Agent": USER_AGENT, "Cache-Control": "no-cache"}
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        data = data.encode("utf-8") if isinstance(data, str) else data
        headers["Content-Type"] = "application/json"
    got = http_probe.fetch(url, connect_to, method=method, headers=headers, body=data, ca_bundle=ca_bundle,
                           timeout=timeout, max_body=MAX_BODY)
    return {"url": url, "address": connect_to, "method": method, "status": got.status,
            "body": got.body.decode("utf-8", errors="replace")[:2000],
            "error": None if got.ok else "%s: %s" % (got.error_kind, got.error), "elapsed_ms": got.elapsed_ms}


def _judge(check: dict, got: dict, expect_commit: str | None) -> str | None:
    """None when the answer passes, else why not."""
    if got["error"]:
        return got["error"]
    wanted = check.get("status") or [200]
    if got["status"] not in wanted:
        return "HTTP %s (wanted %s)" % (got["status"], "/".join(str(s) for s in wanted))
    if check.get("contains") and check["contains"] not in got["body"]:
        return "the answer does not contain %r" % check["contains"]
    if check.get("route") == "version" and expect_commit:
        try:
            served = str(json.loads(got["body"]).get("commit") or "")
        except (ValueError, AttributeError):
            return "the version endpoint did not answer JSON"
        if not served or not (expect_commit.startswith(served) or served.startswith(expect_commit)):
            return "serves commit %s, not the new %s" % (served[:12] or "?", expect_commit[:12])
    return None


def run(site_vars: dict, checks: t.Iterable[dict] = DEFAULT_CHECKS, base_url: str | None = None,
        expect_commit: str | None = None, retries: int = 3, delay: float = 1.0) -> dict:
    """Run every check whose route the site has; {"ok", "results", "skipped", "failures"}."""
    site = site_mod.from_vars(site_vars)
    routes = dict(site.routes)
    address = None
    if base_url:
        base = base_url.rstrip("/")
    else:
        base = "https://%s" % site.canonical_host
        addresses, problem = http_probe.resolve_host(site, check_registry.Probes(), site.canonical_host)
        if not addresses:
            return {"ok": False, "results": [], "skipped": [], "failures": [problem], "base_url": base}
        address = addresses[0]
    plan = [dict(c) for c in checks]
    if expect_commit and "version" in routes and not any(c.get("route") == "version" for c in plan):
        plan.append({"route": "version", "method": "GET", "status": [200]})
    results, skipped, failures = [], [], []
    for check in plan:
        path = check.get("path") or routes.get(check.get("route", ""))
        if not path:
            skipped.append(check.get("route"))
            continue
        why = None
        got: dict = {}
        for attempt in range(max(1, int(retries))):
            if attempt:
                time.sleep(delay)
            got = request(base + path, address, method=check.get("method", "GET"), body=check.get("body"),
                          ca_bundle=site.ca_bundle, timeout=site.timeout)
            why = _judge(check, got, expect_commit)
            if why is None:
                break
        row = {"route": check.get("route"), "url": got["url"], "address": got["address"], "method": got["method"],
               "status": got["status"], "elapsed_ms": got["elapsed_ms"], "ok": why is None}
        if why:
            row["problem"] = why
            row["body"] = got["body"][:500]
            failures.append("%s %s: %s" % (got["method"], got["url"], why))
        results.append(row)
    return {"ok": not failures, "results": results, "skipped": skipped, "failures": failures, "base_url": base,
            "address": address}
