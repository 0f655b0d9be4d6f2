"""The email_auth role and playbook end to end: RFC 2136 against the lab's Knot, and Cloudflare.

RFC 2136: the records of a test-only name inside the lab zone (ea-<random>.shop.test, never
shop.test itself, so the shared lab stays as it is), removed at the end. Cloudflare: a local
HTTPS server (tests.support.cloudflare_api) that refuses any request the API documentation
does not allow.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import uuid

import dns.message
import dns.query
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest
import yaml

from tests.support import ansible_run
from tests.support import lab as lab_support
from tests.support.cloudflare_api import CloudflareAPI
from tests.support.pki import TestCA

KNOT = "127.0.0.53"
ZONE = "shop.test"
TOKEN = "cf-test-token-%s" % uuid.uuid4().hex[:8]


def _txt(name: str) -> list:
    response = dns.query.tcp(dns.message.make_query(name, "TXT"), KNOT, timeout=5)
    return sorted(b"".join(r.strings).decode() for rrset in response.answer if rrset.rdtype == dns.rdatatype.TXT
                  for r in rrset)


def _update(tsig: dict) -> dns.update.UpdateMessage:
    keyring = dns.tsigkeyring.from_text({tsig["name"]: tsig["secret"]})
    return dns.update.UpdateMessage(ZONE, keyring=keyring, keyname=tsig["name"], keyalgorithm=dns.tsig.HMAC_SHA256)


def _write_inventory(path, host: str, variables: dict) -> str:
    base = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    path.write_text(yaml.safe_dump({"sites": {"hosts": {host: dict(base, **variables)}}}))
    return str(path)


def _run(inventory: str, *extra: str):
    run = ansible_run.playbook("-i", inventory, "launchready.ops.email_auth", *extra, timeout=300)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
    return run


def _changed(run) -> int:
    return sum(host.get("changed", 0) for host in ansible_run.recap(run.stdout).values())


# ------------------------------------------------------------------ RFC 2136 (the lab's Knot)

@pytest.fixture(scope="module")
def nsupdate_site(lab, tmp_path_factory):
    tsig = lab_support.tsig()
    domain = "ea-%s.%s" % (uuid.uuid4().hex[:6], ZONE)
    work = tmp_path_factory.mktemp("email_auth")
    # A TXT record someone else owns, at the name where SPF goes: it must survive.
    update = _update(tsig)
    update.replace(domain + ".", 300, "TXT", '"google-site-verification=keep-me"')
    dns.query.tcp(update, KNOT, timeout=5)
    variables = {
        "launch_domain": domain, "launch_resolvers": [KNOT], "launch_timeout": 2,
        "launch_mail_senders": ["127.0.0.12"], "launch_dkim_selectors": ["s1"],
        "launch_report_dir": str(work / "reports"),
        "email_auth_zone": ZONE, "email_auth_ttl": 300,
        "email_auth_nsupdate_server": KNOT, "email_auth_nsupdate_key_name": tsig["name"],
        "email_auth_nsupdate_key_secret": tsig["secret"],
        "email_auth_dkim_key_dir": str(work / "keys"),
    }
    info = {"domain": domain, "work": work, "vars": variables, "tsig": tsig,
            "inventory": _write_inventory(work / "hosts.yml", domain, variables)}
    try:
        yield info
    finally:
        cleanup = _update(tsig)
        for name in (domain, "_dmarc." + domain, "s1._domainkey." + domain, "s2._domainkey." + domain):
            cleanup.delete(name + ".")
        dns.query.tcp(cleanup, KNOT, timeout=5)


def test_check_mode_publishes_nothing_and_makes_no_key(nsupdate_site):
    site = nsupdate_site
    run = _run(site["inventory"], "--check", "--diff")
    assert _txt(site["domain"]) == ["google-site-verification=keep-me"]
    assert _txt("_dmarc." + site["domain"]) == []
    assert not (site["work"] / "keys").exists()
    # --diff shows what would be written, the foreign record kept.
    assert '+%s.\t300\tIN\tTXT\t"v=spf1 ip4:127.0.0.12 -all"' % site["domain"] in run.stdout
    assert "google-site-verification=keep-me" in run.stdout
    assert not (site["work"] / "reports").exists()


def test_publish_verifies_and_keeps_other_txt_records(nsupdate_site):
    site = nsupdate_site
    domain = site["domain"]
    run = _run(site["inventory"])
    assert _changed(run) > 0
    assert _txt(domain) == ["google-site-verification=keep-me", "v=spf1 ip4:127.0.0.12 -all"]
    assert _txt("_dmarc." + domain) == ["v=DMARC1; p=reject; rua=mailto:dmarc@%s" % domain]
    dkim = _txt("s1._domainkey." + domain)
    assert len(dkim) == 1 and dkim[0].startswith("v=DKIM1; k=rsa; p=MIIBIjAN")  # RSA 2048 SubjectPublicKeyInfo
    key = site["work"] / "keys" / domain / "s1.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert lab_support.tsig()["secret"] not in run.stdout
    report = json.loads((site["work"] / "reports" / domain / "report.json").read_text())
    statuses = {f["check"]: f["status"] for f in report["findings"]}
    assert statuses == {"email.spf": "pass", "email.spf_senders": "pass", "email.dkim": "pass",
                        "email.dmarc": "pass", "email.alignment": "pass", "email.mx": "warn"}, statuses
    dkim_finding = next(f for f in report["findings"] if f["check"] == "email.dkim")
    assert dkim_finding["evidence"]["proof"]["status"] == "pass", "the generated key signs and verifies"


def test_second_run_changes_nothing(nsupdate_site):
    run = _run(nsupdate_site["inventory"])
    assert _changed(run) == 0, run.stdout[-4000:]


def test_rotation_keeps_the_old_selector_until_told(nsupdate_site, tmp_path):
    site = nsupdate_site
    domain = site["domain"]
    old_key = site["work"] / "keys" / domain / "s1.pem"
    old_record = _txt("s1._domainkey." + domain)
    rotating = dict(site["vars"], launch_dkim_selectors=["s2", "s1"])
    _run(_write_inventory(tmp_path / "rotate.yml", domain, rotating))
    assert _txt("s1._domainkey." + domain) == old_record, "the old selector stays published"
    new = _txt("s2._domainkey." + domain)
    assert len(new) == 1 and new != old_record
    retired = dict(site["vars"], launch_dkim_selectors=["s2"],
                   email_auth_dkim_selectors=["s2", {"selector": "s1", "state": "absent"}])
    run = _run(_write_inventory(tmp_path / "retire.yml", domain, retired))
    assert _txt("s1._domainkey." + domain) == []
    assert _txt("s2._domainkey." + domain) == new
    assert old_key.exists(), "a retired selector's key file is kept"
    assert "PASS email.dkim" in run.stdout


# ------------------------------------------------------------------ Cloudflare (local API server)

@pytest.fixture
def cloudflare(tmp_path):
    api = CloudflareAPI(tokens=[TOKEN], ca=TestCA("cloudflare test")).start()
    try:
        api.add_zone("cf.test")
        api.add_record("cf.test", {"type": "TXT", "name": "cf.test", "content": '"google-site-verification=cf"',
                                   "ttl": 1})
        api.add_record("cf.test", {"type": "TXT", "name": "cf.test", "content": '"v=spf1 ip4:192.0.2.99 ~all"',
                                   "ttl": 1})
        variables = {
            "launch_domain": "cf.test", "launch_mail_senders": ["192.0.2.25"], "launch_dkim_selectors": ["cf1"],
            "email_auth_provider": "cloudflare", "email_auth_cloudflare_api_token": TOKEN,
            "email_auth_cloudflare_api_url": api.url, "email_auth_cloudflare_ca_path": api.ca_file,
            "email_auth_dkim_key_dir": str(tmp_path / "keys"), "email_auth_verify": False,
            "email_auth_dmarc_policy": "quarantine",
        }
        yield {"api": api, "vars": variables, "dir": tmp_path,
               "inventory": _write_inventory(tmp_path / "hosts.yml", "cf.test", variables)}
    finally:
        api.stop()


def _contents(api: CloudflareAPI, name: str) -> list:
    return sorted(r["content"] for r in api.records("cf.test", name, "TXT"))


def test_cloudflare_check_mode_then_publish_then_nothing(cloudflare):
    api = cloudflare["api"]
    run = _run(cloudflare["inventory"], "--check", "--diff")
    assert api.writes() == []
    assert '+cf.test.\t3600\tIN\tTXT\t"v=spf1 ip4:192.0.2.25 -all"' in run.stdout
    assert '-cf.test.\t1\tIN\tTXT\t"v=spf1 ip4:192.0.2.99 ~all"' in run.stdout

    run = _run(cloudflare["inventory"])
    assert _changed(run) > 0
    assert TOKEN not in run.stdout
    assert _contents(api, "cf.test") == ['"google-site-verification=cf"', '"v=spf1 ip4:192.0.2.25 -all"']
    assert _contents(api, "_dmarc.cf.test") == ['"v=DMARC1; p=quarantine; rua=mailto:dmarc@cf.test"']
    dkim = _contents(api, "cf1._domainkey.cf.test")
    assert len(dkim) == 1 and dkim[0].startswith('"v=DKIM1; k=rsa; p=MIIBIjAN') and '" "' in dkim[0]
    writes = api.writes()
    # The old SPF record is replaced in place (PUT), the others created; nothing is refused.
    assert sorted(w["method"] for w in writes) == ["POST", "POST", "PUT"]
    assert all(r["status"] == 200 for r in api.requests), [r for r in api.requests if r["status"] != 200]
    assert all(r["authorization"] == "Bearer " + TOKEN for r in api.requests)
    assert all(w["content_type"] == "application/json" for w in writes)

    before = len(api.requests)
    run = _run(cloudflare["inventory"])
    assert _changed(run) == 0, run.stdout[-3000:]
    assert {r["method"] for r in api.requests[before:]} == {"GET"}


def test_cloudflare_revoke_then_remove_an_old_selector(cloudflare, tmp_path):
    api = cloudflare["api"]
    _run(cloudflare["inventory"])
    revoked = dict(cloudflare["vars"], email_auth_dkim_selectors=["cf2", {"selector": "cf1", "state": "revoked"}])
    _run(_write_inventory(tmp_path / "revoke.yml", "cf.test", revoked))
    assert _contents(api, "cf1._domainkey.cf.test") == ['"v=DKIM1; k=rsa; p="']
    assert len(_contents(api, "cf2._domainkey.cf.test")) == 1
    removed = dict(cloudflare["vars"], email_auth_dkim_selectors=["cf2", {"selector": "cf1", "state": "absent"}])
    _run(_write_inventory(tmp_path / "remove.yml", "cf.test", removed))
    assert _contents(api, "cf1._domainkey.cf.test") == []
    assert any(w["method"] == "DELETE" for w in api.writes())


def test_cloudflare_refusal_is_reported_with_its_error_code(cloudflare, tmp_path):
    broken = dict(cloudflare["vars"], email_auth_cloudflare_api_token="not-the-token")
    run = ansible_run.playbook("-i", _write_inventory(tmp_path / "bad.yml", "cf.test", broken),
                               "launchready.ops.email_auth", timeout=300)
    assert run.returncode != 0
    assert "[10000] Authentication error" in run.stdout
    assert "not-the-token" not in run.stdout
