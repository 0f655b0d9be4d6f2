"""RFC 9111 storability as a shared cache decides it (http_cache_rules): each rule, and the rule named."""

from __future__ import annotations

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import http_cache_rules as R

DATE = "Thu, 03 Dec 2026 12:00:00 GMT"


def judge(status, *headers):
    return R.shared_storability(status, list(headers))


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_error_statuses_without_cache_control_are_not_storable(status):
    verdict = judge(status, ("Content-Type", "text/html"))
    assert (verdict.storable, verdict.reusable, verdict.rule) == (False, False, "not-heuristic")
    assert "%d is not heuristically cacheable" % status in verdict.why


@pytest.mark.parametrize("status", sorted(R.HEURISTIC_STATUSES))
def test_heuristically_cacheable_statuses_are_storable_without_cache_control(status):
    verdict = judge(status)
    assert (verdict.storable, verdict.reusable, verdict.rule) == (True, True, "heuristic")
    assert "RFC 9111 4.2.2" in verdict.why


def test_the_heuristic_list_is_rfc_9110s():
    assert R.HEURISTIC_STATUSES == {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}


def test_no_store_and_private_forbid_storing_whatever_else_is_said():
    assert judge(200, ("Cache-Control", "public, max-age=600, no-store")).rule == "no-store"
    verdict = judge(200, ("Cache-Control", "private"), ("Cache-Control", "s-maxage=60"))
    assert (verdict.storable, verdict.rule) == (False, "private")


def test_qualified_private_does_not_forbid_storing_the_response():
    verdict = judge(200, ("Cache-Control", 'private="Set-Cookie", max-age=60'))
    assert (verdict.storable, verdict.rule) == (True, "max-age")


def test_explicit_freshness_makes_an_error_status_storable():
    verdict = judge(429, ("Cache-Control", "max-age=30"))
    assert (verdict.storable, verdict.reusable, verdict.rule) == (True, True, "max-age")
    assert judge(503, ("Cache-Control", "public")).rule == "public"


def test_s_maxage_wins_over_max_age_for_a_shared_cache():
    verdict = judge(200, ("Cache-Control", "max-age=0, s-maxage=120"))
    assert (verdict.reusable, verdict.rule) == (True, "s-maxage")
    verdict = judge(200, ("Cache-Control", "max-age=600, s-maxage=0"))
    assert (verdict.storable, verdict.reusable, verdict.rule) == (True, False, "s-maxage")


def test_zero_max_age_and_no_cache_are_stored_but_never_reused_unasked():
    assert (judge(200, ("Cache-Control", "max-age=0")).reusable, judge(200, ("Cache-Control", "max-age=0")).rule) \
        == (False, "max-age")
    verdict = judge(200, ("Cache-Control", "no-cache, max-age=600"))
    assert (verdict.storable, verdict.reusable, verdict.rule) == (True, False, "no-cache")


def test_expires_counts_from_date():
    fresh = judge(500, ("Date", DATE), ("Expires", "Thu, 03 Dec 2026 12:10:00 GMT"))
    assert (fresh.storable, fresh.reusable, fresh.rule) == (True, True, "expires")
    assert "600 s" in fresh.why
    past = judge(200, ("Date", DATE), ("Expires", "Thu, 03 Dec 2026 11:00:00 GMT"))
    assert (past.storable, past.reusable, past.rule) == (True, False, "expires")


def test_invalid_expires_means_already_stale():
    verdict = judge(200, ("Expires", "0"))
    assert (verdict.storable, verdict.reusable, verdict.rule) == (True, False, "expires")
    assert "invalid" in verdict.why


def test_max_age_beats_expires():
    verdict = judge(200, ("Date", DATE), ("Expires", "Thu, 03 Dec 2026 11:00:00 GMT"), ("Cache-Control", "max-age=60"))
    assert (verdict.reusable, verdict.rule) == (True, "max-age")


def test_interim_responses_are_never_stored():
    assert judge(101).rule == "non-final"
