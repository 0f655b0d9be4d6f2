"""The openspf RFC 7208 conformance suite (and the older RFC 4408 one) against spf.check_host().

Each test of the suites is one case, id ``scenario description::test name``.
The scenario's zonedata is served by a real DNS server over UDP/TCP sockets
(tests.support.spf_dns on 127.0.0.80, a free port per test process), and
check_host() asks it through the production DnsLookup: the code path a site
check takes.  TIMEOUT entries never answer, so the 0.5 s question timeout fires.

The suites live beside the repository in ``shared/conformance`` (see its
SOURCE.md for origin and licence); without them this module is skipped.

Where a test allows several results the first is preferred; the evaluator
gives another only where the reason is outside it: multispf1 (two identical
records, which any DNS server merges into one), and in the RFC 4408 suite the
tests whose RFC 7208 answer is listed second (TXT only, type SPF ignored; more
than 10 MX names is permerror; a DNS error in exists is temperror).
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import spf
from ansible_collections.launchready.ops.plugins.module_utils.site import Resolver
from tests.support.spf_dns import ZoneDataDNS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUITES = os.path.join(os.path.dirname(ROOT), "shared", "conformance")
RFC7208 = os.path.join(SUITES, "rfc7208-tests.yml")
RFC4408 = os.path.join(SUITES, "rfc4408-tests.yml")
ADDRESS = "127.0.0.80"
TIMEOUT = 0.5

if not os.path.exists(RFC7208):
    pytest.skip("SPF conformance suite not found at %s (shared/ beside the repository)" % RFC7208,
                allow_module_level=True)

yaml = pytest.importorskip("yaml")

# Tests the evaluator does not pass, "suite::scenario::test" -> why.  None today: all of
# both suites pass (RFC 4408 expectations list the RFC 7208 answer among the allowed ones).
XFAIL: dict = {}


@dataclasses.dataclass
class Case:
    id: str
    test: dict
    zonedata: dict


def load(path: str) -> list:
    with open(path, "rb") as fh:
        scenarios = list(yaml.safe_load_all(fh))
    cases = []
    for scenario in scenarios:
        for name, test in scenario["tests"].items():
            cases.append(Case("%s::%s" % (scenario["description"], name), test, scenario["zonedata"]))
    return cases


def params(suite: str, cases: list) -> list:
    out = []
    for case in cases:
        reason = XFAIL.get("%s::%s" % (suite, case.id))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.fixture(scope="module")
def dns_server():
    server = ZoneDataDNS(ADDRESS).start()
    try:
        yield server
    finally:
        server.stop()


def run(case: Case, server) -> None:
    server.load(case.zonedata)
    test = case.test
    sender = test["mailfrom"] or "postmaster@%s" % test["helo"]
    result = spf.check_host(test["host"], sender.rpartition("@")[2], sender,
                            resolver=Resolver(ADDRESS, server.port), timeout=TIMEOUT, helo=test["helo"])
    expected = test["result"] if isinstance(test["result"], list) else [test["result"]]
    why = "got %s, expected %s: %s" % (result.result, " or ".join(expected), result.reason)
    assert result.result in expected, why
    if "explanation" in test:  # the suite's driver names the default explanation DEFAULT
        assert (result.explanation or "DEFAULT") == test["explanation"], result.reason


@pytest.mark.parametrize("case", params("rfc7208", load(RFC7208)))
def test_rfc7208(case: Case, dns_server) -> None:
    run(case, dns_server)


@pytest.mark.skipif(not os.path.exists(RFC4408), reason="rfc4408-tests.yml not found in %s" % SUITES)
@pytest.mark.parametrize("case", params("rfc4408", load(RFC4408) if os.path.exists(RFC4408) else []))
def test_rfc4408(case: Case, dns_server) -> None:
    run(case, dns_server)
