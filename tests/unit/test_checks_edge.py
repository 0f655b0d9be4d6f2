"""The edge.* checks against real nginx and Knot variants, and edge.settings against the local Cloudflare API.

The variants come from tests/support/edge_lab.py (Knot on 127.0.0.72, nginx on
127.0.0.160-169, one shop-shaped upstream); the Cloudflare zone from
tests/support/cloudflare_api.py, over http on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, site
from ansible_collections.launchready.ops.plugins.module_utils import checks_edge as C
from tests.support import cloudflare_api, edge_lab

TOKEN = "cf-test-token-5ecret-9d1f"


def run(stack, apex, ids, **extra):
    found = check_registry.run(site.from_vars(edge_lab.site_vars(stack, apex, **extra)),
                               check_registry.select(ids=ids))
    return {(f.check, f.target): f for f in found}


def one(stack, apex, check_id, target, **extra):
    return run(stack, apex, [check_id], **extra)[(check_id, target)]


def test_catalog_impacts():
    assert (C.PROXIED.impact, C.RATE_LIMIT.impact, C.SETTINGS.impact) == ("high", "high", "high")
    assert {C.PROXIED.stage, C.RATE_LIMIT.stage, C.SETTINGS.stage} == {"edge"}


# --- edge.proxied ----------------------------------------------------------------------------------

def test_healthy_edge_is_what_the_names_resolve_to(edge_stack):
    found = run(edge_stack, "good.edge.test", ["edge.proxied"])
    assert {k: f.status for k, f in found.items()} == {
        ("edge.proxied", "good.edge.test"): "pass", ("edge.proxied", "www.good.edge.test"): "pass"}
    assert found[("edge.proxied", "good.edge.test")].evidence["addresses"] == ["127.0.0.160"]


def test_origin_exposed_in_dns_fails(edge_stack):
    found = run(edge_stack, "exposed.edge.test", ["edge.proxied"], launch_edge_addresses=["127.0.0.160"])
    www = found[("edge.proxied", "www.exposed.edge.test")]
    assert www.status == "fail" and www.impact == "high"
    assert "127.0.0.199" in www.summary and "origin is exposed" in www.summary and www.fix
    assert found[("edge.proxied", "exposed.edge.test")].status == "pass"


def test_cloudflare_ranges_count_as_the_edge(edge_stack):
    cf = run(edge_stack, "cf.edge.test", ["edge.proxied"], launch_edge_provider="cloudflare", launch_edge_addresses=[])
    assert {f.status for f in cf.values()} == {"pass"}
    assert "Cloudflare" in cf[("edge.proxied", "cf.edge.test")].summary
    # Said to be a self-hosted edge at another address, the same names are an exposed origin.
    own = run(edge_stack, "cf.edge.test", ["edge.proxied"], launch_edge_addresses=["127.0.0.160"])
    assert {f.status for f in own.values()} == {"fail"}


def test_no_edge_described_is_skipped_with_the_reason(edge_stack):
    f = one(edge_stack, "good.edge.test", "edge.proxied", "good.edge.test",
            launch_edge_provider="none", launch_edge_addresses=[])
    assert f.status == "skip" and "launch_edge_addresses" in f.summary


# --- edge.rate_limit -------------------------------------------------------------------------------

def test_healthy_edge_throttles_login_and_chatbot_well_before_n(edge_stack):
    found = run(edge_stack, "good.edge.test", ["edge.rate_limit"], launch_rate_limit_requests=40)
    for path in ("/login", "/api/chat"):
        f = found[("edge.rate_limit", "https://good.edge.test%s" % path)]
        assert f.status == "pass", f.summary
        assert "answered 429 at request" in f.summary
        # burst=5 with nodelay: the 7th request at the latest is refused (a few are in flight at once).
        assert f.evidence["first_throttled"] <= 10 and f.evidence["sent"] <= 10 + C.RATE_LIMIT_WORKERS
        assert f.evidence["method"] == "POST" and f.evidence["statuses"].get("429")


def test_no_rate_limit_fails_after_exactly_n_requests(edge_stack):
    before = dict(edge_stack.app.hits)
    found = run(edge_stack, "nolimit.edge.test", ["edge.rate_limit"], launch_rate_limit_requests=25)
    for path in ("/login", "/api/chat"):
        f = found[("edge.rate_limit", "https://nolimit.edge.test%s" % path)]
        assert f.status == "fail" and f.impact == "high"
        assert "answered all 25 POSTs of a burst without throttling (statuses 400 x25)" in f.summary
        assert f.evidence["sent"] == 25 and f.evidence["first_throttled"] is None
        # Bounded: exactly N POSTs reached the app, beside the one GET that found the route reachable.
        assert edge_stack.app.hits[path] - before.get(path, 0) == 25 + 1


def test_throttling_with_503_warns(edge_stack):
    f = one(edge_stack, "slow503.edge.test", "edge.rate_limit", "https://slow503.edge.test/login")
    assert f.status == "warn" and "throttles with 503" in f.summary and "limit_req_status 429" in f.fix


def test_no_login_or_chatbot_route_is_skipped(edge_stack):
    f = one(edge_stack, "good.edge.test", "edge.rate_limit", "good.edge.test", launch_routes={"homepage": "/"})
    assert f.status == "skip" and "launch_routes" in f.summary


def test_burst_size_is_bounded_by_the_site_description():
    for bad in (0, 301, "many"):
        with pytest.raises(site.SiteError, match="launch_rate_limit_requests"):
            site.from_vars({"launch_domain": "a.test", "launch_rate_limit_requests": bad})
    assert site.from_vars({"launch_domain": "a.test"}).rate_limit_requests == 60


def test_unreachable_edge_is_an_error_not_a_pass(edge_stack):
    f = one(edge_stack, "good.edge.test", "edge.rate_limit", "https://good.edge.test/login",
            launch_resolvers=["127.0.0.72"], launch_edge_addresses=["127.0.0.160"],
            launch_routes={"login": "/login"}, launch_ca_bundle="/nonexistent/ca.pem")
    assert f.status == "error"


# --- edge.settings ---------------------------------------------------------------------------------

@pytest.fixture()
def cloudflare():
    api = cloudflare_api.CloudflareAPI(tokens=[TOKEN]).start()
    api.add_zone("shop.example")
    try:
        yield api
    finally:
        api.stop()


def _settings_site(api, **extra):
    variables = {"launch_domain": "shop.example", "launch_edge_provider": "cloudflare",
                 "launch_cloudflare_api_url": api.url, "launch_cloudflare_api_token": TOKEN, "launch_timeout": 3,
                 "launch_ca_bundle": api.ca_file}
    variables.update(extra)
    return site.from_vars(variables)


def _settings(api, **extra):
    (f,) = check_registry.run(_settings_site(api, **extra), check_registry.select(ids=["edge.settings"]))
    return f


def _harden(api):
    api.set_setting("shop.example", "ssl", "strict")
    api.set_setting("shop.example", "always_use_https", "on")
    api.set_setting("shop.example", "min_tls_version", "1.2")
    api.set_setting("shop.example", "security_header", {"strict_transport_security": {
        "enabled": True, "max_age": 31536000, "include_subdomains": True, "preload": False, "nosniff": True}})
    zone_id = api.zone_id("shop.example")
    api.zones[zone_id].setdefault("rulesets", {})["http_request_firewall_managed"] = {
        "id": "0" * 32, "phase": "http_request_firewall_managed", "version": "1", "kind": "zone", "rules": [
            {"id": "1" * 32, "ref": "waf", "expression": "true", "action": "execute", "enabled": True,
             "action_parameters": {"id": "efb7b8c949ac4650a09736fc376e9aee"}}]}


def test_settings_read_back_from_a_hardened_zone_pass(cloudflare):
    _harden(cloudflare)
    f = _settings(cloudflare)
    assert f.status == "pass", f.summary
    assert f.evidence["settings"]["ssl"] == "strict" and f.evidence["waf_managed_rulesets"]
    assert not cloudflare.writes(), "edge.settings only reads"
    assert {r["authorization"] for r in cloudflare.requests} == {"Bearer %s" % TOKEN}


def test_settings_of_a_default_zone_fail_naming_each_gap(cloudflare):
    f = _settings(cloudflare)
    assert f.status == "fail" and f.impact == "high"
    for gap in ("SSL mode is off", "Always Use HTTPS is off", "minimum TLS version is 1.0",
                "no managed WAF ruleset"):
        assert gap in f.summary


def test_settings_with_hsts_off_warn(cloudflare):
    _harden(cloudflare)
    cloudflare.set_setting("shop.example", "security_header", {"strict_transport_security": {"enabled": False}})
    assert _settings(cloudflare).status == "warn"


@pytest.mark.parametrize("fault,needle", [
    (None, "refused the API token"),
    ((429, 10100, "Rate limited"), "rate-limiting"),
    ((502, 10002, "Bad gateway"), "Cloudflare's side"),
])
def test_api_errors_are_errors_with_a_reason_and_no_token(cloudflare, fault, needle):
    if fault:
        cloudflare.fail(*fault, times=10)
        f = _settings(cloudflare)
    else:
        f = _settings(cloudflare, launch_cloudflare_api_token="wrong-token-abc123")
    assert f.status == "error" and needle in f.summary
    text = repr(f.to_dict())
    assert TOKEN not in text and "wrong-token-abc123" not in text


def test_settings_skip_without_cloudflare(edge_stack):
    f = one(edge_stack, "good.edge.test", "edge.settings", "good.edge.test")
    assert f.status == "skip" and "not Cloudflare" in f.summary
