"""The http.* checks against real nginx and Knot: one healthy variant and the broken ones.

One module-scoped lab: Knot on 127.0.0.70 serves one zone per variant; one nginx
serves every variant on its own address in 127.0.0.100-121 (ports 80 and 443),
with certificates from a TestCA whose root is launch_ca_bundle.  Faults: a silent
server on 127.0.0.205 and a resetting one on 127.0.0.206.
"""

from __future__ import annotations

import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, site
from ansible_collections.launchready.ops.plugins.module_utils import checks_http as C
from tests.support import http_lab
from tests.support.http_lab import HSTS_GOOD, SECURITY_HEADERS, SESSION_COOKIE_GOOD, server
from tests.support.knot import zone

ALL_HTTP = ["http.https_redirect", "http.redirect_loop", "http.canonical", "http.no_downgrade",
            "http.hosts_consistent", "http.https_only", "http.hsts", "http.security_headers", "http.cookies"]

TO_HTTPS = "return 301 https://$host$request_uri;"
PAGE = "return 200 '<html><body>shop</body></html>';"


def _healthy(ip, apex, tls, *, port80=TO_HTTPS, www=None, apex_lines=None, headers=None):
    """A well-configured apex-canonical site; keyword arguments swap in one broken piece."""
    headers = [HSTS_GOOD, SECURITY_HEADERS] if headers is None else headers
    return [
        server(ip + ":80", [apex, "www." + apex], port80),
        server(ip + ":443", ["www." + apex], *headers, www or "return 301 https://%s$request_uri;" % apex, tls=tls),
        server(ip + ":443", [apex], *headers, *(apex_lines or [SESSION_COOKIE_GOOD, PAGE]), tls=tls),
    ]


def _variants(stack):
    """{apex: (addresses, [server blocks])} for every variant."""
    v = {}

    def add(apex, ips, blocks_for):
        tls = stack.cert(apex, [apex, "www." + apex])
        blocks = []
        for ip in ips:
            blocks += blocks_for(ip, apex, tls)
        v[apex] = (ips, blocks)

    add("good.test", ["127.0.0.100"], _healthy)
    add("r302.test", ["127.0.0.101"], lambda ip, a, tls: _healthy(
        ip, a, tls, port80="return 302 https://$host$request_uri;"))
    add("loop.test", ["127.0.0.102"], lambda ip, a, tls: _healthy(
        ip, a, tls, apex_lines=["return 301 https://www.loop.test$request_uri;"]))
    add("down.test", ["127.0.0.103"], lambda ip, a, tls: _healthy(
        ip, a, tls, port80="location = /plain { return 200 'plain'; }\nlocation / { %s }" % TO_HTTPS,
        apex_lines=["location = / { return 301 http://down.test/plain; }", "location / { %s }" % PAGE]))
    add("nocanon.test", ["127.0.0.104"], lambda ip, a, tls: _healthy(ip, a, tls, www=PAGE))
    add("nohsts.test", ["127.0.0.105"], lambda ip, a, tls: _healthy(ip, a, tls, headers=[SECURITY_HEADERS]))
    add("shorthsts.test", ["127.0.0.106"], lambda ip, a, tls: _healthy(ip, a, tls, headers=[
        'add_header Strict-Transport-Security "max-age=86400" always;', SECURITY_HEADERS]))
    add("hstswarn.test", ["127.0.0.107"], lambda ip, a, tls: _healthy(ip, a, tls, headers=[
        'add_header Strict-Transport-Security "max-age=20000000; includeSubDomains" always;', SECURITY_HEADERS]))
    add("plain.test", ["127.0.0.108"], lambda ip, a, tls: _healthy(ip, a, tls, port80=PAGE))
    add("nohdrs.test", ["127.0.0.109"], lambda ip, a, tls: _healthy(ip, a, tls, headers=[HSTS_GOOD]))
    add("badcookie.test", ["127.0.0.110"], lambda ip, a, tls: _healthy(ip, a, tls, apex_lines=[
        'add_header Set-Cookie "sessionid=abc123; Path=/" always;', PAGE]))
    add("five.test", ["127.0.0.111"], lambda ip, a, tls: _healthy(
        ip, a, tls, www="location / { proxy_pass http://127.0.0.111:9; proxy_connect_timeout 1s; }"))
    expired = stack.cert("www.badcert", ["www.badcert.test"], expired=True)
    add("badcert.test", ["127.0.0.112"], lambda ip, a, tls: [
        server(ip + ":80", [a, "www." + a], TO_HTTPS),
        server(ip + ":443", ["www." + a], HSTS_GOOD, SECURITY_HEADERS, "return 301 https://%s/;" % a, tls=expired),
        server(ip + ":443", [a], HSTS_GOOD, SECURITY_HEADERS, SESSION_COOKIE_GOOD, PAGE, tls=tls)])
    add("hops.test", ["127.0.0.113"], lambda ip, a, tls: _healthy(ip, a, tls, www="\n".join([
        "location = / { return 301 /a; }", "location = /a { return 301 /b; }",
        "location = /b { return 301 https://hops.test/; }"])))
    add("offhost.test", ["127.0.0.114"], lambda ip, a, tls: _healthy(
        ip, a, tls, port80="return 301 https://offhost.test$request_uri;"))
    add("many.test", ["127.0.0.115"], lambda ip, a, tls: _healthy(
        ip, a, tls, apex_lines=["rewrite ^/(.*)$ /n$1 permanent;"]))
    add("nosamesite.test", ["127.0.0.116"], lambda ip, a, tls: _healthy(ip, a, tls, apex_lines=[
        'add_header Set-Cookie "session=abc; Path=/; Secure; HttpOnly" always;',
        'add_header Set-Cookie "prefs=dark; Path=/" always;', PAGE]))
    add("referrer.test", ["127.0.0.117"], lambda ip, a, tls: _healthy(ip, a, tls, headers=[
        HSTS_GOOD, "add_header X-Content-Type-Options nosniff always;", "add_header X-Frame-Options DENY always;",
        "add_header Referrer-Policy unsafe-url always;"]))
    # Two origin addresses for one site; the second one's upstream is down.
    add("split.test", ["127.0.0.120", "127.0.0.121"], lambda ip, a, tls: _healthy(
        ip, a, tls, **({} if ip.endswith(".120") else {
            "apex_lines": ["location / { proxy_pass http://127.0.0.121:9; proxy_connect_timeout 1s; }"]})))
    return v


@pytest.fixture(scope="module")
def lab():
    stack = http_lab.Stack("http-checks-")
    try:
        variants = _variants(stack)
        zones = {}
        for apex, (ips, _blocks) in variants.items():
            zones[apex] = zone(apex, "\n".join("@ A %s\nwww A %s" % (ip, ip) for ip in ips))
        zones["hang.test"] = zone("hang.test", "@ A 127.0.0.205\nwww A 127.0.0.205")
        zones["reset.test"] = zone("reset.test", "@ A 127.0.0.206\nwww A 127.0.0.206")
        zones["nowww.test"] = zone("nowww.test", "@ A 127.0.0.100")
        stack.knot("127.0.0.70", zones)
        blocks = [b for _ips, bl in variants.values() for b in bl]
        listen = sorted({(ip, port) for ips, _bl in variants.values() for ip in ips for port in (80, 443)})
        stack.nginx(blocks, listen)
        stack.fault("127.0.0.205", [80, 443], "silent")
        stack.fault("127.0.0.206", [80, 443], "reset")
        yield stack
    finally:
        stack.stop()


def audit(lab, domain, ids, **extra):
    """Run ``ids`` for ``domain``: ({(check, target): finding}, elapsed seconds)."""
    variables = {"launch_domain": domain, "launch_resolvers": ["127.0.0.70"], "launch_ca_bundle": lab.ca_bundle,
                 "launch_timeout": 2}
    variables.update(extra)
    s = site.from_vars(variables)
    started = time.monotonic()
    found = check_registry.run(s, check_registry.select(ids=ids))
    elapsed = time.monotonic() - started
    return {(f.check, f.target): f for f in found}, elapsed


def one(lab, domain, check_id, target=None, **extra):
    found = audit(lab, domain, [check_id], **extra)[0]
    return found[(check_id, target or domain)]


# --- the healthy variant: every check passes, quickly ------------------------------------------------

def test_healthy_site_passes_every_http_check_fast(lab):
    found, elapsed = audit(lab, "good.test", ALL_HTTP)
    assert elapsed < 1.0, elapsed
    bad = {k: (f.status, f.summary) for k, f in found.items() if f.status != "pass"}
    assert not bad
    assert {check for check, _target in found} == set(ALL_HTTP)
    for f in found.values():
        assert f.fix == "" and f.evidence["results"]
    assert found[("http.https_redirect", "www.good.test")].summary == \
        "http://www.good.test/ redirects with 301 to https://www.good.test/"
    assert found[("http.canonical", "www.good.test")].summary == (
        "every variant of www.good.test (http and https, every address) ends on https://good.test/ with 200 "
        "within 2 redirect(s)")
    assert "no variant of good.test loops" in found[("http.redirect_loop", "good.test")].summary
    assert "max-age=63072000; includeSubDomains" in found[("http.hsts", "www.good.test")].summary
    assert found[("http.security_headers", "https://good.test/")].status == "pass"
    assert "session" in found[("http.cookies", "good.test")].summary
    assert "no cookies are set on www.good.test" in found[("http.cookies", "www.good.test")].summary


def test_findings_carry_the_catalog_impacts(lab):
    found = audit(lab, "good.test", ALL_HTTP)[0]
    impacts = {key[0]: f.impact for key, f in found.items()}
    assert impacts == {
        "http.https_redirect": "high", "http.redirect_loop": "blocker", "http.canonical": "high",
        "http.no_downgrade": "high", "http.hosts_consistent": "blocker", "http.https_only": "high",
        "http.hsts": "medium", "http.security_headers": "low", "http.cookies": "high"}


# --- http.https_redirect -----------------------------------------------------------------------------

def test_https_redirect_302_warns(lab):
    f = one(lab, "r302.test", "http.https_redirect", "www.r302.test")
    assert f.status == "warn"
    assert f.summary == "http://www.r302.test/ redirects with 302 (temporary); use 301 or 308"
    assert f.evidence["results"][0]["hop"]["status"] == 302
    assert "return 301 https://$host$request_uri" in f.fix and "www.r302.test" in f.fix


def test_https_redirect_off_host_first_hop_fails(lab):
    f = one(lab, "offhost.test", "http.https_redirect", "www.offhost.test")
    assert f.status == "fail"
    assert "redirects straight to another host (https://offhost.test/)" in f.summary
    assert one(lab, "offhost.test", "http.https_redirect").status == "pass"  # the apex itself is fine


def test_https_redirect_no_redirect_fails(lab):
    f = one(lab, "plain.test", "http.https_redirect")
    assert f.status == "fail" and f.summary == "http://plain.test/ answers 200 instead of redirecting to https"


# --- http.redirect_loop ------------------------------------------------------------------------------

def test_redirect_loop_fails(lab):
    f = one(lab, "loop.test", "http.redirect_loop")
    assert f.status == "fail" and f.impact == "blocker"
    assert f.summary.startswith("http://loop.test/ loops: http://loop.test/ -> https://loop.test/ -> "
                                "https://www.loop.test/ -> https://loop.test/")
    loops = [r["chain"] for r in f.evidence["results"] if r["status"] == "fail"]
    assert loops and loops[0]["outcome"] == "loop"


def test_redirect_chain_over_ten_hops_fails(lab):
    f = one(lab, "many.test", "http.redirect_loop")
    assert f.status == "fail" and "still redirecting after 10 hops" in f.summary
    chain = [r["chain"] for r in f.evidence["results"] if r["status"] == "fail"][0]
    assert chain["outcome"] == "too_many" and len(chain["hops"]) == 11


# --- http.canonical ----------------------------------------------------------------------------------

def test_canonical_fails_when_www_does_not_end_on_the_apex(lab):
    f = one(lab, "nocanon.test", "http.canonical", "www.nocanon.test")
    assert f.status == "fail"
    assert "ends on https://www.nocanon.test/ instead of https://nocanon.test/" in f.summary
    assert "return 301 https://nocanon.test$request_uri" in f.fix


def test_canonical_warns_over_three_hops(lab):
    f = one(lab, "hops.test", "http.canonical", "www.hops.test")
    assert f.status == "warn"
    assert "http://www.hops.test/ needs 4 redirects to reach https://hops.test/ (at most 3)" in f.summary


def test_canonical_fails_when_the_canonical_page_is_not_200(lab):
    f = one(lab, "split.test", "http.canonical")
    assert f.status == "fail" and "with 502, not 200" in f.summary


def test_canonical_host_can_be_www(lab):
    f = one(lab, "nocanon.test", "http.canonical", "nocanon.test", launch_canonical_host="www.nocanon.test")
    assert f.status == "fail" and "instead of https://www.nocanon.test/" in f.summary


# --- http.no_downgrade -------------------------------------------------------------------------------

def test_no_downgrade_fails_on_https_to_http(lab):
    f = one(lab, "down.test", "http.no_downgrade")
    assert f.status == "fail"
    assert f.summary.startswith("https://down.test/ redirects to http://down.test/plain (https -> http)")
    assert f.evidence["results"][0]["hop"]["location"] == "http://down.test/plain"


# --- http.hosts_consistent ---------------------------------------------------------------------------

def test_hosts_consistent_fails_on_a_5xx_host(lab):
    found = audit(lab, "five.test", ["http.hosts_consistent"])[0]
    assert found[("http.hosts_consistent", "five.test")].status == "pass"
    f = found[("http.hosts_consistent", "www.five.test")]
    assert f.status == "fail" and f.impact == "blocker"
    assert f.summary == "https://www.five.test/ at 127.0.0.111 answers 502 (server error)"


def test_hosts_consistent_fails_on_an_expired_certificate(lab):
    f = one(lab, "badcert.test", "http.hosts_consistent", "www.badcert.test")
    assert f.status == "fail"
    assert "certificate verify failed: certificate has expired" in f.summary
    assert f.evidence["results"][0]["chain"]["hops"][0]["error_kind"] == "tls"


def test_hosts_consistent_probes_every_origin_address(lab):
    f = one(lab, "split.test", "http.hosts_consistent")
    assert f.status == "fail"
    assert f.summary == "https://split.test/ at 127.0.0.121 answers 502 (server error)"
    by_address = {r["chain"]["address"]: r["status"] for r in f.evidence["results"]}
    assert by_address == {"127.0.0.120": "pass", "127.0.0.121": "fail"}


# --- http.https_only ---------------------------------------------------------------------------------

def test_https_only_fails_when_http_serves_content(lab):
    f = one(lab, "plain.test", "http.https_only")
    assert f.status == "fail"
    assert "http://plain.test/ serves 200 with 30 bytes of content over plain http" in f.summary
    assert f.evidence["results"][0]["response"]["status"] == 200


def test_https_only_checks_configured_routes(lab):
    # / redirects, but the /plain route is served over http.
    f = one(lab, "down.test", "http.https_only", launch_routes={"homepage": "/", "legacy": "/plain"})
    assert f.status == "fail" and "http://down.test/plain serves 200" in f.summary


# --- http.hsts ---------------------------------------------------------------------------------------

def test_hsts_missing_fails(lab):
    f = one(lab, "nohsts.test", "http.hsts")
    assert f.status == "fail" and "sends no Strict-Transport-Security header" in f.summary
    assert "max-age=63072000; includeSubDomains" in f.fix


def test_hsts_short_max_age_fails(lab):
    f = one(lab, "shorthsts.test", "http.hsts", "www.shorthsts.test")
    assert f.status == "fail"
    assert "max-age=86400 (1 days), below the 180-day minimum" in f.summary
    assert f.evidence["results"][0]["header"] == "max-age=86400"


def test_hsts_under_a_year_warns(lab):
    f = one(lab, "hstswarn.test", "http.hsts")
    assert f.status == "warn" and "max-age=20000000 (231 days), below one year" in f.summary


# --- http.security_headers ---------------------------------------------------------------------------

def test_security_headers_missing_warn(lab):
    f = one(lab, "nohdrs.test", "http.security_headers", "https://nohdrs.test/")
    assert f.status == "warn" and f.impact == "low"
    for name in ("X-Content-Type-Options: nosniff", "frame-ancestors", "Referrer-Policy"):
        assert name in f.summary
    assert f.evidence["results"][0]["headers"]["X-Frame-Options"] is None


def test_security_headers_unsafe_referrer_warns(lab):
    f = one(lab, "referrer.test", "http.security_headers", "https://referrer.test/")
    assert f.status == "warn" and "a safe Referrer-Policy (unsafe-url leaks full URLs)" in f.summary
    assert "X-Content-Type-Options" not in f.summary and "frame-ancestors" not in f.summary


# --- http.cookies ------------------------------------------------------------------------------------

def test_insecure_session_cookie_fails(lab):
    f = one(lab, "badcookie.test", "http.cookies")
    assert f.status == "fail"
    assert "session cookie sessionid (https://badcookie.test/) is set without Secure and HttpOnly" in f.summary
    cookie = f.evidence["results"][0]["cookie"]
    assert cookie == {"name": "sessionid", "secure": False, "httponly": False, "samesite": None, "session": True}
    assert "abc123" not in repr(f.to_dict())  # cookie values never reach the report


def test_session_cookie_without_samesite_warns(lab):
    f = one(lab, "nosamesite.test", "http.cookies")
    assert f.status == "warn"
    assert "session cookie session (https://nosamesite.test/) has no SameSite" in f.summary
    assert "cookie prefs" in repr(f.evidence)  # the non-session cookie without Secure is listed too


# --- faults: error within the timeout, never pass ----------------------------------------------------

@pytest.mark.parametrize("domain, words", [("hang.test", "timeout at 127.0.0.205"),
                                           ("reset.test", "reset at 127.0.0.206")])
def test_connection_faults_end_in_error_within_the_timeout(lab, domain, words):
    found, elapsed = audit(lab, domain, ALL_HTTP, launch_timeout=1)
    assert elapsed < 2.5, elapsed
    assert found and all(f.status == "error" for f in found.values()), \
        {k: (f.status, f.summary) for k, f in found.items() if f.status != "error"}
    assert words in found[("http.https_redirect", domain)].summary
    assert words in found[("http.hosts_consistent", domain)].summary


def test_a_host_that_does_not_resolve_is_an_error(lab):
    f = one(lab, "nowww.test", "http.redirect_loop", "www.nowww.test")
    assert f.status == "error" and "www.nowww.test does not resolve" in f.summary


def test_set_cookie_parser_keeps_no_value():
    c = C.parse_set_cookie("__Host-sid=xyz; Path=/; Secure; HttpOnly; SameSite=Strict")
    assert c == {"name": "__Host-sid", "secure": True, "httponly": True, "samesite": "Strict", "session": True}
    assert C.parse_set_cookie("csrftoken=1; Path=/")["session"] is False
