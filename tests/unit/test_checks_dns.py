"""The dns.* checks against real Knot servers serving one small zone per variant.

Addresses (this file only): Knot "main" on 127.0.0.60 and .61 serves every zone;
Knot "alt" on 127.0.0.62 serves a second copy of skew.test (another serial) and
of disagree.test (another address), and refuses everything else.  127.0.0.200
never answers and 127.0.0.201 answers SERVFAIL (tests.support.dns_faults).

Pass tests take the site from ``healthy_vars``; they assert only what must hold
for any healthy site, so the same tests can run against the shared lab.
"""

from __future__ import annotations

import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, checks_dns, site
from ansible_collections.launchready.ops.plugins.module_utils import dns_query as Q
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from tests.support.dns_faults import HANG, SERVFAIL, FaultyDNS
from tests.support.knot import KnotServer, zone

MAIN = ["127.0.0.60", "127.0.0.61"]
ALT = "127.0.0.62"
HANGING = "127.0.0.200"
FAILING = "127.0.0.201"
LAB_CA = "ca.lab.test"
HEALTHY_ADDRS = ["192.0.2.10", "2001:db8::10"]


def _ns(origin: str, second: str = MAIN[1]) -> list:
    return [("ns1.%s." % origin, MAIN[0]), ("ns2.%s." % origin, second)]


def _zones_main() -> dict:
    return {
        "healthy.test": zone("healthy.test", """
@ A 192.0.2.10
@ AAAA 2001:db8::10
www CNAME @
@ CAA 0 issue "%s"
@ CAA 0 iodef "mailto:security@healthy.test"
""" % LAB_CA, ns=_ns("healthy.test")),
        "nowww.test": zone("nowww.test", "@ A 192.0.2.10", ns=_ns("nowww.test")),
        "dangling.test": zone("dangling.test", "@ A 192.0.2.10\nwww CNAME shop-old.paas.test.",
                              ns=_ns("dangling.test")),
        "paas.test": zone("paas.test", "other-shop A 192.0.2.50", ns=_ns("paas.test")),
        "unexpected.test": zone("unexpected.test", "@ A 192.0.2.10\n@ A 198.51.100.66\nwww A 192.0.2.10",
                                ns=_ns("unexpected.test")),
        "onens.test": zone("onens.test", "@ A 192.0.2.10", ns=[("ns1.onens.test.", MAIN[0])]),
        # ns2 at Knot "alt", which does not serve the zone: it answers REFUSED.
        "lame.test": zone("lame.test", "@ A 192.0.2.10", ns=_ns("lame.test", ALT)),
        # ns2 at an address where nothing answers.
        "deadns.test": zone("deadns.test", "@ A 192.0.2.10", ns=_ns("deadns.test", HANGING)),
        "skew.test": zone("skew.test", "@ A 192.0.2.10", serial=100, ns=_ns("skew.test", ALT)),
        "disagree.test": zone("disagree.test", "@ A 192.0.2.10\nwww A 192.0.2.10", ns=_ns("disagree.test")),
        "nocaa.test": zone("nocaa.test", "@ A 192.0.2.10\nwww A 192.0.2.10", ns=_ns("nocaa.test")),
        "wrongca.test": zone("wrongca.test", '@ A 192.0.2.10\nwww A 192.0.2.10\n@ CAA 0 issue "otherca.test"',
                             ns=_ns("wrongca.test")),
    }


def _zones_alt() -> dict:
    return {
        "skew.test": zone("skew.test", "@ A 192.0.2.10", serial=200, ns=_ns("skew.test", ALT)),
        "disagree.test": zone("disagree.test", "@ A 192.0.2.99\nwww A 192.0.2.10", ns=_ns("disagree.test")),
    }


@pytest.fixture(scope="module")
def knot():
    servers = []
    try:
        servers.append(KnotServer(MAIN, _zones_main()).start())
        servers.append(KnotServer([ALT], _zones_alt()).start())
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def hanging():
    server = FaultyDNS(HANGING, HANG).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def failing():
    server = FaultyDNS(FAILING, SERVFAIL).start()
    try:
        yield server
    finally:
        server.stop()


def _vars(domain: str, **extra) -> dict:
    out = {"launch_domain": domain, "launch_resolvers": [MAIN[0]], "launch_timeout": 1}
    out.update({"launch_" + k: v for k, v in extra.items()})
    return out


@pytest.fixture
def healthy_vars(knot) -> dict:
    """A healthy site: two resolvers, expected addresses and the CA in use all given.

    The pass tests below hold for any healthy site: to run them against the
    shared lab, return ``request.getfixturevalue("lab_site")`` here instead.
    """
    return _vars("healthy.test", resolvers=list(MAIN), caa_issuers=[LAB_CA],
                 expected_addresses={"healthy.test": HEALTHY_ADDRS, "www.healthy.test": HEALTHY_ADDRS})


def run(variables: dict, *ids: str) -> list:
    s = site.from_vars(variables)
    return check_registry.run(s, check_registry.select(ids=ids))


def by_target(findings: list) -> dict:
    out = {f.target: f for f in findings}
    assert len(out) == len(findings), "one finding per target"
    return out


def assert_healthy(findings: list, hosts: list) -> None:
    assert sorted(f.target for f in findings) == sorted(hosts)
    for f in findings:
        assert f.status == F.PASS, f.to_dict()
        assert f.fix == ""


# ------------------------------------------------------------------ catalog contract

def test_ids_are_the_catalog_ids_and_impacts():
    specs = {spec.id: spec.impact for spec, _fn in check_registry.select(prefixes=["dns."])}
    assert specs == {"dns.resolves": F.BLOCKER, "dns.expected_origin": F.BLOCKER,
                     "dns.resolvers_agree": F.MEDIUM, "dns.dangling_cname": F.HIGH,
                     "dns.nameservers": F.MEDIUM, "dns.caa": F.MEDIUM}
    assert checks_dns.RESOLVES.stage == "audit"


# ------------------------------------------------------------------ dns.resolves

def test_resolves_pass(healthy_vars):
    s = site.from_vars(healthy_vars)
    found = run(healthy_vars, "dns.resolves")
    assert_healthy(found, s.hosts)
    for f in found:
        assert f.evidence["addresses"]
        assert {a["server"] for a in f.evidence["answers"]} == {str(r) for r in Q.servers_for(s.resolvers)}


def test_resolves_fail_missing_www(knot):
    found = by_target(run(_vars("nowww.test"), "dns.resolves"))
    assert found["nowww.test"].status == F.PASS
    www = found["www.nowww.test"]
    assert www.status == F.FAIL and www.impact == F.BLOCKER
    assert "NXDOMAIN" in www.summary and "www.nowww.test" in www.fix
    assert www.evidence["missing_at"] == {MAIN[0]: ["nxdomain"]}


def test_resolves_error_when_a_resolver_never_answers(knot, hanging):
    started = time.monotonic()
    found = run(_vars("healthy.test", resolvers=[MAIN[0], HANGING], timeout=1), "dns.resolves")
    elapsed = time.monotonic() - started
    assert elapsed < 1 + 1.5, elapsed
    assert [f.status for f in found] == [F.ERROR, F.ERROR]
    assert HANGING in found[0].summary and "no answer within 1.0 s" in found[0].summary
    timeouts = [a for a in found[0].evidence["answers"] if a["status"] == "timeout"]
    assert {a["server"] for a in timeouts} == {HANGING}


def test_resolves_error_on_servfail(failing):
    found = run(_vars("healthy.test", resolvers=[FAILING]), "dns.resolves")
    assert [f.status for f in found] == [F.ERROR, F.ERROR]
    assert "SERVFAIL" in found[0].summary
    assert failing.received > 0


def test_resolves_error_on_refused(knot):
    # Knot "alt" is not authoritative for healthy.test: REFUSED is no verdict on the site.
    found = run(_vars("healthy.test", resolvers=[ALT]), "dns.resolves")
    assert [f.status for f in found] == [F.ERROR, F.ERROR]
    assert "REFUSED" in found[0].summary


# ------------------------------------------------------------------ dns.expected_origin

def test_expected_origin_pass(healthy_vars):
    expected = site.from_vars(healthy_vars).expected_addresses
    if not expected:
        pytest.skip("this site sets no launch_expected_addresses")
    found = [f for f in run(healthy_vars, "dns.expected_origin") if f.target in expected]
    assert_healthy(found, list(expected))
    for f in found:
        assert f.evidence["unexpected"] == [] and f.evidence["resolved"]


def test_expected_origin_fail_unknown_address(knot):
    found = by_target(run(_vars("unexpected.test", expected_addresses={
        "unexpected.test": ["192.0.2.10"], "www.unexpected.test": ["192.0.2.10"]}), "dns.expected_origin"))
    apex = found["unexpected.test"]
    assert apex.status == F.FAIL and "198.51.100.66" in apex.summary
    assert apex.evidence["unexpected"] == ["198.51.100.66"]
    assert found["www.unexpected.test"].status == F.PASS


def test_expected_origin_skips_without_expected_addresses(knot):
    found = run(_vars("healthy.test"), "dns.expected_origin")
    assert [f.status for f in found] == [F.SKIP]
    assert "launch_expected_addresses" in found[0].summary


# ------------------------------------------------------------------ dns.resolvers_agree

def test_resolvers_agree_pass(healthy_vars):
    if len(Q.servers_for(site.from_vars(healthy_vars).resolvers)) < 2:
        pytest.skip("this site has fewer than two resolvers to compare")
    found = run(healthy_vars, "dns.resolvers_agree")
    assert_healthy(found, site.from_vars(healthy_vars).hosts)
    assert all(f.evidence["distinct_answers"] == 1 for f in found)


def test_resolvers_agree_warn_when_they_differ(knot):
    found = by_target(run(_vars("disagree.test", resolvers=[MAIN[0], ALT]), "dns.resolvers_agree"))
    apex = found["disagree.test"]
    assert apex.status == F.WARN and apex.impact == F.MEDIUM
    assert "192.0.2.10" in apex.summary and "192.0.2.99" in apex.summary
    assert apex.evidence["by_resolver"][ALT]["A"] == ["192.0.2.99"]
    assert found["www.disagree.test"].status == F.PASS


def test_resolvers_agree_skips_with_one_resolver(knot):
    found = run(_vars("healthy.test"), "dns.resolvers_agree")
    assert [f.status for f in found] == [F.SKIP]
    assert "only one resolver" in found[0].summary


# ------------------------------------------------------------------ dns.dangling_cname

def test_dangling_cname_pass(healthy_vars):
    found = run(healthy_vars, "dns.dangling_cname")
    assert_healthy(found, site.from_vars(healthy_vars).hosts)
    assert all(f.evidence["dangling_at"] == {} for f in found)


def test_dangling_cname_fail(knot):
    found = by_target(run(_vars("dangling.test"), "dns.dangling_cname"))
    www = found["www.dangling.test"]
    assert www.status == F.FAIL and www.impact == F.HIGH
    assert "shop-old.paas.test" in www.summary
    assert www.evidence["dangling_at"][MAIN[0]] == {"target": "shop-old.paas.test", "status": "nxdomain"}
    assert found["dangling.test"].status == F.PASS


# ------------------------------------------------------------------ dns.nameservers

def test_nameservers_pass(healthy_vars):
    found = run(healthy_vars, "dns.nameservers")
    assert [f.status for f in found] == [F.PASS], found[0].to_dict()
    ev = found[0].evidence
    assert ev["count"] >= 2 and len(set(ev["serials"].values())) == 1
    assert all(row["answer"]["authoritative"] for row in ev["soa"] if row["checked"])


def test_nameservers_fail_with_one_ns(knot):
    found = run(_vars("onens.test"), "dns.nameservers")
    assert [f.status for f in found] == [F.FAIL]
    assert "Only 1 nameserver serves onens.test" in found[0].summary and found[0].evidence["count"] == 1


@pytest.mark.parametrize("domain, reason", [("lame.test", "REFUSED"), ("deadns.test", "no answer within")])
def test_nameservers_fail_when_one_is_lame(knot, hanging, domain, reason):
    started = time.monotonic()
    found = run(_vars(domain), "dns.nameservers")
    assert time.monotonic() - started < 1 + 1.5
    assert [f.status for f in found] == [F.FAIL]
    assert "ns2.%s" % domain in found[0].summary and reason in found[0].summary
    lame = [row for row in found[0].evidence["soa"] if "lame" in row]
    assert [row["nameserver"] for row in lame] == ["ns2.%s" % domain]


def test_nameservers_warn_when_serials_differ(knot):
    found = run(_vars("skew.test"), "dns.nameservers")
    assert [f.status for f in found] == [F.WARN]
    assert "100" in found[0].summary and "200" in found[0].summary
    assert sorted(found[0].evidence["serials"].values()) == [100, 200]


def test_nameservers_of_a_site_without_its_own_zone_are_the_enclosing_zone(knot):
    found = run(_vars("shop.healthy.test"), "dns.nameservers")
    assert [(f.status, f.target) for f in found] == [(F.PASS, "shop.healthy.test")]
    assert found[0].evidence["zone"] == "healthy.test" and found[0].evidence["count"] == 2


def test_nameserver_endpoint_uses_a_configured_resolver_port():
    s = site.from_vars({"launch_domain": "x.test", "launch_resolvers": ["127.0.0.60:5353"]})
    assert str(checks_dns._nameserver_endpoint(s, "127.0.0.60")) == "127.0.0.60:5353"
    assert str(checks_dns._nameserver_endpoint(s, "127.0.0.61")) == "127.0.0.61"


# ------------------------------------------------------------------ dns.caa

def test_caa_pass(healthy_vars):
    found = run(healthy_vars, "dns.caa")
    assert_healthy(found, site.from_vars(healthy_vars).hosts)
    for f in found:
        assert set(f.evidence["issuers_in_use"]) <= set(f.evidence["allowed_issuers"])


def test_caa_pass_noted_when_ca_in_use_unknown(knot):
    found = run(_vars("healthy.test"), "dns.caa")
    assert {f.status for f in found} == {F.PASS}
    assert "could not be compared" in found[0].summary and LAB_CA in found[0].summary


def test_caa_warn_when_missing(knot):
    found = run(_vars("nocaa.test", caa_issuers=[LAB_CA]), "dns.caa")
    assert [f.status for f in found] == [F.WARN, F.WARN]
    assert "No CAA record" in found[0].summary
    assert found[1].evidence["names_checked"] == ["www.nocaa.test", "nocaa.test"]


def test_caa_fail_when_it_excludes_the_ca_in_use(knot):
    found = by_target(run(_vars("wrongca.test", caa_issuers=[LAB_CA]), "dns.caa"))
    www = found["www.wrongca.test"]
    assert www.status == F.FAIL
    assert "otherca.test" in www.summary and LAB_CA in www.summary
    assert www.evidence["caa_at"] == "wrongca.test" and www.evidence["refused_issuers"] == [LAB_CA]


# ------------------------------------------------------------------ the family as one run

def test_whole_family_healthy_is_fast(healthy_vars):
    started = time.monotonic()
    found = run(healthy_vars, *[pair[0].id for pair in check_registry.select(prefixes=["dns."])])
    elapsed = time.monotonic() - started
    assert {f.status for f in found} <= {F.PASS, F.SKIP}, [f.to_dict() for f in found if f.status != F.PASS]
    assert F.PASS in {f.status for f in found}
    assert elapsed < 1.0, elapsed


def test_whole_family_with_hanging_resolver_errors_within_timeout(knot, hanging):
    variables = _vars("healthy.test", resolvers=[MAIN[0], HANGING], caa_issuers=[LAB_CA],
                      expected_addresses={"healthy.test": HEALTHY_ADDRS})
    started = time.monotonic()
    found = run(variables, *[pair[0].id for pair in check_registry.select(prefixes=["dns."])])
    elapsed = time.monotonic() - started
    assert elapsed < 1 + 1.5, elapsed
    statuses = {(f.check, f.target): f.status for f in found}
    assert F.PASS not in statuses.values(), statuses
    assert statuses[("dns.expected_origin", "www.healthy.test")] == F.SKIP
    assert all(s == F.ERROR for (c, t), s in statuses.items() if (c, t) != ("dns.expected_origin", "www.healthy.test"))
