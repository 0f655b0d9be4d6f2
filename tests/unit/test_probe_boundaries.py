"""Where the audit's HTTP probe may go: redirects stay on the site, addresses per name are capped.

Issue #12 items 6 and 7 (the TLS checks share the address cap), against real servers on 127.0.4.0/24: a DNS server
(tests/support/spf_dns.py) on 127.0.4.53 serves the site's names; a redirecting
HTTP server on 127.0.4.10:80 sends the walk elsewhere; a recording server on
127.0.4.11 (a free port) counts every connection it gets, which must stay zero.
"""

from __future__ import annotations

import ipaddress
import ssl
from http.server import BaseHTTPRequestHandler

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import (
    check_registry,
    checks_cache,
    checks_tls,
    edge_probe,
    site,
    tls_probe,
)
from ansible_collections.launchready.ops.plugins.module_utils import checks_http as C
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from tests.support import http_server, pki
from tests.support.spf_dns import ZoneDataDNS

SITE_IP = "127.0.4.10"
RECORDER_IP = "127.0.4.11"
DNS_IP = "127.0.4.53"
MY_RANGE = ipaddress.ip_network("127.0.4.0/24")
BIG_NAME = "big.h4.test"
BIG_COUNT = 3000


class Recorder:
    """An HTTP server that counts every connection made to it."""

    def __init__(self, address: str) -> None:
        self.connections = 0
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self):
                recorder.connections += 1
                super().setup()

            def do_GET(self):  # noqa: N802 - stdlib name
                self.send_response(200)
                self.send_header("Content-Length", "8")
                self.end_headers()
                self.wfile.write(b"recorded")

            def log_message(self, *args):
                pass

        self.server = http_server.BackgroundServer(address, 0, Handler, "h4-recorder")
        self.port = self.server.port


def _redirector(routes: dict) -> http_server.BackgroundServer:
    """HTTP on SITE_IP:80: {(host, path): location} answer 302, anything else 200 "ok"."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib name
            host = (self.headers.get("Host") or "").split(":")[0]
            location = routes.get((host, self.path))
            body = b"" if location else b"ok"
            self.send_response(302 if location else 200)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return http_server.BackgroundServer(SITE_IP, 80, Handler, "h4-redirector")


def _big_records() -> list:
    # Sorted as text, the 127.0.4.x addresses come first: the probed ones stay in this test's range.
    inside = ["127.0.4.%d" % n for n in range(100, 200)]
    outside = ["127.44.%d.%d" % divmod(n, 250) for n in range(BIG_COUNT - len(inside))]
    return [{"A": a} for a in inside + outside]


@pytest.fixture(scope="module")
def stand():
    recorder = Recorder(RECORDER_IP)
    port = recorder.port
    routes = {
        ("h4.test", "/to-ip"): "http://%s:%d/" % (RECORDER_IP, port),
        ("h4.test", "/to-port"): "http://porty.h4.test:%d/stolen" % port,
        ("h4.test", "/to-name"): "http://elsewhere.example/",
        ("h4.test", "/to-www"): "http://www.h4.test/ok",
        ("ip.h4.test", "/"): "http://%s:%d/" % (RECORDER_IP, port),
    }
    redirector = _redirector(routes)
    dns = ZoneDataDNS(DNS_IP)
    dns.load({
        "h4.test": [{"A": SITE_IP}],
        "www.h4.test": [{"A": SITE_IP}],
        "ip.h4.test": [{"A": SITE_IP}],
        "porty.h4.test": [{"A": RECORDER_IP}],
        "elsewhere.example": [{"A": RECORDER_IP}],
        BIG_NAME: _big_records(),
    })
    dns.start()
    try:
        yield {"recorder": recorder, "port": port, "dns": dns}
    finally:
        dns.stop()
        redirector.stop()
        recorder.server.stop()


def _site(stand, **extra):
    variables = {"launch_domain": "h4.test", "launch_hosts": ["h4.test", "www.h4.test"],
                 "launch_resolvers": ["%s:%d" % (DNS_IP, stand["dns"].port)], "launch_timeout": 2}
    variables.update(extra)
    return site.from_vars(variables)


# --- item 6: redirects stay on the site -----------------------------------------------------------

@pytest.mark.parametrize("path, why", [
    ("/to-ip", "an IP address"),
    ("/to-port", "port"),
    ("/to-name", "elsewhere.example is not one of the site's names"),
])
def test_a_redirect_off_the_site_is_reported_and_never_fetched(stand, path, why):
    before = stand["recorder"].connections
    chain = P.follow(_site(stand), check_registry.Probes(), "http://h4.test" + path)
    assert stand["recorder"].connections == before, "the off-site target was fetched"
    assert chain.outcome == P.OFF_SITE and len(chain.hops) == 1
    target = chain.hops[0].location
    assert chain.off_site == target and chain.to_dict()["off_site"] == target
    assert target in chain.detail and why in chain.detail


def test_a_redirect_to_the_sites_own_names_is_followed(stand):
    chain = P.follow(_site(stand), check_registry.Probes(), "http://h4.test/to-www")
    assert chain.outcome == P.FINAL and chain.off_site is None
    assert [(h.url, h.status) for h in chain.hops] == [("http://h4.test/to-www", 302), ("http://www.h4.test/ok", 200)]


@pytest.mark.parametrize("url, on_site", [
    ("https://h4.test/x", True),
    ("http://www.h4.test/", True),
    ("https://deep.shop.h4.test/", True),   # a name under launch_domain
    ("https://H4.TEST./", True),
    ("https://canon.example/", True),       # the canonical host, even outside launch_domain
    ("https://h4.test:443/", True),
    ("https://h4.test:8443/", False),
    ("http://h4.test:443/", False),
    ("https://127.0.4.10/", False),
    ("https://[::1]/", False),
    ("https://notmyh4.test/", False),
    ("https://h4.test.evil.example/", False),
    ("ftp://h4.test/", False),
])
def test_off_site_names_and_ports(stand, url, on_site):
    s = _site(stand, launch_canonical_host="canon.example")
    assert (P.off_site(s, url) == "") is on_site, P.off_site(s, url)


def test_canonical_and_https_redirect_name_the_off_site_target(stand):
    before = stand["recorder"].connections
    target = "http://%s:%d/" % (RECORDER_IP, stand["port"])
    s = _site(stand, launch_hosts=["ip.h4.test"], launch_canonical_host="ip.h4.test")
    found = {f.check: f for f in check_registry.run(
        s, check_registry.select(ids=["http.canonical", "http.https_redirect", "http.redirect_loop"]))}
    assert stand["recorder"].connections == before
    canonical = found["http.canonical"]
    assert canonical.status == "fail"
    assert "redirects off the site to %s (not followed)" % target in canonical.summary
    assert any(r.get("chain", {}).get("off_site") == target for r in canonical.evidence["results"])
    redirect = found["http.https_redirect"]
    assert redirect.status == "fail" and "redirects off the site to %s" % target in redirect.summary
    assert "leaves the site" in repr(found["http.redirect_loop"].evidence)


# --- item 7: at most MAX_ADDRESSES_PER_NAME addresses per name ------------------------------------

def test_thousands_of_addresses_are_capped_and_the_excess_reported(stand, monkeypatch):
    fetched: list = []
    real_fetch = P.fetch

    def counting_fetch(url, address, **kw):
        fetched.append((url, address))
        if ipaddress.ip_address(address) not in MY_RANGE:  # never reach outside this test's range
            return P.Response(url=url, address=address, error_kind=P.REFUSED, error="connection refused")
        return real_fetch(url, address, **kw)

    monkeypatch.setattr(P, "fetch", counting_fetch)
    s = _site(stand, launch_hosts=[BIG_NAME], launch_canonical_host=BIG_NAME)
    probes = check_registry.Probes()
    variants = P.variants(s, probes)
    assert len(fetched) <= 32, "%d fetches for one name (http and https)" % len(fetched)
    assert all(ipaddress.ip_address(a) in MY_RANGE for _u, a in fetched)
    for scheme in ("http", "https"):
        per_url = [a for u, a in fetched if u == "%s://%s/" % (scheme, BIG_NAME)]
        assert 0 < len(per_url) <= 16 and len(set(per_url)) == len(per_url)
        chains = variants[(scheme, BIG_NAME)]
        assert len(chains) == 16
        assert all(c.to_dict()["addresses_skipped"] == BIG_COUNT - 16 for c in chains)

    addresses, problem = P.resolve_host(s, probes, BIG_NAME)
    assert not problem and len(addresses) == P.MAX_ADDRESSES_PER_NAME == 16
    assert P.skipped_addresses(s, probes, BIG_NAME) == BIG_COUNT - 16

    (finding,) = C.hosts_consistent(s, probes)
    assert "'addresses_skipped': %d" % (BIG_COUNT - 16) in repr(finding.evidence)


def test_tls_checks_handshake_with_at_most_16_addresses_per_name(stand, monkeypatch):
    handshakes: list = []
    real_handshake = tls_probe.handshake

    def counting_handshake(address, port, server_name, **kw):
        handshakes.append(address)
        if ipaddress.ip_address(address) not in MY_RANGE:  # never reach outside this test's range
            return tls_probe.TlsResult(address=address, port=port, server_name=server_name,
                                       verify=kw.get("verify", True), error=tls_probe.REFUSED, detail="refused")
        return real_handshake(address, port, server_name, **kw)

    monkeypatch.setattr(tls_probe, "handshake", counting_handshake)
    s = _site(stand, launch_hosts=[BIG_NAME], launch_canonical_host=BIG_NAME)
    (finding,) = check_registry.run(s, check_registry.select(ids=[checks_tls.CERT_VALID.id]))
    assert 0 < len(set(handshakes)) <= 16, "%d addresses handshaken with" % len(set(handshakes))
    assert all(ipaddress.ip_address(a) in MY_RANGE for a in handshakes)
    assert finding.evidence["addresses_skipped"] == BIG_COUNT - 16


def test_homepage_assets_on_another_port_are_not_fetched(stand, tmp_path):
    recorder = Recorder(SITE_IP)  # the site's own address, another port
    ca = pki.TestCA("h4 assets")
    leaf = ca.issue(["h4.test"])
    cert, key, root = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "root.pem"
    cert.write_bytes(leaf.pem + ca.intermediate_pem)
    key.write_bytes(leaf.key_pem)
    root.write_bytes(ca.root_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    page = ('<html><head><link rel="stylesheet" href="https://h4.test:%d/app.css">'
            '<script src="/app.js"></script></head><body>shop</body></html>' % recorder.port).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib name
            body, ctype = (page, "text/html") if self.path == "/" else (b"var x;", "application/javascript")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http_server.BackgroundServer(SITE_IP, 443, Handler, "h4-assets",
                                          lambda sock: context.wrap_socket(sock, server_side=True))
    try:
        s = _site(stand, launch_hosts=["h4.test"], launch_ca_bundle=str(root))
        probes = check_registry.Probes()
        urls, problem = edge_probe.static_assets(s, probes)
        assert not problem and urls == ["https://h4.test/app.js"]
        findings = checks_cache.static_assets(s, probes)
        assert findings and findings[0].status == "pass", findings[0].summary
        assert recorder.connections == 0, "an asset on another port was fetched"
    finally:
        server.stop()
        recorder.server.stop()
