"""The tls.* checks against real nginx and Knot: one healthy and one broken variant per check.

One module-scoped lab: Knot on 127.0.0.71 serving a zone per variant, one nginx
with a server block per variant on its own address (127.0.0.130-141, port 443),
a silent listener on 127.0.0.208:443 and a resetting one on 127.0.0.209:443.
Certificates come from a TestCA whose root is the site's launch_ca_bundle.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, checks_tls, site, tls_probe
from tests.support import pki, tcp_faults, tls_lab
from tests.support.knot import KnotServer, zone
from tests.support.nginx import NginxServer

DNS = "127.0.0.71"
HANG, RESET = "127.0.0.208", "127.0.0.209"
TLS_IDS = ["tls.cert_valid", "tls.cert_expiry", "tls.chain_complete", "tls.protocols", "tls.key_strength"]
LEGACY = "ALL:@SECLEVEL=0"   # lets nginx speak TLS 1.0
WEAK = "DEFAULT:@SECLEVEL=0"  # lets nginx load an RSA 1024 or SHA-1 leaf

# variant -> (address, certificate maker, write the chain?, ssl_protocols, ssl_ciphers)
VARIANTS = {
    "good": ("127.0.0.130", lambda ca, n: ca.issue(n + ["www." + n[0], "mixed.tlslab.test"]), True, None, None),
    "expired": ("127.0.0.131", lambda ca, n: ca.issue(n, expired=True), True, None, None),
    "exp10": ("127.0.0.132", lambda ca, n: ca.issue(n + ["mixed.tlslab.test"], days=10), True, None, None),
    "exp20": ("127.0.0.133", lambda ca, n: ca.issue(n, days=20), True, None, None),
    "mismatch": ("127.0.0.134", lambda ca, n: ca.issue(["other.tlslab.test"]), True, None, None),
    "leafonly": ("127.0.0.135", lambda ca, n: ca.issue(n), False, None, None),
    "selfsigned": ("127.0.0.136", lambda ca, n: ca.self_signed(n), False, None, None),
    "tls10": ("127.0.0.137", lambda ca, n: ca.issue(n), True, "TLSv1 TLSv1.2", LEGACY),
    "rsa1024": ("127.0.0.138", lambda ca, n: ca.issue(n, key_kind="rsa", bits=1024), True, None, WEAK),
    "sha1": ("127.0.0.139", tls_lab.sha1_leaf, True, None, WEAK),
    "rsa2048": ("127.0.0.140", lambda ca, n: ca.issue(n, key_kind="rsa", bits=2048), True, None, None),
    "foreign": ("127.0.0.141", None, True, None, None),  # full chain from a CA nobody trusts
}


class Lab:
    def __init__(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="tls-checks-")
        self.ca = pki.TestCA("tlslab")
        self.bundle = self.ca.write_bundle(os.path.join(self.workdir, "bundle.pem"))
        self.running: list = []

    def start(self) -> None:
        blocks, zones = [], {}
        foreign_ca = pki.TestCA("untrusted")
        for name, (address, make, chain, protocols, ciphers) in VARIANTS.items():
            domain = "%s.tlslab.test" % name
            ca = foreign_ca if make is None else self.ca
            issued = ca.issue([domain]) if make is None else make(ca, [domain])
            crt, key = ca.write(os.path.join(self.workdir, "certs"), name, issued, chain=chain)
            blocks.append(tls_lab.server_block(address, [domain], crt, key, protocols=protocols or "TLSv1.2 TLSv1.3",
                                               ciphers=ciphers))
            zones[domain] = zone(domain, "@ A %s\nwww A %s" % (address, address))
        zones["mixed.tlslab.test"] = zone("mixed.tlslab.test", "@ A %s\n@ A %s" % (
            VARIANTS["good"][0], VARIANTS["exp10"][0]))
        zones["hang.tlslab.test"] = zone("hang.tlslab.test", "@ A %s" % HANG)
        zones["reset.tlslab.test"] = zone("reset.tlslab.test", "@ A %s" % RESET)
        self.running.append(tcp_faults.FaultServer(HANG, [443], "silent").start())
        self.running.append(tcp_faults.FaultServer(RESET, [443], "reset").start())
        self.running.append(NginxServer("".join(blocks), [(v[0], 443) for v in VARIANTS.values()],
                                        workdir=os.path.join(self.workdir, "nginx")).start())
        self.running.append(KnotServer([DNS], zones, workdir=os.path.join(self.workdir, "knot")).start())

    def stop(self) -> None:
        for server in reversed(self.running):
            server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def site(self, variant: str, hosts=None, **extra) -> site.Site:
        domain = "%s.tlslab.test" % variant
        variables = {"launch_domain": domain, "launch_hosts": hosts or [domain], "launch_resolvers": [DNS],
                     "launch_ca_bundle": self.bundle, "launch_timeout": 3}
        variables.update(extra)
        return site.from_vars(variables)

    def audit(self, variant: str, ids=None, **kw) -> dict:
        """{check id: finding} for a one-host site, or {(id, host): finding} when hosts are given."""
        findings = check_registry.run(self.site(variant, **kw), check_registry.select(ids=ids or TLS_IDS))
        if "hosts" in kw:
            return {(f.check, f.target): f for f in findings}
        by_id = {}
        for f in findings:
            assert f.check not in by_id, "one finding per check for a one-host site: %r" % f
            by_id[f.check] = f
        return by_id


@pytest.fixture(scope="module")
def lab():
    lab = Lab()
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()


def assert_finding(f, status, pattern):
    assert f.status == status, f.to_dict()
    assert re.search(pattern, f.summary), f.summary
    if status in ("fail", "warn", "error"):
        assert f.fix, f.to_dict()


# --- a healthy site: every check passes, fast, with one handshake per name ---------------

def test_healthy_site_passes_every_check_quickly(lab, monkeypatch):
    calls = []
    real = tls_probe.handshake

    def counting(*args, **kwargs):
        calls.append((args[0], args[2], kwargs.get("verify", True), kwargs.get("max_version")))
        return real(*args, **kwargs)

    monkeypatch.setattr(tls_probe, "handshake", counting)
    hosts = ["good.tlslab.test", "www.good.tlslab.test"]
    started = time.monotonic()
    found = lab.audit("good", hosts=hosts)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, elapsed
    assert sorted(found) == sorted((i, h) for i in TLS_IDS for h in hosts)
    for f in found.values():
        assert f.status == "pass", f.to_dict()
        assert f.evidence["address"] == "127.0.0.130" and f.fix == ""
    valid = found[("tls.cert_valid", "www.good.tlslab.test")]
    assert valid.summary.startswith("certificate of www.good.tlslab.test at 127.0.0.130 validates")
    assert valid.evidence["subject"] == "CN=good.tlslab.test"
    assert "www.good.tlslab.test" in valid.evidence["sans"]
    assert valid.evidence["sent_chain"] == ["CN=good.tlslab.test", "CN=tlslab intermediate"]
    assert valid.evidence["version"] == "TLSv1.3" and valid.evidence["not_after"].endswith("Z")
    # one verifying handshake per (address, name), shared by the five checks
    verifying = [c for c in calls if c[2]]
    assert sorted(verifying) == [("127.0.0.130", h, True, None) for h in hosts]
    assert len(calls) == len(set(calls))


def test_protocols_pass_lists_versions_and_says_sslv3_cannot_be_offered(lab):
    f = lab.audit("good", ids=["tls.protocols"])["tls.protocols"]
    assert_finding(f, "pass", r"good\.tlslab\.test at 127\.0\.0\.130 offers TLS 1\.2, TLS 1\.3 and refuses")
    protocols = f.evidence["protocols"]
    assert protocols["TLSv1.3"].startswith("accepted") and protocols["TLSv1.2"].startswith("accepted")
    assert protocols["TLSv1"].startswith("refused") and protocols["TLSv1.1"].startswith("refused")
    assert "cannot offer" in protocols["SSLv3"] and f.evidence["negotiated"] == "TLSv1.3"


# --- tls.cert_valid ---------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["good", "rsa2048"])
def test_cert_valid_passes_for_a_trusted_matching_certificate(lab, variant):
    f = lab.audit(variant, ids=["tls.cert_valid"])["tls.cert_valid"]
    assert_finding(f, "pass", r"validates to a trusted root and matches the name \(issued by CN=tlslab intermediate\)")
    assert "launch_ca_bundle" in f.evidence["trust"]


@pytest.mark.parametrize("variant, pattern, code", [
    ("selfsigned", r"not valid: self-signed \(CN=selfsigned\.tlslab\.test\)", 18),
    ("mismatch", r"name mismatch: the certificate covers other\.tlslab\.test, not mismatch\.tlslab\.test", 62),
    ("leafonly", r"untrusted: no path from issuer CN=tlslab intermediate to a trusted root", 20),
    ("foreign", r"untrusted: no path from issuer CN=untrusted intermediate", 20),
    ("expired", r"expired on \d{4}-\d\d-\d\d", 10),
    ("rsa1024", r"too weak: EE certificate key too weak", 66),
    ("sha1", r"too weak: CA signature digest algorithm too weak", 68),
])
def test_cert_valid_fails_and_says_why(lab, variant, pattern, code):
    f = lab.audit(variant, ids=["tls.cert_valid"])["tls.cert_valid"]
    assert_finding(f, "fail", r"certificate of %s\.tlslab\.test at 127\.0\.0\.1\d\d is not valid: " % variant)
    assert re.search(pattern, f.summary), f.summary
    assert f.impact == "blocker" and f.evidence["verify_code"] == code
    assert f.evidence["subject"] and f.evidence["sent_chain"]


# --- tls.cert_expiry ----------------------------------------------------------------------

def test_cert_expiry_passes_with_time_left(lab):
    f = lab.audit("good", ids=["tls.cert_expiry"])["tls.cert_expiry"]
    assert_finding(f, "pass", r"certificate of good\.tlslab\.test at 127\.0\.0\.130 is valid for (89|90) more days")
    assert f.evidence["days_left"] in (89, 90)


@pytest.mark.parametrize("variant, status, pattern, days", [
    ("expired", "fail", r"expired (9|10) days ago \(\d{4}-\d\d-\d\d\)", (-10, -9)),
    ("exp10", "fail", r"expires in (9|10) days \(\d{4}-\d\d-\d\d\), under the 14-day bar", (9, 10)),
    ("exp20", "warn", r"expires in (19|20) days \(\d{4}-\d\d-\d\d\), under 30 days", (19, 20)),
])
def test_cert_expiry_fails_or_warns_near_notafter(lab, variant, status, pattern, days):
    f = lab.audit(variant, ids=["tls.cert_expiry"])["tls.cert_expiry"]
    assert_finding(f, status, r"certificate of %s\.tlslab\.test at 127\.0\.0\.13\d " % variant + pattern)
    assert f.evidence["days_left"] in days and f.evidence["not_after"] == f.evidence["checked_not_after"]
    assert f.impact == "high"


def test_cert_expiry_reports_the_worst_address_of_a_host(lab):
    f = lab.audit("mixed", ids=["tls.cert_expiry"])["tls.cert_expiry"]
    assert_finding(f, "fail", r"certificate of mixed\.tlslab\.test at 127\.0\.0\.132 expires in (9|10) days.*"
                   r"\(fail at 1 of 2 addresses\)")
    assert f.evidence["addresses"] == {"127.0.0.130": "pass", "127.0.0.132": "fail"}


# --- tls.chain_complete -------------------------------------------------------------------

def test_chain_complete_passes_with_the_intermediate_sent(lab):
    f = lab.audit("good", ids=["tls.chain_complete"])["tls.chain_complete"]
    assert_finding(f, "pass", r"sends a complete chain: 2 certificate\(s\) up to CN=tlslab intermediate, "
                   r"issued by trusted CN=tlslab root")
    assert f.evidence["path"] == ["CN=good.tlslab.test", "CN=tlslab intermediate", "(trusted) CN=tlslab root"]


def test_chain_complete_fails_on_a_leaf_only_server(lab):
    f = lab.audit("leafonly", ids=["tls.chain_complete"])["tls.chain_complete"]
    assert_finding(f, "fail", r"leafonly\.tlslab\.test at 127\.0\.0\.135 sends the leaf only; "
                   r"intermediate CN=tlslab intermediate is missing")
    assert f.evidence["sent_chain"] == ["CN=leafonly.tlslab.test"]
    assert f.evidence["missing_issuer"] == "CN=tlslab intermediate"


def test_chain_complete_skips_a_self_signed_leaf(lab):
    f = lab.audit("selfsigned", ids=["tls.chain_complete"])["tls.chain_complete"]
    assert_finding(f, "skip", r"sends a self-signed certificate: there is no chain to complete \(see tls\.cert_valid\)")


# --- tls.protocols --------------------------------------------------------------------------

def test_protocols_fail_when_tls10_is_accepted(lab):
    f = lab.audit("tls10", ids=["tls.protocols"])["tls.protocols"]
    assert_finding(f, "fail", r"tls10\.tlslab\.test at 127\.0\.0\.137 accepts TLS 1\.0 \(offers TLS 1\.0, TLS 1\.2\)")
    assert f.evidence["protocols"]["TLSv1"].startswith("accepted")
    assert f.evidence["protocols"]["TLSv1.1"].startswith("refused")
    assert "cannot offer" in f.evidence["protocols"]["SSLv3"] and f.impact == "medium"
    assert "ssl_protocols TLSv1.2 TLSv1.3" in f.fix


# --- tls.key_strength -------------------------------------------------------------------

@pytest.mark.parametrize("variant, pattern", [
    ("good", r"leaf key EC secp256r1 \(256 bits\), signature ecdsa-with-SHA256"),
    ("rsa2048", r"leaf key RSA 2048 bits, signature ecdsa-with-SHA256"),
])
def test_key_strength_passes_for_strong_keys(lab, variant, pattern):
    f = lab.audit(variant, ids=["tls.key_strength"])["tls.key_strength"]
    assert_finding(f, "pass", pattern)


@pytest.mark.parametrize("variant, pattern", [
    ("rsa1024", r"rsa1024\.tlslab\.test at 127\.0\.0\.138: leaf key RSA 1024 bits is below RSA 2048"),
    ("sha1", r"sha1\.tlslab\.test at 127\.0\.0\.139: leaf is signed with SHA1, below SHA-256 \(ecdsa-with-SHA1\)"),
])
def test_key_strength_fails_for_weak_keys_and_hashes(lab, variant, pattern):
    f = lab.audit(variant, ids=["tls.key_strength"])["tls.key_strength"]
    assert_finding(f, "fail", pattern)
    assert f.evidence["keys"][0]["certificate"] == "CN=%s.tlslab.test" % variant


# --- faults: every check ends in error, within the timeout -----------------------------------

@pytest.mark.parametrize("variant, pattern", [
    ("hang", r"could not complete a TLS handshake with hang\.tlslab\.test at 127\.0\.0\.208:443: "
             r"no TLS handshake within 1 s"),
    ("reset", r"could not complete a TLS handshake with reset\.tlslab\.test at 127\.0\.0\.209:443: "
              r"(reset|closed) \("),
])
def test_unresponsive_servers_end_in_error_within_the_timeout(lab, variant, pattern):
    started = time.monotonic()
    found = lab.audit(variant, launch_timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert sorted(found) == sorted(TLS_IDS)
    for f in found.values():
        assert_finding(f, "error", pattern)


def test_a_host_without_address_is_an_error(lab):
    found = lab.audit("good", hosts=["nowhere.good.tlslab.test"])
    for (_check_id, host), f in found.items():
        assert host == "nowhere.good.tlslab.test"
        assert_finding(f, "error", r"nowhere\.good\.tlslab\.test has no address to probe \(nxdomain from 127\.0\.0\.71")
        assert "dns.resolves" in f.fix


def test_an_unreadable_ca_bundle_is_an_error(lab):
    f = lab.audit("good", ids=["tls.cert_valid"], launch_ca_bundle="/nonexistent/bundle.pem")["tls.cert_valid"]
    assert_finding(f, "error", r"could not probe good\.tlslab\.test: cannot load the CA bundle /nonexistent/bundle\.pem")
    assert "launch_ca_bundle" in f.fix


def test_every_check_id_is_registered_once_next_to_its_spec():
    specs = [checks_tls.CERT_VALID, checks_tls.CERT_EXPIRY, checks_tls.CHAIN_COMPLETE, checks_tls.PROTOCOLS,
             checks_tls.KEY_STRENGTH]
    assert [s.id for s in specs] == TLS_IDS
    registered = check_registry.registered()
    assert all(registered[s.id][0] is s for s in specs)
    assert {s.id: s.impact for s in specs} == {
        "tls.cert_valid": "blocker", "tls.cert_expiry": "high", "tls.chain_complete": "high",
        "tls.protocols": "medium", "tls.key_strength": "high"}
