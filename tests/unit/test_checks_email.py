"""The email.* checks against a real Knot serving healthy and broken mail domains.

Addresses (this file only): Knot on 127.0.0.90 serves the zones of
tests.support.email_zones; 127.0.0.210 never answers and 127.0.0.211 answers
SERVFAIL (tests.support.dns_faults).  The healthy shared lab must pass too.
"""

from __future__ import annotations

import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, checks_email, site
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from tests.support import email_zones as Z
from tests.support.dns_faults import HANG, SERVFAIL, FaultyDNS
from tests.support.knot import KnotServer

KNOT = "127.0.0.90"
HANGING = "127.0.0.210"
FAILING = "127.0.0.211"
EMAIL_IDS = ["email.alignment", "email.dkim", "email.dmarc", "email.mx", "email.spf", "email.spf_senders"]


@pytest.fixture(scope="module")
def keys():
    return Z.make_keys()


@pytest.fixture(scope="module")
def knot(keys):
    server = KnotServer([KNOT], Z.zones(keys)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def key_files(keys, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("dkim"))
    return {name: key.write(directory, name) for name, key in keys.items()}


def _vars(domain: str, **extra) -> dict:
    out = {"launch_domain": domain, "launch_resolvers": [KNOT], "launch_timeout": 1,
           "launch_mail_senders": [Z.SENDER]}
    out.update({"launch_" + k: v for k, v in extra.items()})
    return out


def run(variables: dict, *ids: str) -> list:
    """Findings of the given check ids, or of every email check."""
    chosen = check_registry.select(ids=ids) if ids else check_registry.select(prefixes=["email."])
    return check_registry.run(site.from_vars(variables), chosen)


def one(variables: dict, check_id: str) -> F.Finding:
    found = run(variables, check_id)
    assert len(found) == 1, [f.to_dict() for f in found]
    return found[0]


# ------------------------------------------------------------------ catalog contract

def test_ids_impacts_and_stage():
    specs = {spec.id: (spec.impact, spec.stage) for spec, _fn in check_registry.select(prefixes=["email."])}
    assert sorted(specs) == EMAIL_IDS
    assert {stage for _impact, stage in specs.values()} == {"email"}
    assert specs["email.dmarc"][0] == F.MEDIUM and specs["email.spf"][0] == F.HIGH


def test_the_audit_runs_the_email_family_by_default():
    from ansible_collections.launchready.ops.plugins.module_utils import audit
    assert "email." in audit.DEFAULT_FAMILIES


# ------------------------------------------------------------------ healthy

def test_healthy_domain_passes_every_check_with_the_signing_proof(knot, key_files):
    found = run(_vars("good.test", dkim_selectors=["s1"], dkim_private_keys={"s1": key_files["good"]}))
    assert sorted(f.check for f in found) == EMAIL_IDS
    for f in found:
        assert f.status == F.PASS, f.to_dict()
        assert f.stage == "email" and f.fix == ""
    dkim = next(f for f in found if f.check == "email.dkim")
    assert dkim.target == "s1._domainkey.good.test"
    assert dkim.evidence["bits"] == 2048 and dkim.evidence["proof"]["verified"] is True
    assert dkim.evidence["proof"]["dns_asked"] == ["s1._domainkey.good.test."]
    spf = next(f for f in found if f.check == "email.spf")
    assert spf.evidence["records"]["good.test"].startswith("v=spf1")  # the foreign TXT beside it is ignored


def test_the_healthy_lab_passes_every_email_check(lab_site):
    found = run(lab_site)
    assert sorted({f.check for f in found}) == EMAIL_IDS
    bad = [(f.check, f.target, f.status, f.summary) for f in found if f.status != F.PASS]
    assert not bad, bad
    dkim = next(f for f in found if f.check == "email.dkim")
    assert dkim.evidence["proof"]["status"] == F.PASS, "the lab's deployed key signs and verifies"


def test_softfail_ending_passes_with_a_note(knot):
    f = one(_vars("softall.test"), "email.spf")
    assert f.status == F.PASS and "~all" in f.summary


def test_dkim_without_a_private_key_checks_the_record_and_says_the_proof_did_not_run(knot):
    f = one(_vars("good.test", dkim_selectors=["s1"]), "email.dkim")
    assert f.status == F.PASS
    assert "signing proof was not run" in f.summary


def test_dmarc_falls_back_to_the_organisational_domain(knot):
    f = one(_vars("good.test", mail_domain="sub.good.test"), "email.dmarc")
    assert f.status == F.PASS, f.to_dict()
    assert "inherited from the organisational domain good.test" in f.summary
    assert f.evidence["inherited"] is True and f.evidence["at"] == "good.test"


def test_org_domain_override_is_used_for_names_under_it():
    s = site.from_vars({"launch_domain": "shop.example.co.uk", "launch_mail_org_domain": "example.co.uk"})
    assert checks_email.org_domain(s, "shop.example.co.uk") == "example.co.uk"
    assert checks_email.org_domain(s, "bounce.example.co.uk") == "example.co.uk"
    assert checks_email.org_domain(s, "mail.other.test") == "other.test"
    assert checks_email.aligned(s, "bounce.example.co.uk", "shop.example.co.uk", "r")
    assert not checks_email.aligned(s, "bounce.example.co.uk", "shop.example.co.uk", "s")


def test_external_report_address_that_agreed_passes(knot):
    f = one(_vars("extok.test"), "email.dmarc")
    assert f.status == F.PASS, f.to_dict()
    assert f.evidence["report_addresses"] == {"dmarc@reports.test": "authorised"}


# ------------------------------------------------------------------ broken variants

@pytest.mark.parametrize("domain, extra, check_id, status, words", Z.VARIANTS,
                         ids=["%s-%s-%s" % (v[0].split(".")[0], v[2].split(".")[1], i) for i, v in
                              enumerate(Z.VARIANTS)])
def test_broken_variant(knot, domain, extra, check_id, status, words):
    findings = run(_vars(domain, **extra), check_id)
    assert [f.status for f in findings] == [status], [f.to_dict() for f in findings]
    assert words in findings[0].summary, findings[0].summary
    if status in (F.FAIL, F.WARN):
        assert findings[0].fix, "a problem comes with a fix"


def test_eleven_lookups_show_the_chain_of_includes(knot):
    f = one(_vars("lookups.test"), "email.spf")
    assert "lookup 11 is a:h3.lookups.test (via include:a.lookups.test -> include:b.lookups.test -> " \
           "include:c.lookups.test)" in f.summary
    assert f.evidence["lookups"] == 11 and len(f.evidence["lookup_terms"]) == 11


def test_three_void_lookups_are_listed(knot):
    f = one(_vars("voids.test"), "email.spf")
    assert f.evidence["void_lookups"] == 3
    assert "gone3.voids.test" in f.summary


def test_every_sender_gets_its_own_finding(knot):
    found = run(_vars("good.test", mail_senders=[Z.SENDER, Z.STRANGER]), "email.spf_senders")
    by_ip = {f.target: f for f in found}
    assert by_ip[Z.SENDER].status == F.PASS
    stranger = by_ip[Z.STRANGER]
    assert stranger.status == F.FAIL and stranger.evidence["result"] == "fail"
    assert stranger.evidence["mechanism"] == "-all"
    assert "ip4:%s" % Z.STRANGER in stranger.fix


def test_dkim_key_mismatch_with_the_signer_fails(knot, key_files):
    f = one(_vars("good.test", dkim_selectors=["s1"], dkim_private_keys={"s1": key_files["other"]}), "email.dkim")
    assert f.status == F.FAIL
    assert "does not verify against the published key" in f.summary
    assert f.evidence["proof"]["verified"] is False


def test_dkim_private_key_that_cannot_be_read_is_error(knot, tmp_path):
    f = one(_vars("good.test", dkim_selectors=["s1"], dkim_private_keys={"s1": str(tmp_path / "nope.pem")}),
            "email.dkim")
    assert f.status == F.ERROR and "cannot be read" in f.summary


def test_dkim_of_an_esp_domain_passes_but_does_not_align(knot):
    found = {f.check: f for f in run(_vars("good.test", mail_senders=[], dkim_selectors=["s1@esp.test"]))}
    assert found["email.dkim"].status == F.PASS and found["email.dkim"].target == "s1._domainkey.esp.test"
    assert found["email.alignment"].status == F.FAIL
    assert "esp.test does not align with good.test" in found["email.alignment"].summary


def test_alignment_fails_when_the_envelope_domain_belongs_to_someone_else(knot):
    f = one(_vars("good.test", mail_envelope_domain="bounce.esp.test"), "email.alignment")
    assert f.status == F.FAIL
    assert "bounce.esp.test does not align with good.test under aspf=r" in f.summary


def test_relaxed_alignment_accepts_a_bounce_subdomain(knot):
    f = one(_vars("good.test", mail_envelope_domain="bounce.good.test"), "email.alignment")
    assert f.status == F.PASS and "without an aligned DKIM key" in f.summary


def test_strict_alignment_refuses_a_bounce_subdomain(knot):
    f = one(_vars("strict.test", mail_envelope_domain="bounce.strict.test"), "email.alignment")
    assert f.status == F.FAIL and "aspf=s" in f.summary


def test_dkim_alone_aligns_when_spf_does_not(knot):
    f = one(_vars("good.test", mail_senders=[Z.STRANGER], dkim_selectors=["s1"]), "email.alignment")
    assert f.status == F.PASS and "DKIM s1 (d=good.test) aligns" in f.summary


def test_nothing_configured_skips_what_needs_configuration(knot):
    found = {f.check: f for f in run(_vars("good.test", mail_senders=[]))}
    assert found["email.spf_senders"].status == F.SKIP
    assert found["email.dkim"].status == F.SKIP
    assert found["email.alignment"].status == F.SKIP
    assert found["email.spf"].status == F.PASS


# ------------------------------------------------------------------ DNS faults

@pytest.fixture(scope="module")
def faulty():
    servers = [FaultyDNS(HANGING, HANG).start(), FaultyDNS(FAILING, SERVFAIL).start()]
    try:
        yield
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("address", [HANGING, FAILING], ids=["timeout", "servfail"])
def test_dns_faults_give_error_never_pass(faulty, key_files, address):
    variables = dict(_vars("good.test", dkim_selectors=["s1"], dkim_private_keys={"s1": key_files["good"]}),
                     launch_resolvers=[address], launch_timeout=0.5)
    started = time.monotonic()
    found = run(variables)
    took = time.monotonic() - started
    assert sorted(f.check for f in found) == EMAIL_IDS
    for f in found:
        assert f.status == F.ERROR, f.to_dict()
        assert "Could not check" in f.summary
    spf = next(f for f in run(variables, "email.spf_senders"))
    assert spf.evidence["result"] == "temperror"
    assert took < 5, "a dead resolver costs about one timeout per question, run concurrently"


def test_no_resolver_at_all_is_error(monkeypatch):
    from ansible_collections.launchready.ops.plugins.module_utils import dns_query
    monkeypatch.setattr(dns_query, "system_resolvers", lambda: [])
    found = run({"launch_domain": "good.test", "launch_mail_senders": [Z.SENDER], "launch_dkim_selectors": ["s1"]})
    assert {f.status for f in found} == {F.ERROR}


# ------------------------------------------------------------------ parsers

def test_parse_dmarc_validates_tags():
    parsed = checks_email.parse_dmarc("v=DMARC1; p=quarantine; sp=reject; adkim=x; pct=150; fo=1:z; "
                                      "rua=mailto:a@x.test!10m,https://r.test/; ruf=bogus; foo=bar")
    assert "adkim=x is not r (relaxed) or s (strict)" in parsed["errors"]
    assert any("pct=150" in e for e in parsed["errors"])
    assert any("fo=1:z" in e for e in parsed["errors"])
    assert any("ruf=bogus" in e for e in parsed["errors"])
    assert parsed["uris"]["rua"] == ["a@x.test"]
    assert parsed["unknown_tags"] == ["foo"]
    assert checks_email.parse_dmarc("p=reject; v=DMARC1")["errors"] == ["v=DMARC1 must come first"]
    assert not checks_email.is_dmarc_record("v=dmarc1; p=reject")


def test_inspect_key_record(keys):
    good = checks_email.inspect_key_record("v=DKIM1; k=rsa; p=%s" % keys["good"].public_b64)
    assert good["problems"] == [] and good["bits"] == 2048
    assert checks_email.inspect_key_record("k=rsa; v=DKIM1; p=%s" % keys["good"].public_b64)["problems"][0][0] == F.FAIL
    assert "no p=" in checks_email.inspect_key_record("v=DKIM1; k=rsa")["problems"][0][1]
    assert "k=dsa" in checks_email.inspect_key_record("v=DKIM1; k=dsa; p=AAAA")["problems"][0][1]
    assert "not for email" in checks_email.inspect_key_record(
        "v=DKIM1; s=tlsrpt; p=%s" % keys["good"].public_b64)["problems"][0][1]
    with pytest.raises(checks_email.TagListError):
        checks_email.parse_tag_list("v=DKIM1; v=DKIM1")


def test_private_keys_in_the_site_description_are_validated():
    with pytest.raises(site.SiteError, match="launch_dkim_private_keys"):
        site.from_vars({"launch_domain": "a.test", "launch_dkim_private_keys": ["x"]})
    with pytest.raises(site.SiteError, match="launch_mail_senders"):
        site.from_vars({"launch_domain": "a.test", "launch_mail_senders": ["mail.a.test"]})
