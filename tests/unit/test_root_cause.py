"""Root causes, not echoes (root_cause.py), on constructed findings: what folds, what stays a risk, merging."""

from __future__ import annotations

import re

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import root_cause as RC
from ansible_collections.launchready.ops.plugins.plugin_utils import reports

EXPIRED = "certificate verify failed: certificate has expired"


def _f(check, status, impact, target, summary, stage="audit", **evidence):
    return F.Finding(check=check, status=status, impact=impact, stage=stage, target=target, summary=summary,
                     evidence=evidence, fix="fix %s" % check)


def expired_site():
    """An expired certificate on apex and www, as the audit reports it, with its echoes."""
    return [
        _f("tls.cert_valid", F.FAIL, F.BLOCKER, "shop.test", "not valid: expired on 2026-11-23"),
        _f("tls.cert_valid", F.FAIL, F.BLOCKER, "www.shop.test", "not valid: expired on 2026-11-23"),
        _f("tls.cert_expiry", F.FAIL, F.HIGH, "shop.test", "expired 10 days ago"),
        _f("tls.cert_expiry", F.FAIL, F.HIGH, "www.shop.test", "expired 10 days ago"),
        _f("http.hosts_consistent", F.FAIL, F.BLOCKER, "shop.test",
           "https://shop.test/ at 127.0.0.10: %s" % EXPIRED),
        _f("http.hsts", F.ERROR, F.MEDIUM, "shop.test", "could not fetch https://shop.test/: tls at 127.0.0.10: %s"
           % EXPIRED, results=[{"status": "error", "summary": "could not fetch https://shop.test/: %s" % EXPIRED}]),
        _f("cache.never_cache", F.ERROR, F.BLOCKER, "https://shop.test/checkout", "could not fetch", stage="edge",
           results=[{"status": "error", "summary": "could not fetch https://shop.test/checkout: tls: %s" % EXPIRED,
                     "address": "127.0.0.10"}]),
        _f("cache.never_cache", F.ERROR, F.BLOCKER, "https://shop.test/cart", "could not fetch", stage="edge",
           results=[{"status": "error", "summary": "could not fetch https://shop.test/cart: tls: %s" % EXPIRED}]),
        _f("dns.caa", F.ERROR, F.MEDIUM, "shop.test", "no usable answer from 127.0.0.53 (timeout)"),
        _f("dns.resolves", F.PASS, F.BLOCKER, "shop.test", "resolves"),
    ]


def by(findings, check, target):
    return next(f for f in findings if f.check == check and f.target == target)


def test_echoes_of_an_expired_certificate_fold_under_it():
    found = RC.attach_blocked_by(expired_site())
    hsts = by(found, "http.hsts", "shop.test")
    assert hsts.status == F.ERROR and hsts.evidence["blocked_by"] == ["tls.cert_valid"]
    hosts = by(found, "http.hosts_consistent", "shop.test")
    assert hosts.status == F.ERROR and hosts.evidence["status_before"] == F.FAIL
    risks = RC.risks(found)
    assert [r["check"] for r in risks] == ["tls.cert_valid", "tls.cert_expiry", "dns.caa"]
    first = risks[0]
    assert first["rank"] == 1 and first["status"] == F.FAIL and first["impact"] == F.BLOCKER
    assert first["targets"] == ["shop.test", "www.shop.test"], "the same defect on apex and www is one risk"
    assert first["blocks"] == ["cache.never_cache", "http.hosts_consistent", "http.hsts"]
    assert risks[2]["blocks"] == [] and risks[2]["status"] == F.ERROR, "a real error stays a risk of its own"


def test_without_the_fold_the_echoes_would_lead_the_list():
    plain = F.risk_list(expired_site())
    assert plain[0].check == "http.hosts_consistent"  # what the issue saw: an echo above the certificate
    assert RC.risks(RC.attach_blocked_by(expired_site()))[0]["check"] == "tls.cert_valid"


def test_a_finding_with_one_problem_of_its_own_is_not_folded():
    found = expired_site() + [_f("http.cookies", F.FAIL, F.HIGH, "shop.test", "session cookie", results=[
        {"status": "error", "summary": "could not fetch https://shop.test/: %s" % EXPIRED},
        {"status": "fail", "summary": "https://shop.test/login sets session without Secure"}])]
    cookies = by(RC.attach_blocked_by(found), "http.cookies", "shop.test")
    assert cookies.status == F.FAIL and "blocked_by" not in cookies.evidence


def test_no_fold_when_the_cause_check_does_not_fail():
    found = [f for f in expired_site() if not f.check.startswith("tls.")]
    found = RC.attach_blocked_by(found)
    assert RC.blocked(found) == []
    assert RC.risks(found)[0]["check"] == "http.hosts_consistent"


def test_a_host_that_does_not_resolve_blocks_only_what_names_it():
    found = RC.attach_blocked_by([
        _f("dns.resolves", F.FAIL, F.BLOCKER, "www.shop.test", "www.shop.test has no address in DNS (NXDOMAIN)"),
        _f("dns.resolves", F.PASS, F.BLOCKER, "shop.test", "resolves"),
        _f("tls.cert_valid", F.ERROR, F.BLOCKER, "www.shop.test", "www.shop.test has no address to probe"),
        _f("http.hsts", F.ERROR, F.MEDIUM, "www.shop.test",
           "could not fetch https://www.shop.test/: www.shop.test does not resolve: A nxdomain at 127.0.0.53"),
        # Another name that does not resolve is another defect, reported by its own check.
        _f("email.mx", F.FAIL, F.MEDIUM, "shop.test", "mail.shop.test does not resolve", stage="email"),
    ])
    assert by(found, "tls.cert_valid", "www.shop.test").evidence["blocked_by"] == ["dns.resolves"]
    assert by(found, "http.hsts", "www.shop.test").evidence["blocked_by"] == ["dns.resolves"]
    assert by(found, "email.mx", "shop.test").status == F.FAIL
    risks = RC.risks(found)
    assert [r["check"] for r in risks] == ["dns.resolves", "email.mx"]
    assert risks[0]["blocks"] == ["http.hsts", "tls.cert_valid"]


def test_a_redirect_loop_blocks_the_walks_but_is_never_blocked_by_itself():
    found = RC.attach_blocked_by([
        _f("http.redirect_loop", F.FAIL, F.BLOCKER, "shop.test", "http://shop.test/ loops: a -> b -> a"),
        _f("http.redirect_loop", F.FAIL, F.BLOCKER, "www.shop.test", "http://www.shop.test/ loops: b -> a -> b"),
        _f("http.canonical", F.FAIL, F.HIGH, "shop.test",
           "http://shop.test/ never ends (loop), so it never reaches https://shop.test/"),
    ])
    assert by(found, "http.redirect_loop", "shop.test").status == F.FAIL
    assert by(found, "http.canonical", "shop.test").evidence["blocked_by"] == ["http.redirect_loop"]
    (risk,) = RC.risks(found)
    assert risk["targets"] == ["shop.test", "www.shop.test"] and risk["blocks"] == ["http.canonical"]


def test_a_certificate_check_blocked_by_dns_hands_its_echoes_to_dns():
    found = RC.attach_blocked_by([
        _f("dns.resolves", F.FAIL, F.BLOCKER, "www.shop.test", "www.shop.test has no address in DNS"),
        _f("tls.cert_valid", F.ERROR, F.BLOCKER, "www.shop.test", "www.shop.test has no address to probe"),
        _f("http.hsts", F.ERROR, F.MEDIUM, "www.shop.test",
           "could not fetch https://www.shop.test/: certificate verify failed: unable to get local issuer"),
    ])
    assert by(found, "http.hsts", "www.shop.test").evidence["blocked_by"] == ["dns.resolves"]
    assert [r["check"] for r in RC.risks(found)] == ["dns.resolves"]


def test_error_on_a_blocker_check_ranks_with_the_blockers():
    risks = RC.risks([_f("tls.cert_expiry", F.FAIL, F.HIGH, "shop.test", "x"),
                      _f("cache.never_cache", F.ERROR, F.BLOCKER, "https://shop.test/login", "429", stage="edge")])
    assert [r["check"] for r in risks] == ["cache.never_cache", "tls.cert_expiry"]


def test_folding_is_idempotent_and_undone_when_the_cause_is_fixed():
    once = RC.attach_blocked_by(expired_site())
    twice = RC.attach_blocked_by(once)
    assert [f.to_dict() for f in once] == [f.to_dict() for f in twice]
    fixed = [f for f in twice if not f.check.startswith("tls.")]
    RC.attach_blocked_by(fixed)
    hosts = by(fixed, "http.hosts_consistent", "shop.test")
    assert hosts.status == F.FAIL and "blocked_by" not in hosts.evidence and "status_before" not in hosts.evidence


def test_merged_reports_fold_across_stages():
    # The edge stage ran first and could not fetch; the audit stage then reports the certificate.
    edge = reports.build("shop.test", [f for f in expired_site() if f.stage == "edge"])
    assert [r["check"] for r in edge["risks"]] == ["cache.never_cache"]
    audit = reports.build("shop.test", [f for f in expired_site() if f.stage == "audit"])
    merged = reports.merge(edge, audit)
    assert [r["check"] for r in merged["risks"]] == ["tls.cert_valid", "tls.cert_expiry", "dns.caa"]
    assert "cache.never_cache" in merged["risks"][0]["blocks"]
    # The certificate is renewed: the audit's re-run passes, the edge echoes become errors of their own again.
    renewed = reports.build("shop.test", [
        _f("tls.cert_valid", F.PASS, F.BLOCKER, "shop.test", "ok"), _f("tls.cert_expiry", F.PASS, F.HIGH, "shop.test", "ok"),
        _f("http.hosts_consistent", F.PASS, F.BLOCKER, "shop.test", "ok"), _f("http.hsts", F.PASS, F.MEDIUM, "shop.test", "ok"),
        _f("dns.caa", F.PASS, F.MEDIUM, "shop.test", "ok"), _f("dns.resolves", F.PASS, F.BLOCKER, "shop.test", "ok")])
    again = reports.merge(merged, renewed)
    assert [r["check"] for r in again["risks"]] == ["cache.never_cache"]
    assert again["risks"][0]["targets"] == ["https://shop.test/cart", "https://shop.test/checkout"]


def test_reports_fold_blocked_checks_under_their_cause():
    report = reports.build("shop.test", expired_site())
    md = reports.render_markdown(report)
    risks = md.split("## Risks")[1].split("## Launch checklist")[0]
    assert "This also keeps 4 checks from running: http.hosts_consistent, http.hsts, cache.never_cache" in risks
    assert len(re.findall(r"^\| \d+ \|", risks, re.M)) == 3  # three risks, no echo of its own
    assert "**Launch verdict: FAIL** - 1 pass, 0 warn, 4 fail, 1 error, 4 blocked by the risks, 0 skip." in md
    assert "- [ ] **BLOCKED** `http.hsts` shop.test: by `tls.cert_valid`" in md
    page = reports.render_html(report)
    assert "This also keeps 4 checks from running" in page and "<details" in page
    assert "1 error, 4 blocked by the risks" in page
    lines = reports.summary_lines(report)
    assert lines[1].startswith(" 1. [blocker/fail] tls.cert_valid shop.test, www.shop.test")
    assert "also keeps 4 checks from running" in lines[1] and len(lines) == 4
