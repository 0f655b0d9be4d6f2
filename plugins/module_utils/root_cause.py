# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One root cause, one risk: findings that only echo another check's defect are folded under it.

A certificate that is rejected, a host that does not resolve, a redirect that loops: each
stops a dozen other checks, which then report the same defect again ("could not fetch:
certificate has expired").  ``attach_blocked_by`` is one pass over all findings of a
site, after every check ran: a finding whose every problem is one of those defects, while
the check that reports that defect fails, becomes ``error`` with ``evidence.blocked_by``
(the cause's check ids).  No check has to know about it: the probes' error texts (the
``error_kind`` sentences of http_probe and tls_probe, the chain outcomes) say which defect
stopped them.

``risks`` then builds the list a founder reads: one entry per root cause (a check id; the
same defect on apex and www is one risk with two targets), ranked as checks.md says
(impact, then stage, then id; an error on a blocker check ranks with the blockers), each
with the checks it keeps from running (``blocks``).

Plain Python: no Ansible imports.
"""

from __future__ import annotations

import re
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils.verdicts import SEVERITY

# Defect kinds, what a blocked probe says when it meets one, and the checks that report it
# (first the one a blocked finding is filed under when several fail).
CERT = "certificate"
DNS = "name resolution"
LOOP = "redirect loop"

_SIGNS = {
    # A pin mismatch: behind a rejected certificate the address showed another leaf (tls_pin.py);
    # Chromium's own words for a rejected certificate: net::ERR_CERT_*.
    CERT: re.compile(r"certificate verify failed|certificate pin mismatch|net::ERR_CERT_", re.I),
    DNS: re.compile(r"does not resolve|has no address|has no A or AAAA record", re.I),
    LOOP: re.compile(r"\bloops?\b|redirect loop|still redirecting after|never ends", re.I),
}
CAUSES = {
    CERT: ("tls.cert_valid", "tls.cert_expiry"),
    DNS: ("dns.resolves",),
    LOOP: ("http.redirect_loop",),
}
_CAUSE_KIND = {check_id: kind for kind, ids in CAUSES.items() for check_id in ids}
_NOT_PROBLEMS = (F.PASS, F.SKIP)


def _strings(value: t.Any) -> t.Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _problems(finding: F.Finding) -> list:
    """The texts of what went wrong: each non-passing per-address result, else the whole finding."""
    evidence = dict(finding.evidence or {})
    evidence.pop("blocked_by", None)
    results = evidence.get("results")
    if isinstance(results, list) and results and all(isinstance(r, dict) and "status" in r for r in results):
        bad = [r for r in results if r.get("status") not in _NOT_PROBLEMS]
        if bad:
            return [" ".join(_strings(r)) for r in bad]
    return [" ".join([finding.summary, *_strings(evidence)])]


def _host(target: str) -> str:
    return (urllib.parse.urlsplit(target).hostname or "") if "://" in target else target.lower()


def _names(text: str, host: str) -> bool:
    return re.search(r"(?<![\w.-])%s(?![\w-])" % re.escape(host), text, re.I) is not None


def _causes_of(text: str, own: str | None, failing: dict) -> list:
    """The failing cause checks whose defect ``text`` reports, on a host the cause fails for."""
    out = []
    for kind, sign in _SIGNS.items():
        if kind == own or not sign.search(text):
            continue
        for check_id in CAUSES[kind]:
            if any(_names(text, host) for host in failing.get(check_id, ())):
                out.append(check_id)
                break
    return out


def attach_blocked_by(findings: t.Sequence[F.Finding]) -> list:
    """Mark the findings that only echo another check's defect: ``error`` with ``evidence.blocked_by``.

    Idempotent, and safe on merged reports: a mark whose cause no longer fails is taken off again
    (the finding keeps the status it had when it was marked, as ``evidence.status_before``).
    """
    findings = list(findings)
    for f in findings:  # start from what the checks said
        if "blocked_by" in (f.evidence or {}):
            f.evidence = dict(f.evidence)
            del f.evidence["blocked_by"]
            f.status = f.evidence.pop("status_before", f.status)
    failing: dict = {}  # cause check id -> the hosts it fails for
    for f in findings:
        if f.status in (F.FAIL, F.ERROR) and f.check in _CAUSE_KIND and _host(f.target):
            failing.setdefault(f.check, set()).add(_host(f.target))
    marks = []
    for f in findings:
        if f.status not in (F.FAIL, F.ERROR, F.WARN):
            continue
        own = _CAUSE_KIND.get(f.check)
        causes: list = []
        for text in _problems(f):
            found = _causes_of(text, own, failing)
            if not found:
                causes = []
                break
            causes += found
        causes = list(dict.fromkeys(c for c in causes if c != f.check))
        if causes and not _cycle(f.check, causes):
            marks.append((f, causes))
    for f, causes in marks:
        f.evidence = dict(f.evidence or {}, blocked_by=causes)
        if f.status != F.ERROR:
            f.evidence["status_before"] = f.status
            f.status = F.ERROR
    # A cause that is itself blocked (the certificate of a host that does not resolve) passes its
    # blocked checks on to its own cause, so every chain ends at a risk.
    return _flatten(findings)


def _cycle(check_id: str, causes: list) -> bool:
    # A DNS failure can block a certificate check, never the other way round.
    order = ("dns.resolves", "tls.cert_valid", "tls.cert_expiry", "http.redirect_loop")
    if check_id not in order:
        return False
    return any(c in order and order.index(c) >= order.index(check_id) for c in causes)


def _flatten(findings: list) -> list:
    blocked_checks = {f.check for f in findings if is_blocked(f)}
    unblocked = {f.check for f in findings if f.status in (F.FAIL, F.ERROR) and not is_blocked(f)}
    by_check: dict = {}
    for f in findings:
        if is_blocked(f):
            by_check.setdefault(f.check, set()).update(f.evidence["blocked_by"])
    for f in findings:
        if not is_blocked(f):
            continue
        roots: list = []
        for cause in f.evidence["blocked_by"]:
            if cause in unblocked or cause not in blocked_checks:
                roots.append(cause)
            else:
                roots.extend(sorted(by_check.get(cause, ())))
        f.evidence["blocked_by"] = list(dict.fromkeys(roots))
    return findings


def is_blocked(finding: F.Finding) -> bool:
    return finding.status == F.ERROR and bool((finding.evidence or {}).get("blocked_by"))


def blocked(findings: t.Iterable[F.Finding]) -> list:
    """The findings folded under a cause (``error`` with ``evidence.blocked_by``)."""
    return [f for f in findings if is_blocked(f)]


def risks(findings: t.Iterable[F.Finding]) -> list:
    """The ranked risk list: one dict per root cause, the contract of ARCHITECTURE.md.

    {rank, check, status, impact, targets, summary, fix, blocks}: fail, error and warn
    findings grouped by check id (their worst status decides; the summary is the first
    finding's with that status), blocked findings left out and named in their cause's
    ``blocks``.
    """
    findings = list(findings)
    groups: dict = {}
    for f in findings:
        if f.status in F.RISK_STATUSES and not is_blocked(f):
            groups.setdefault(f.check, []).append(f)
    blocks: dict = {}
    for f in blocked(findings):
        for cause in f.evidence["blocked_by"]:
            if f.check not in blocks.setdefault(cause, []):
                blocks[cause].append(f.check)
    out = []
    for check_id, items in groups.items():
        items.sort(key=lambda f: (SEVERITY[f.status], f.target))
        worst = items[0]
        out.append({"check": check_id, "status": worst.status, "impact": worst.impact, "stage": worst.stage,
                    "targets": list(dict.fromkeys(f.target for f in items)), "summary": worst.summary,
                    "fix": worst.fix, "blocks": sorted(blocks.get(check_id, []))})
    out.sort(key=lambda r: F.risk_order(r["impact"], r["stage"], r["check"]))
    return [dict(rank=n, **{k: v for k, v in r.items() if k != "stage"}) for n, r in enumerate(out, 1)]
