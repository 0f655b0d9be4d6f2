"""tls_probe.handshake against real nginx and misbehaving listeners.

Addresses: nginx 127.0.0.150 (full chain, TLS 1.2/1.3), 127.0.0.151 (leaf only),
127.0.0.152 (TLS 1.0 + 1.2); a silent listener on 127.0.0.208:8443 and a resetting
one on 127.0.0.209:8443 (not :443, which test_checks_tls uses, so both modules can
run at once), a trickling one on 127.0.0.208:8445; nothing on 127.0.0.208:8444.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry
from ansible_collections.launchready.ops.plugins.module_utils import tls_probe as P
from tests.support import pki, tcp_faults, tls_lab
from tests.support.nginx import NginxServer

GOOD, LEAF_ONLY, LEGACY = "127.0.0.150", "127.0.0.151", "127.0.0.152"
SILENT, RESET, FAULT_PORT, TRICKLE_PORT = "127.0.0.208", "127.0.0.209", 8443, 8445
NAME = "probe.tlslab.test"


@pytest.fixture(scope="module")
def lab():
    workdir = tempfile.mkdtemp(prefix="tls-probe-")
    running = []
    try:
        ca = pki.TestCA("probe")
        bundle = ca.write_bundle(os.path.join(workdir, "bundle.pem"))
        full = ca.write(workdir, "full", ca.issue([NAME, "*.wild.tlslab.test"]), chain=True)
        leaf = ca.write(workdir, "leaf", ca.issue([NAME]), chain=False)
        blocks = (tls_lab.server_block(GOOD, [NAME], *full)
                  + tls_lab.server_block(LEAF_ONLY, [NAME], *leaf)
                  + tls_lab.server_block(LEGACY, [NAME], *full, protocols="TLSv1 TLSv1.2", ciphers="ALL:@SECLEVEL=0"))
        running.append(tcp_faults.FaultServer(SILENT, [FAULT_PORT], "silent").start())
        running.append(tcp_faults.FaultServer(RESET, [FAULT_PORT], "reset").start())
        running.append(tcp_faults.FaultServer(SILENT, [TRICKLE_PORT], "tls_trickle").start())
        running.append(NginxServer(blocks, [(GOOD, 443), (LEAF_ONLY, 443), (LEGACY, 443)],
                                   workdir=os.path.join(workdir, "nginx")).start())
        yield {"bundle": bundle, "ca": ca}
    finally:
        for server in reversed(running):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def hs(lab, address, name=NAME, port=443, **kw):
    kw.setdefault("ca_bundle", lab["bundle"])
    kw.setdefault("timeout", 2)
    return P.handshake(address, port, name, **kw)


def subjects(result):
    return [c.subject.rfc4514_string() for c in result.certificates()]


def test_verified_handshake_reports_version_cipher_and_the_sent_chain(lab):
    r = hs(lab, GOOD)
    assert r.ok and r.verified is True and r.verify_code is None
    assert r.version == "TLSv1.3" and r.cipher.startswith("TLS_")
    assert r.chain_source == "sent"
    assert subjects(r) == ["CN=%s" % NAME, "CN=probe intermediate"]
    assert 0 < r.elapsed_ms < 2000
    assert r.to_dict()["chain"] == 2


def test_name_mismatch_is_a_verification_failure_with_the_certificates_still_read(lab):
    r = hs(lab, GOOD, name="elsewhere.tlslab.test")
    assert r.ok and r.verified is False
    assert r.verify_code == 62 and "elsewhere.tlslab.test" in r.verify_message
    assert subjects(r)[0] == "CN=%s" % NAME


def test_leaf_only_server_fails_verification_and_sends_one_certificate(lab):
    r = hs(lab, LEAF_ONLY)
    assert r.ok and r.verified is False
    assert r.verify_code == 20 and "local issuer" in r.verify_message
    assert subjects(r) == ["CN=%s" % NAME]


def test_without_the_bundle_the_lab_root_is_untrusted(lab):
    r = hs(lab, GOOD, ca_bundle=None)
    assert r.ok and r.verified is False and r.verify_code == 20


def test_unverified_handshake_reads_the_chain(lab):
    r = hs(lab, LEAF_ONLY, verify=False)
    assert r.ok and r.verified is None and len(r.chain) == 1


def test_tls10_is_really_offered_and_detected(lab):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy = hs(lab, LEGACY, verify=False, min_version="TLSv1", max_version="TLSv1")
    assert legacy.ok and legacy.version == "TLSv1", legacy.to_dict()
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]
    refused = hs(lab, GOOD, verify=False, min_version="TLSv1", max_version="TLSv1")
    assert refused.error in P.REJECTED and "PROTOCOL_VERSION" in refused.detail
    assert hs(lab, LEGACY, verify=False, min_version="TLSv1.1", max_version="TLSv1.1").error in P.REJECTED
    assert hs(lab, LEGACY, verify=False, min_version="TLSv1.3", max_version="TLSv1.3").error in P.REJECTED
    assert hs(lab, GOOD, verify=False, min_version="TLSv1.2", max_version="TLSv1.2").version == "TLSv1.2"


def test_sslv3_cannot_be_offered_and_bad_versions_are_config_errors(lab):
    r = hs(lab, GOOD, verify=False, min_version="SSLv3", max_version="SSLv3")
    assert r.error == P.UNSUPPORTED and "cannot offer SSLv3" in r.detail
    r = hs(lab, GOOD, min_version="TLSv9")
    assert r.error == P.CONFIG and "TLSv9" in r.detail


def test_silent_server_times_out_within_the_timeout(lab):
    started = time.monotonic()
    r = hs(lab, SILENT, port=FAULT_PORT, timeout=1)
    elapsed = time.monotonic() - started
    assert r.error == P.TIMEOUT and not r.ok, r.to_dict()
    assert 0.9 < elapsed < 1.5


def test_a_trickling_server_cannot_stretch_the_timeout(lab):
    started = time.monotonic()
    r = hs(lab, SILENT, port=TRICKLE_PORT, timeout=1)
    elapsed = time.monotonic() - started
    assert r.error == P.TIMEOUT, r.to_dict()
    assert elapsed < 1.3


def test_reset_and_refused_are_classified(lab):
    r = hs(lab, RESET, port=FAULT_PORT, timeout=1)
    assert r.error == P.RESET and "reset" in r.detail, r.to_dict()
    r = hs(lab, SILENT, port=FAULT_PORT + 1, timeout=1)
    assert r.error == P.REFUSED


def test_unreadable_or_empty_ca_bundle_is_a_config_error(lab, tmp_path):
    r = hs(lab, GOOD, ca_bundle=str(tmp_path / "missing.pem"))
    assert r.error == P.CONFIG and "missing.pem" in r.detail
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    assert hs(lab, GOOD, ca_bundle=str(empty)).error == P.CONFIG
    with pytest.raises(ValueError):
        P.trust_anchors(str(empty))


def test_trust_anchors_are_the_system_store_plus_the_bundle(lab):
    anchors = P.trust_anchors(lab["bundle"])
    assert anchors[-1].subject.rfc4514_string() == "CN=probe root"
    cafile = P.system_store()[0]
    if cafile:
        assert len(anchors) > 50
    assert P.trust_anchors(lab["bundle"]) is anchors  # cached while the files are unchanged


def test_handshake_cached_shares_one_result_per_options(lab, monkeypatch):
    calls = []
    real = P.handshake
    monkeypatch.setattr(P, "handshake", lambda *a, **k: calls.append(a) or real(*a, **k))
    probes = check_registry.Probes()
    first = P.handshake_cached(probes, GOOD, 443, NAME, ca_bundle=lab["bundle"], timeout=2)
    again = P.handshake_cached(probes, GOOD, 443, NAME, ca_bundle=lab["bundle"], timeout=2)
    other = P.handshake_cached(probes, GOOD, 443, NAME, ca_bundle=lab["bundle"], timeout=2, verify=False)
    assert first is again and other is not first and len(calls) == 2


def test_handshake_cached_turns_a_crash_into_an_error_result(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("bug")
    monkeypatch.setattr(P, "handshake", boom)
    r = P.handshake_cached(check_registry.Probes(), GOOD, 443, NAME, ca_bundle=None, timeout=1)
    assert r.error == P.ERROR and "RuntimeError: bug" in r.detail


def test_leaf_fallback_when_python_cannot_list_the_sent_chain():
    class OldSocket:
        _sslobj = object()

        def getpeercert(self, binary_form=False):
            return b"leaf-der"
    chain, source = P._sent_chain(OldSocket())
    assert chain == [b"leaf-der"] and source.startswith("leaf only")


def test_name_matching_follows_rfc6125(lab):
    cert = lab["ca"].issue([NAME, "*.wild.tlslab.test"]).cert
    assert P.names(cert) == [NAME, "*.wild.tlslab.test"]
    assert P.name_matches(cert, "PROBE.tlslab.test.")
    assert P.name_matches(cert, "a.wild.tlslab.test")
    assert not P.name_matches(cert, "a.b.wild.tlslab.test")
    assert not P.name_matches(cert, "wild.tlslab.test")
    assert P.issued_by(cert, lab["ca"].intermediate) and not P.is_self_signed(cert)
    assert not P.issued_by(cert, lab["ca"].root)
