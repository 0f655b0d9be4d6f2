"""The pin check behind a rejected certificate (tls_pin.py, http_probe.fetch_pinned / site_fetch), and where
the pins come from (past_bad_certificate.pins).

A real TLS server (Python's ssl, in a thread) on 127.0.11.20 presents an EXPIRED leaf from a test CA and
records every byte a client sends after the handshake: the right pin gets the page, any other leaf gets
an error and the server never sees the request.
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils import past_bad_certificate as PB
from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod
from ansible_collections.launchready.ops.plugins.module_utils import tls_pin
from tests.support import pki

IP = "127.0.11.20"
NAME = "pin.test"


class RecordingTlsServer:
    """Accepts TLS on ``IP``:443, records what each connection sends, answers one small page."""

    def __init__(self, crt: str, key: str) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(crt, key)
        self.sock = socket.create_server((IP, 443))
        self.received: list = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="pin-test-tls", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                raw, _peer = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._one, args=(raw,), daemon=True).start()

    def _one(self, raw: socket.socket) -> None:
        data = b""
        try:
            raw.settimeout(3)
            with self.ctx.wrap_socket(raw, server_side=True) as conn:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nbehind")
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.received.append(data)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def tls_server():
    workdir = tempfile.mkdtemp(prefix="tls-pin-")
    ca = pki.TestCA("tls pin test")
    issued = ca.issue([NAME], expired=True)
    crt, key = ca.write(workdir, "pin", issued)
    server = RecordingTlsServer(crt, key)
    try:
        yield server, tls_pin.leaf_sha256(issued.cert.public_bytes(serialization.Encoding.DER)), \
            ca.write_bundle(os.path.join(workdir, "ca.pem"))
    finally:
        server.stop()
        for name in os.listdir(workdir):
            os.unlink(os.path.join(workdir, name))
        os.rmdir(workdir)


URL = "https://%s/" % NAME


def test_the_pinned_leaf_gets_the_page_where_verification_refuses_it(tls_server):
    server, pin, bundle = tls_server
    verified = P.fetch(URL, IP, ca_bundle=bundle, timeout=3)
    assert verified.error_kind == P.TLS and "certificate has expired" in verified.error
    pinned = P.fetch_pinned(URL, IP, leaf_sha256=pin, timeout=3)
    assert pinned.ok, pinned.error
    assert (pinned.status, pinned.body) == (200, b"behind")


def test_another_leaf_is_refused_before_the_request_is_sent(tls_server):
    server, pin, _bundle = tls_server
    other = "0" * 64
    before = len(server.received)
    resp = P.fetch_pinned(URL, IP, leaf_sha256=other, timeout=3)
    assert resp.error_kind == P.TLS and resp.status is None
    assert "certificate pin mismatch" in resp.error and pin in resp.error and other in resp.error
    assert NAME in resp.error and IP in resp.error
    # The server saw the handshake and then nothing: no request line, no Host, no cookie left the client.
    for _n in range(30):
        if len(server.received) > before:
            break
        threading.Event().wait(0.1)
    assert server.received[before:] == [b""]


def test_site_fetch_pins_only_the_rejected_host_and_address_on_port_443(tls_server):
    _server, pin, bundle = tls_server
    site = site_mod.from_vars({"launch_domain": NAME, "launch_ca_bundle": bundle, "launch_timeout": 3})
    assert P.site_fetch(site, URL, IP).error_kind == P.TLS  # no pins: verified as ever
    pinned = site_mod.from_vars({"launch_domain": NAME, "launch_ca_bundle": bundle, "launch_timeout": 3})
    pinned.tls_pins = {(NAME, IP): pin}
    assert P.site_fetch(pinned, URL, IP).status == 200
    assert P.site_fetch(pinned, "https://PIN.test./", IP).status == 200
    assert P.pin_for(pinned, URL, IP) == pin
    assert P.pin_for(pinned, "http://%s/" % NAME, IP) is None
    assert P.pin_for(pinned, "https://%s:8443/" % NAME, IP) is None
    assert P.pin_for(pinned, URL, "127.0.11.21") is None
    assert P.pin_for(pinned, "https://other.test/", IP) is None


def test_pins_are_normalised_and_garbage_is_refused():
    digest = "AB" * 32
    assert tls_pin.normal_pin("sha256:" + ":".join(["AB"] * 32)) == digest.lower()
    assert tls_pin.mismatch(digest, b"x") and tls_pin.mismatch(tls_pin.leaf_sha256(b"x"), b"x") == ""
    assert "presented no certificate" in tls_pin.mismatch(digest, None, NAME, IP)
    for bad in ("", "abc", "g" * 64, None):
        with pytest.raises(ValueError, match="SHA-256"):
            tls_pin.normal_pin(bad)


def _cert_valid(target: str, status: str, evidence: dict) -> F.Finding:
    return F.Finding(check="tls.cert_valid", status=status, impact=F.BLOCKER, stage="audit", target=target,
                     summary="certificate of %s" % target, evidence=evidence)


def test_pins_come_from_the_addresses_tls_cert_valid_rejected():
    one = "1" * 64
    two = "2" * 64
    three = "3" * 64
    found = [
        _cert_valid("shop.test", F.FAIL, {"address": "127.0.11.30", "leaf_sha256": one}),
        # Two addresses, one of them fine: only the rejected one is pinned.
        _cert_valid("www.shop.test", F.FAIL, {"address": "127.0.11.31", "leaf_sha256": two,
                                              "addresses": {"127.0.11.31": F.FAIL, "127.0.11.32": F.PASS},
                                              "leaf_sha256_by_address": {"127.0.11.31": two, "127.0.11.32": three}}),
        _cert_valid("api.shop.test", F.PASS, {"address": "127.0.11.33", "leaf_sha256": three}),
        _cert_valid("down.shop.test", F.FAIL, {}),  # no handshake: nothing to pin
    ]
    assert PB.pins(found) == {("shop.test", "127.0.11.30"): one, ("www.shop.test", "127.0.11.31"): two}


def test_nothing_runs_again_without_a_rejected_certificate():
    found = [_cert_valid("shop.test", F.PASS, {"address": "127.0.11.30", "leaf_sha256": "1" * 64})]
    assert PB.rejudge(site_mod.from_vars({"launch_domain": "shop.test"}), found) == found
