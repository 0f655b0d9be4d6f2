# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the site behind a rejected certificate, as a browser's "proceed anyway" shows it.

A certificate that tls.cert_valid rejects (expired, untrusted, self-signed, wrong name)
stops every check that fetches a page, and root_cause folds them under it; fixing the
certificate would then reveal a second round of defects.  ``rejudge`` is a second pass
after the root-cause pass: the checks blocked by the certificate run again with a site
whose ``tls_pins`` make ``http_probe.site_fetch`` connect to each rejected (host, address)
without chain and name verification, pinned to the leaf tls.cert_valid saw there (its
evidence: ``leaf_sha256``, ``leaf_sha256_by_address``).  Their findings replace the blocked
ones; what they judged says ``evidence.verified: false`` and so does its summary.  An
address that presents another leaf on the second connection is never judged: the
finding stays ``error`` ("certificate pin mismatch") folded under the certificate.

The certificate itself stays reported by tls.* and is the risk; one mechanism for every
check, none of them knows about it.

Plain Python: no Ansible imports.
"""

from __future__ import annotations

import dataclasses
import typing as t
import urllib.parse

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, root_cause
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils.site import Site

CERT_CHECK = "tls.cert_valid"
UNVERIFIED_NOTE = ("judged behind an untrusted certificate: verification skipped, the connection pinned to the "
                   "leaf %s rejected" % CERT_CHECK)


def pins(findings: t.Iterable[F.Finding]) -> dict:
    """{(host, address): leaf SHA-256} of every address whose certificate tls.cert_valid rejected."""
    out: dict = {}
    for f in findings:
        if f.check != CERT_CHECK or f.status != F.FAIL:
            continue
        evidence = f.evidence or {}
        statuses = evidence.get("addresses") or {evidence.get("address"): f.status}
        leaves = evidence.get("leaf_sha256_by_address") or {evidence.get("address"): evidence.get("leaf_sha256")}
        for address, leaf in leaves.items():
            if address and leaf and statuses.get(address) == F.FAIL:
                out[(f.target.rstrip(".").lower(), address)] = leaf
    return out


def _host(target: str) -> str:
    return ((urllib.parse.urlsplit(target).hostname or "") if "://" in target else target).rstrip(".").lower()


def _blocked_by_certificate(finding: F.Finding) -> bool:
    return root_cause.is_blocked(finding) and any(
        cause in root_cause.CAUSES[root_cause.CERT] for cause in finding.evidence["blocked_by"])


def rejudge(site: Site, findings: t.Sequence[F.Finding], workers: int = 16) -> list:
    """``findings`` (after ``root_cause.attach_blocked_by``) with the certificate's blocked checks judged past it.

    Unchanged when no certificate was rejected or nothing was blocked by it.  The checks run
    again as a whole (their findings of unblocked targets come out as before); the result
    goes through the root-cause pass again, so what still only echoes a defect stays folded.
    """
    findings = list(findings)
    site_pins = pins(findings)
    blocked = [f for f in findings if _blocked_by_certificate(f)]
    if not site_pins or not blocked:
        return findings
    registry = check_registry.registered()
    cause_ids = set(root_cause.CAUSES[root_cause.CERT])
    again = [c for c in dict.fromkeys(f.check for f in blocked) if c in registry and c not in cause_ids]
    if not again:
        return findings
    pinned_site = dataclasses.replace(site, tls_pins=site_pins)
    rerun = check_registry.run(pinned_site, [registry[c] for c in again], workers=workers)
    by_check: dict = {}
    for f in rerun:
        by_check.setdefault(f.check, []).append(f)
    out: list = []
    for f in findings:
        if f.check not in by_check:
            out.append(f)
        elif by_check[f.check] is not None:
            out.extend(by_check[f.check])
            by_check[f.check] = None  # the re-run's findings take the place of the check's first finding
    out = root_cause.attach_blocked_by(out)
    # Marked: what the re-run judged where the certificate had stopped it (its old target, or any
    # target on a host whose certificate was rejected: a check may name pages where it named the host).
    was_blocked = {(f.check, f.target) for f in blocked}
    pinned_hosts = {host for host, _address in site_pins}
    fresh = {id(f) for f in rerun}
    for f in out:
        behind = (f.check, f.target) in was_blocked or _host(f.target) in pinned_hosts
        if id(f) in fresh and behind and not root_cause.is_blocked(f):
            f.evidence = dict(f.evidence or {}, verified=False)
            f.summary = "%s (%s)" % (f.summary, UNVERIFIED_NOTE)
    return out
