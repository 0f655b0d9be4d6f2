"""spf.check_host() and spf.parse_record() on the cases the email checks depend on.

Addresses (this file only): Knot on 127.0.0.81 serves the policies below from
ordinary zone files; tests.support.spf_dns on 127.0.0.82 (a free port) serves a
policy whose include never answers; 127.0.0.83 never answers and 127.0.0.84
answers SERVFAIL (tests.support.dns_faults).  The full RFC 7208 suite is in
test_spf_conformance.py.
"""

from __future__ import annotations

import shutil
import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import spf
from ansible_collections.launchready.ops.plugins.module_utils.site import Resolver
from tests.support.dns_faults import HANG, SERVFAIL, FaultyDNS
from tests.support.knot import KNOTD, KnotServer, zone
from tests.support.spf_dns import ZoneDataDNS

KNOT = "127.0.0.81"
ZONEDATA = "127.0.0.82"
HANGING = "127.0.0.83"
FAILING = "127.0.0.84"
TIMEOUT = 0.5

LIMIT_ZONE = """
@      TXT "v=spf1 include:_spf1.limit.test include:_spf2.limit.test -all"
_spf1  TXT "v=spf1 a:m1.limit.test a:m2.limit.test a:m3.limit.test a:m4.limit.test ~all"
_spf2  TXT "v=spf1 include:_spf3.limit.test ?all"
_spf3  TXT "v=spf1 a:m1.limit.test a:m2.limit.test a:m3.limit.test a:m4.limit.test ip4:203.0.113.0/24 -all"
ten    TXT "v=spf1 include:_spf1.limit.test include:_spf3.limit.test -all"
m1 A 192.0.2.201
m2 A 192.0.2.202
m3 A 192.0.2.203
m4 A 192.0.2.204
"""

BIG_RECORD = " ".join(["v=spf1"] + ["ip4:198.51.100.%d" % n for n in range(1, 41)] + ["ip4:192.0.2.77", "-all"])


def _txt(text: str) -> str:
    """A TXT RDATA of ``text`` cut into 255-octet strings, as zone file text."""
    return " ".join('"%s"' % text[i:i + 255] for i in range(0, len(text), 255))


def _zones() -> dict:
    return {
        "shop.test": zone("shop.test", """
@ TXT "v=spf1 include:_spf.mailer.test ip4:192.0.2.0/24 -all"
@ TXT "google-site-verification=abc123"
www A 192.0.2.10
"""),
        "mailer.test": zone("mailer.test", '_spf TXT "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:5::/48 ~all"'),
        "limit.test": zone("limit.test", LIMIT_ZONE),
        "void.test": zone("void.test", """
@   TXT "v=spf1 a:gone1.void.test a:gone2.void.test a:gone3.void.test ip4:192.0.2.1 -all"
two TXT "v=spf1 a:gone1.void.test a:gone2.void.test ip4:192.0.2.1 -all"
"""),
        "open.test": zone("open.test", '@ TXT "v=spf1 +all"\nmaybe TXT "v=spf1 ?all"'),
        "twice.test": zone("twice.test", '@ TXT "v=spf1 -all"\n@ TXT "v=spf1 ip4:192.0.2.0/24 -all"'),
        "macro.test": zone("macro.test", """
@ TXT "v=spf1 exists:%{ir}.%{v}._spf.%{d} -all exp=why.%{d}"
3.2.0.192.in-addr._spf A 127.0.0.2
why TXT "%{i} is not a sender of %{d} (seen by %{r}; %{l} at %{o})"
"""),
        "big.test": zone("big.test", "@ TXT %s" % _txt(BIG_RECORD)),
    }


@pytest.fixture(scope="module")
def knot():
    if not shutil.which(KNOTD) and not shutil.which("knotd"):
        pytest.skip("knotd is not installed")
    server = KnotServer([KNOT], _zones()).start()
    try:
        yield Resolver(KNOT)
    finally:
        server.stop()


def check(ip: str, domain: str, resolver, **kw) -> spf.SpfResult:
    return spf.check_host(ip, domain, "founder@%s" % domain, resolver=resolver, timeout=TIMEOUT, **kw)


# ---------------------------------------------------------------- results over DNS (Knot)


def test_pass_through_include_shows_the_path(knot):
    result = check("198.51.100.25", "shop.test", knot)
    assert result.result == spf.PASS
    assert result.mechanism == "ip4:198.51.100.0/24"
    assert result.chain == ["shop.test", "_spf.mailer.test"]
    assert result.path == ["include:_spf.mailer.test", "ip4:198.51.100.0/24"]
    assert result.lookups == 1 and result.void_lookups == 0
    assert result.record == "v=spf1 include:_spf.mailer.test ip4:192.0.2.0/24 -all"


def test_fail_and_ipv4_mapped_address(knot):
    assert check("203.0.113.9", "shop.test", knot).result == spf.FAIL
    mapped = check("::ffff:192.0.2.10", "shop.test", knot)  # 5/9/2: checked as 192.0.2.10
    assert (mapped.result, mapped.mechanism) == (spf.PASS, "ip4:192.0.2.0/24")


def test_eleven_lookups_is_permerror_with_the_chain(knot):
    result = check("203.0.113.5", "limit.test", knot)
    assert result.result == spf.PERMERROR
    assert result.lookups == 11
    assert result.mechanism == "a:m4.limit.test"
    assert result.chain == ["limit.test", "_spf2.limit.test", "_spf3.limit.test"]
    assert result.path == ["include:_spf2.limit.test", "include:_spf3.limit.test", "a:m4.limit.test"]
    assert len(result.lookup_terms) == 11
    assert result.lookup_terms[:2] == ["limit.test: include:_spf1.limit.test", "_spf1.limit.test: a:m1.limit.test"]
    assert "more than 10 DNS lookups" in result.reason
    assert "include:_spf2.limit.test -> include:_spf3.limit.test" in result.reason


def test_ten_lookups_is_within_the_limit(knot):
    result = check("203.0.113.5", "ten.limit.test", knot)
    assert (result.result, result.lookups) == (spf.PASS, 10)


def test_three_void_lookups_is_permerror(knot):
    result = check("192.0.2.1", "void.test", knot)
    assert result.result == spf.PERMERROR
    assert result.void_lookups == 3
    assert result.mechanism == "a:gone3.void.test"
    assert "gone3.void.test does not exist" in result.reason
    two = check("192.0.2.1", "two.void.test", knot)
    assert (two.result, two.void_lookups) == (spf.PASS, 2)


def test_plus_all_passes_everyone(knot):
    for ip in ("203.0.113.9", "2001:db8::1"):
        result = check(ip, "open.test", knot)
        assert (result.result, result.mechanism) == (spf.PASS, "+all")
    assert spf.parse_record(result.record).all.qualifier == "+"
    assert check("203.0.113.9", "maybe.open.test", knot).result == spf.NEUTRAL


def test_several_records_is_permerror(knot):
    result = check("192.0.2.1", "twice.test", knot)
    assert result.result == spf.PERMERROR
    assert "2 SPF records" in result.reason and result.record is None


def test_no_record_is_none(knot):
    result = check("192.0.2.1", "www.shop.test", knot)
    assert (result.result, result.lookups) == (spf.NONE, 0)
    assert check("192.0.2.1", "nosuch.shop.test", knot).result == spf.NONE


def test_macros_and_explanation_over_dns(knot):
    assert check("192.0.2.3", "macro.test", knot).result == spf.PASS
    result = spf.check_host("192.0.2.4", "macro.test", "strong-bad@macro.test", resolver=knot, timeout=TIMEOUT,
                            receiver="mx.receiver.test")
    assert result.result == spf.FAIL
    assert result.explanation == "192.0.2.4 is not a sender of macro.test (seen by mx.receiver.test; strong-bad at macro.test)"


def test_long_record_comes_over_tcp(knot):
    # 900 octets of TXT: Knot truncates the UDP answer, the lookup retries over TCP.
    result = check("192.0.2.77", "big.test", knot)
    assert (result.result, result.mechanism) == (spf.PASS, "ip4:192.0.2.77")
    assert result.record == BIG_RECORD


# ---------------------------------------------------------------- DNS failures: temperror


@pytest.fixture(scope="module")
def slow_include():
    server = ZoneDataDNS(ZONEDATA).start()
    server.load({
        "slow.test": [{"TXT": "v=spf1 ip4:192.0.2.0/24 include:_spf.hang.test -all"}],
        "_spf.hang.test": ["TIMEOUT"],
    })
    try:
        yield Resolver(ZONEDATA, server.port)
    finally:
        server.stop()


def test_include_that_times_out_is_temperror(slow_include):
    started = time.monotonic()
    result = check("203.0.113.9", "slow.test", slow_include)
    assert result.result == spf.TEMPERROR
    assert time.monotonic() - started < TIMEOUT + 1
    assert result.chain == ["slow.test", "_spf.hang.test"]
    assert result.mechanism == "include:_spf.hang.test"
    assert "did not answer within 0.5 s" in result.reason
    # The address that matches before the include never needs it.
    assert check("192.0.2.9", "slow.test", slow_include).result == spf.PASS


@pytest.mark.parametrize("address, mode", [(HANGING, HANG), (FAILING, SERVFAIL)])
def test_resolver_that_fails_is_temperror(address, mode):
    server = FaultyDNS(address, mode).start()
    try:
        started = time.monotonic()
        result = check("192.0.2.1", "shop.test", Resolver(address))
        assert result.result == spf.TEMPERROR
        assert time.monotonic() - started < TIMEOUT + 1
        assert ("did not answer" if mode == HANG else "SERVFAIL") in result.reason
    finally:
        server.stop()


def test_elapsed_limit_is_temperror(knot):
    result = check("192.0.2.1", "shop.test", knot, max_elapsed=0)
    assert result.result == spf.TEMPERROR and "longer than" in result.reason


# ---------------------------------------------------------------- macros: RFC 7208 section 7.4

RFC_SENDER = "strong-bad@email.example.com"
RFC_DOMAIN = "email.example.com"


@pytest.mark.parametrize("macro, expansion", [
    ("%{s}", "strong-bad@email.example.com"),
    ("%{o}", "email.example.com"),
    ("%{d}", "email.example.com"),
    ("%{d4}", "email.example.com"),
    ("%{d3}", "email.example.com"),
    ("%{d2}", "example.com"),
    ("%{d1}", "com"),
    ("%{dr}", "com.example.email"),
    ("%{d2r}", "example.email"),
    ("%{l}", "strong-bad"),
    ("%{l-}", "strong.bad"),
    ("%{lr}", "strong-bad"),
    ("%{lr-}", "bad.strong"),
    ("%{l1r-}", "strong"),  # reversed, then the right-hand part
    ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
    ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
    ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
    ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
    ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
])
def test_rfc7208_macro_examples_ipv4(macro, expansion):
    assert spf.MacroContext("192.0.2.3", RFC_SENDER).expand(macro, RFC_DOMAIN) == expansion


def test_rfc7208_macro_example_ipv6():
    expanded = spf.MacroContext("2001:db8::cb01", RFC_SENDER).expand("%{ir}.%{v}._spf.%{d2}", RFC_DOMAIN)
    # RFC 7208 prints the nibbles in lower case, the conformance suite (v-macro-ip6) in upper
    # case; DNS names compare without case, and this evaluator follows the suite.
    assert expanded == "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com"
    assert expanded.lower() == ("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
                                ".ip6._spf.example.com")


def test_macro_escapes_and_explanation_letters():
    ctx = spf.MacroContext("192.0.2.3", "a b&c@example.com", helo="mx.example.com", receiver="rcv.example.net")
    assert ctx.expand("%%%_%-", RFC_DOMAIN) == "% %20"
    assert ctx.expand("%{L}.%{H}", RFC_DOMAIN) == "a%20b%26c.mx.example.com"
    assert ctx.expand("%{c} %{r} %{p}", RFC_DOMAIN, explanation=True) == "192.0.2.3 rcv.example.net unknown"
    assert abs(int(ctx.expand("%{t}", RFC_DOMAIN, explanation=True)) - time.time()) < 5
    with pytest.raises(spf.SpfSyntaxError):
        ctx.expand("%{c}", RFC_DOMAIN)  # c, r, t only in explanation text
    assert spf.MacroContext("2001:db8::cb01", RFC_SENDER).expand("%{c}", RFC_DOMAIN, explanation=True) == \
        "2001:db8::cb01"


# ---------------------------------------------------------------- parse_record


def test_parse_record_terms():
    record = spf.parse_record("v=spf1 a mx/24//64 include:_spf.example.com ip4:192.0.2.0/24 "
                              "ip6:2001:db8::/32 exists:%{i}.bl.example.com ~all redirect=other.example.com "
                              "exp=why.example.com foo=bar")
    assert [(term.kind, term.name) for term in record.terms][:3] == [
        ("mechanism", "a"), ("mechanism", "mx"), ("mechanism", "include")]
    assert [term.text for term in record.lookup_terms] == [
        "a", "mx/24//64", "include:_spf.example.com", "exists:%{i}.bl.example.com", "redirect=other.example.com"]
    mx = record.mechanisms[1]
    assert (mx.cidr4, mx.cidr6) == (24, 64)
    assert record.all.qualifier == "~"
    assert record.redirect.value == "other.example.com" and record.exp.value == "why.example.com"


@pytest.mark.parametrize("text, why", [
    ("v=spf1 include:a.example.com ip4:192.0.2.1/33 -all", "longer than 32"),
    ("v=spf1 a:example.com:8080", "top-level label"),
    ("v=spf1 ip4:192.0.2", "ip4:"),
    ("v=spf1 -all exp=a.example.com exp=b.example.com", "only once"),
    ("v=spf1 mx -all moo", "unknown mechanism"),
    ("v=spf1 exists:%{x}.example.com", "macro letter"),
    ("v=spf1 a:example.com\t-all", "printable 7-bit ASCII"),
    ("spf1 -all", "v=spf1"),
])
def test_parse_record_errors(text, why):
    with pytest.raises(spf.SpfSyntaxError, match=why.replace(".", r"\.")):
        spf.parse_record(text)


def test_select_records():
    assert spf.select_records([b"v=spf1 -all", b"v=spf10 +all", b"V=SPF1", b"other"]) == ["v=spf1 -all", "V=SPF1"]


# ---------------------------------------------------------------- survey: the whole policy


def test_survey_counts_every_lookup_term(knot):
    result = spf.survey("limit.test", resolver=knot, timeout=TIMEOUT)
    assert (result.status, result.lookups, result.void_lookups, result.all) == (spf.PERMERROR, 11, 0, "-all")
    assert result.reason == ("SPF makes 11 DNS lookups; the limit is 10: lookup 11 is a:m4.limit.test "
                             "(via include:_spf2.limit.test -> include:_spf3.limit.test)")
    assert sorted(result.records) == ["_spf1.limit.test", "_spf2.limit.test", "_spf3.limit.test", "limit.test"]


def test_survey_of_healthy_void_and_open_policies(knot):
    healthy = spf.survey("shop.test", resolver=knot, timeout=TIMEOUT)
    assert (healthy.status, healthy.lookups, healthy.all, healthy.problems) == ("ok", 1, "-all", [])
    void = spf.survey("void.test", resolver=knot, timeout=TIMEOUT)
    assert (void.status, void.void_lookups) == (spf.PERMERROR, 3)
    assert void.reason.startswith("3 SPF lookups find nothing; the limit is 2: void.test: a:gone1.void.test")
    assert spf.survey("open.test", resolver=knot, timeout=TIMEOUT).all == "+all"
    assert spf.survey("twice.test", resolver=knot, timeout=TIMEOUT).status == spf.PERMERROR
    assert spf.survey("www.shop.test", resolver=knot, timeout=TIMEOUT).status == spf.NONE


def test_survey_reports_dns_errors(slow_include):
    result = spf.survey("slow.test", resolver=slow_include, timeout=TIMEOUT)
    assert result.status == spf.TEMPERROR
    assert "_spf.hang.test (via include:_spf.hang.test)" in result.reason
