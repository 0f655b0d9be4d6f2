"""Past a rejected certificate, against real sites (tests/support/past_bad_cert_lab.py: Knot, nginx, expired leaves).

Issue #14 item 4: a site whose only defect is its certificate has the certificate as its only risk,
and everything behind it judged over a connection pinned to the leaf tls.cert_valid saw; a leaf that
changes between the TLS probe and the re-probe is never judged.  Addresses: 127.0.11.1 (Knot),
127.0.11.10 and .11 (nginx).
"""

from __future__ import annotations

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import audit, check_registry
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import past_bad_certificate as PB
from ansible_collections.launchready.ops.plugins.module_utils import root_cause as RC
from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod
from ansible_collections.launchready.ops.plugins.plugin_utils import reports
from tests.support import past_bad_cert_lab as lab


@pytest.fixture(scope="module")
def pb_stack():
    stack = lab.start()
    try:
        yield stack
    finally:
        lab.stop(stack)


def test_expired_certificate_only_is_the_only_risk_and_the_rest_is_judged_behind_it(pb_stack):
    found = audit.run(lab.site_vars(pb_stack, "pbexpired.test"))
    report = reports.build("pbexpired.test", found)
    risks = report["risks"]
    assert risks[0]["check"] in ("tls.cert_valid", "tls.cert_expiry") and len(risks) <= 3, risks
    assert {r["check"] for r in risks} <= {"tls.cert_valid", "tls.cert_expiry"}, risks
    assert not RC.blocked(found), [f.summary for f in RC.blocked(found)]
    hsts = [f for f in found if f.check == "http.hsts"]
    assert {f.target for f in hsts} == {"pbexpired.test", "www.pbexpired.test"}
    for f in hsts:
        assert f.status == F.PASS and f.evidence["verified"] is False, f.summary
        assert "judged behind an untrusted certificate" in f.summary
    # Every finding that needed the pinned connection says so; the certificate's own stay as they were.
    judged = [f for f in found if (f.evidence or {}).get("verified") is False]
    assert {f.check for f in judged} >= {"http.canonical", "http.cookies", "cache.never_cache"}
    assert all(f.status == F.PASS for f in judged), [(f.check, f.summary) for f in judged if f.status != F.PASS]
    cert = [f for f in found if f.check == "tls.cert_valid"]
    assert cert and all(f.status == F.FAIL and "verified" not in f.evidence for f in cert)
    assert all(len(f.evidence["leaf_sha256"]) == 64 for f in cert)


def test_a_leaf_that_changes_after_the_tls_probe_is_never_judged(pb_stack):
    site = site_mod.from_vars(lab.site_vars(pb_stack, "pbswap.test"))
    checks = check_registry.select(ids=["tls.cert_valid", "tls.cert_expiry", "http.hsts", "http.canonical"])
    first = RC.attach_blocked_by(check_registry.run(site, checks))
    seen = {f.evidence["leaf_sha256"] for f in first if f.check == "tls.cert_valid"}
    hsts = [f for f in first if f.check == "http.hsts"]
    assert hsts and all(RC.is_blocked(f) for f in hsts)
    # Between the TLS probe and the re-probe the address starts presenting another leaf.
    new_leaf = lab.swap_certificate(pb_stack, "pbswap.test")
    assert new_leaf not in seen
    found = PB.rejudge(site, first)
    again = [f for f in found if f.check in ("http.hsts", "http.canonical")]
    assert again
    for f in again:
        assert f.status == F.ERROR and f.evidence["blocked_by"] == ["tls.cert_valid"], f.summary
        assert "verified" not in f.evidence
        assert "certificate pin mismatch" in " ".join([f.summary, str(f.evidence)])
    assert [r["check"] for r in RC.risks(found)] == ["tls.cert_valid", "tls.cert_expiry"]
