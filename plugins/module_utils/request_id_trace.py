# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The facts of logs.request_id: one request with a fresh X-Request-ID, then the log lines holding it.

``send`` runs on the controller (the site as a customer reaches it, through the audit's probe);
``search_logs`` runs where the logs are (the log_search module on an app host, or in process when
the logs are on the controller); ``facts`` joins both into what checks_monitoring.request_id judges.
Nothing here raises for I/O: every fault becomes an ``error`` sentence.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import typing as t

HEADER = "X-Request-ID"
# The shape the demo shop (and most frameworks) keep when an edge sends it: safe to log and to grep.
ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
# Only the end of each log is read: the request was just sent, and a log can be gigabytes.
TAIL_BYTES = 8 * 1024 * 1024
MAX_HITS = 5
MAX_FILES = 200


def fresh_id() -> str:
    return "launchready-" + secrets.token_hex(12)


def probe_url(site: t.Any) -> str:
    """The canonical host's health route (cheap, no side effect), else its homepage."""
    route = site.routes.get("health") or site.routes.get("homepage") or "/"
    return "https://%s%s" % (site.canonical_host, route)


def send(site: t.Any, probes: t.Any, rid: str | None = None) -> dict:
    """GET ``probe_url`` once with a fresh X-Request-ID: {url, address, sent, returned, echoed, status, error}."""
    from ansible_collections.launchready.ops.plugins.module_utils import http_probe

    rid = rid or fresh_id()
    url = probe_url(site)
    out = {"url": url, "address": None, "sent": rid, "returned": None, "echoed": False, "status": None,
           "error": None}
    try:
        addresses, problem = http_probe.resolve_host(site, probes, site.canonical_host)
    except Exception as exc:  # a resolver fault is a reason, not a crash
        addresses, problem = [], "%s could not be resolved: %s" % (site.canonical_host, exc)
    if not addresses:
        out["error"] = problem or "%s does not resolve" % site.canonical_host
        return out
    out["address"] = addresses[0]
    resp = http_probe.site_fetch(site, url, addresses[0], headers={HEADER: rid})
    if resp.error:
        out["error"] = "%s from %s: %s" % (url, addresses[0], resp.describe_error())
        return out
    out["status"] = resp.status
    returned = (resp.header(HEADER) or "").strip()
    out["returned"] = returned or None
    out["echoed"] = returned == rid
    return out


def search_logs(paths: t.Sequence[str], needle: str, max_hits: int = MAX_HITS) -> dict:
    """Lines holding ``needle`` in the files the globs ``paths`` match: {log_files, log_hits, error}.

    ``error`` says why the logs could not be read (no file matches, a file unreadable); a readable
    log without the needle is no error, only no hit.
    """
    files: list = []
    for pattern in paths:
        files.extend(sorted(p for p in glob.glob(os.path.expanduser(pattern)) if os.path.isfile(p)))
    files = list(dict.fromkeys(files))[:MAX_FILES]
    out: dict = {"log_files": files, "log_hits": [], "error": None}
    if not files:
        out["error"] = "no log file matches %s" % ", ".join(paths)
        return out
    if not ID_PATTERN.match(needle):
        out["error"] = "refusing to search for %r: not a request id" % needle
        return out
    unreadable = []
    key = needle.encode()
    for path in files:
        try:
            with open(path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - TAIL_BYTES))
                data = fh.read()
        except OSError as exc:
            unreadable.append("%s (%s)" % (path, exc.strerror or exc))
            continue
        for line in data.splitlines():
            if key in line and len(out["log_hits"]) < max_hits:
                out["log_hits"].append(line.decode("utf-8", "replace")[:2000])
    if unreadable and not out["log_hits"]:
        out["error"] = "cannot read %s" % ", ".join(unreadable)
    return out


def facts(request: dict | None, searches: list | None) -> dict | None:
    """The ``request_id`` facts of checks_monitoring from ``send`` and one ``search_logs`` per log host.

    None when launch_log_paths is not set (``searches`` is None): the check skips with that reason.
    """
    if searches is None or request is None:
        return None
    out = dict(request)
    out["log_files"] = [f for s in searches for f in s.get("log_files") or []]
    out["log_hits"] = [h for s in searches for h in s.get("log_hits") or []]
    errors = ["%s: %s" % (s.get("host") or (s.get("item") or {}).get("host") or "controller", s["error"])
              for s in searches if s.get("error")]
    if not searches and out.get("returned") and not out.get("error"):
        out["error"] = "launch_log_paths names no host"
    elif errors and not out["log_hits"] and not out.get("error") and out.get("returned"):
        # The request came back with its id but a log could not be read: no verdict on the logs.
        out["error"] = "; ".join(errors)
    return out
