"""Root causes against real broken sites (tests/support/root_cause_lab.py: Knot, nginx, an expired certificate).

Each variant breaks one thing; the full audit must name that one thing first and fold its echoes.
"""

from __future__ import annotations

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import audit
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import root_cause as RC
from ansible_collections.launchready.ops.plugins.plugin_utils import reports
from tests.support import root_cause_lab


@pytest.fixture(scope="module")
def rc_stack():
    stack = root_cause_lab.start()
    try:
        yield stack
    finally:
        root_cause_lab.stop(stack)


def report_of(stack, apex):
    found = audit.run(root_cause_lab.site_vars(stack, apex))
    return found, reports.build(apex, found)


def test_host_that_does_not_resolve_is_the_first_risk(rc_stack):
    found, report = report_of(rc_stack, "rcnowww.test")
    first = report["risks"][0]
    assert (first["check"], first["targets"]) == ("dns.resolves", ["www.rcnowww.test"])
    assert {"tls.cert_valid", "http.hsts", "http.hosts_consistent"} <= set(first["blocks"])
    assert len(report["risks"]) <= 2, report["risks"]
    blocked = RC.blocked(found)
    assert blocked and all(f.target.endswith("www.rcnowww.test") or f.target == "rcnowww.test" for f in blocked)


def test_redirect_loop_is_the_first_risk(rc_stack):
    found, report = report_of(rc_stack, "rcloop.test")
    first = report["risks"][0]
    assert (first["check"], first["targets"]) == ("http.redirect_loop", ["rcloop.test", "www.rcloop.test"])
    assert {"http.canonical", "cache.never_cache"} <= set(first["blocks"])
    never = [f for f in found if f.check == "cache.never_cache"]
    assert never and all(f.status == F.ERROR and f.evidence["blocked_by"] == ["http.redirect_loop"] for f in never)


def test_expired_certificate_only_is_the_first_risk_and_at_most_three(rc_stack):
    found, report = report_of(rc_stack, "rcexpired.test")
    risks = report["risks"]
    assert risks[0]["check"] in ("tls.cert_valid", "tls.cert_expiry") and len(risks) <= 3, risks
    assert risks[0]["targets"] == ["rcexpired.test", "www.rcexpired.test"]
    # What the certificate used to keep from running is judged behind it (past_bad_certificate.py).
    assert not RC.blocked(found) and not risks[0]["blocks"], risks[0]["blocks"]
    hsts = [f for f in found if f.check == "http.hsts"]
    assert hsts and all(f.status == F.PASS and f.evidence["verified"] is False for f in hsts)
    md = reports.render_markdown(report)
    assert "0 blocked by the risks" in md


def test_a_429_on_a_never_cache_path_is_an_error_not_a_cacheable_page(rc_stack):
    found = audit.run(root_cause_lab.site_vars(rc_stack, "rclimited.test"), checks=["cache.never_cache"])
    by_path = {f.evidence["path"]: f for f in found}
    login = by_path["/login"]
    # The polite probe waited the 429s out (Retry-After) and gave up: an error with the counts,
    # never a page judged storable or not.
    assert login.status == F.ERROR and "rate limited by the site" in login.summary, login.summary
    assert "of 5 requests answered 429" in login.summary
    assert "storability" not in login.evidence["results"][0]
    assert all(f.status == F.PASS for path, f in by_path.items() if path != "/login")
