"""The findings model: validation and the ranking rule of checks.md."""

from __future__ import annotations

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import findings as F


def _f(check, status, impact, stage="audit", target="shop.test"):
    return F.Finding(check=check, status=status, impact=impact, stage=stage, target=target, summary="s")


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError, match="unknown status"):
        _f("dns.resolves", "ok", F.BLOCKER)


def test_risk_list_ranks_by_impact_then_stage_then_id_and_drops_passes():
    items = [
        _f("http.hsts", F.WARN, F.MEDIUM),
        _f("tls.cert_expiry", F.FAIL, F.HIGH),
        _f("email.spf", F.FAIL, F.HIGH, stage="email"),
        _f("dns.caa", F.FAIL, F.HIGH),
        _f("dns.resolves", F.PASS, F.BLOCKER),
        _f("edge.proxied", F.FAIL, F.HIGH, stage="edge"),
        _f("handover.complete", F.SKIP, F.MEDIUM, stage="handover"),
    ]
    ranked = [f.check for f in F.risk_list(items)]
    assert ranked == ["dns.caa", "tls.cert_expiry", "edge.proxied", "email.spf", "http.hsts"]


def test_error_on_a_blocker_ranks_with_the_blockers():
    items = [_f("tls.cert_expiry", F.FAIL, F.HIGH), _f("dns.resolves", F.ERROR, F.BLOCKER)]
    assert [f.check for f in F.risk_list(items)] == ["dns.resolves", "tls.cert_expiry"]


@pytest.mark.parametrize("statuses,verdict", [
    ([F.PASS, F.SKIP], F.PASS),
    ([F.PASS, F.WARN], F.WARN),
    ([F.WARN, F.ERROR], F.FAIL),
    ([F.FAIL], F.FAIL),
])
def test_overall_verdict(statuses, verdict):
    assert F.overall([_f("dns.resolves", s, F.BLOCKER) for s in statuses]) == verdict


def test_make_shows_fix_only_when_not_passing():
    spec = F.CheckSpec("dns.caa", F.MEDIUM, "audit", "CAA names the CA", "Publish a CAA record.")
    assert F.make(spec, F.PASS, "shop.test", "ok").fix == ""
    assert F.make(spec, F.WARN, "shop.test", "missing").fix == "Publish a CAA record."
