"""http_probe.fetch and follow against real nginx, Knot and misbehaving TCP servers.

Addresses: nginx 127.0.0.122 (one server name per certificate case), garbage
127.0.0.127:80, trickle 127.0.0.128:80, nothing on 127.0.0.129, the shared fault
addresses 127.0.0.205 (silent) and 127.0.0.206 (reset), Knot on 127.0.0.70.
"""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, site
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from tests.support import http_lab
from tests.support.http_lab import server
from tests.support.knot import zone

IP = "127.0.0.122"
BIG = 600 * 1024


@pytest.fixture(scope="module")
def lab():
    stack = http_lab.Stack("http-probe-")
    try:
        good = stack.cert("good", ["good.probe.test", "www.good.probe.test"])
        expired = stack.cert("expired", ["expired.probe.test"], expired=True)
        selfsigned = stack.cert("selfsigned", ["selfsigned.probe.test"], self_signed=True)
        leaf_only = stack.cert("leafonly", ["leafonly.probe.test"], chain=False)
        big = stack.file("big.bin", b"x" * BIG)
        servers = [
            server(IP + ":80", ["good.probe.test", "www.good.probe.test"],
                   "location = /content { return 200 'plain content'; }",
                   "location / { return 301 https://$host$request_uri; }", default=True),
            server(IP + ":443", ["good.probe.test"], http_lab.HSTS_GOOD,
                   'add_header Set-Cookie "a=1; Path=/; Secure" always;',
                   'add_header Set-Cookie "b=2; Path=/; Secure; HttpOnly" always;',
                   "location = /big { alias %s; default_type application/octet-stream; }" % big,
                   "location = /redir { return 302 /target?x=1; }",
                   "location = /to-www { return 301 https://www.good.probe.test/; }",
                   "location = /loop-a { return 301 /loop-b; }",
                   "location = /loop-b { return 301 /loop-a; }",
                   "location = /far { return 301 https://nowhere.good.probe.test/; }",
                   "location / { return 200 'hello'; }",
                   tls=good, default=True),
            server(IP + ":443", ["www.good.probe.test"], "return 200 'www';", tls=good),
            server(IP + ":443", ["expired.probe.test"], "return 200 'x';", tls=expired),
            server(IP + ":443", ["selfsigned.probe.test"], "return 200 'x';", tls=selfsigned),
            server(IP + ":443", ["leafonly.probe.test"], "return 200 'x';", tls=leaf_only),
        ]
        stack.nginx(servers, [(IP, 80), (IP, 443)])
        stack.knot("127.0.0.70", {"probe.test": zone("probe.test", """
good A 127.0.0.122
www.good A 127.0.0.122
""")})
        stack.fault("127.0.0.127", [80], "garbage")
        stack.fault("127.0.0.128", [80], "trickle")
        stack.fault("127.0.0.205", [80, 443], "silent")
        stack.fault("127.0.0.206", [80, 443], "reset")
        yield stack
    finally:
        stack.stop()


def get(lab, url, address=IP, **kw):
    kw.setdefault("timeout", 2)
    return P.fetch(url, address, ca_bundle=lab.ca_bundle, **kw)


def test_https_response_keeps_repeated_headers_and_tls_version(lab):
    r = get(lab, "https://good.probe.test/")
    assert r.ok and r.status == 200 and r.body == b"hello"
    assert r.tls_version in ("TLSv1.2", "TLSv1.3")
    cookies = r.header_all("set-cookie")
    assert [c.split(";")[0] for c in cookies] == ["a=1", "b=2"]
    assert r.header("strict-transport-security").startswith("max-age=63072000")
    assert r.location is None and not r.is_redirect and r.elapsed_ms > 0


def test_sni_and_host_pick_the_server_for_the_name(lab):
    assert get(lab, "https://www.good.probe.test/").body == b"www"


def test_location_is_resolved_against_the_url_and_not_followed(lab):
    r = get(lab, "https://good.probe.test/redir")
    assert r.status == 302 and r.is_redirect
    assert r.location == "https://good.probe.test/target?x=1"
    http_r = get(lab, "http://good.probe.test/some/path?q=1")
    assert http_r.status == 301 and http_r.location == "https://good.probe.test/some/path?q=1"
    assert http_r.tls_version is None


def test_body_is_truncated_at_max_body(lab):
    r = get(lab, "https://good.probe.test/big", max_body=1024)
    assert r.ok and len(r.body) == 1024 and r.body_truncated
    full = get(lab, "https://good.probe.test/big")
    assert len(full.body) == P.MAX_BODY and full.body_truncated


def test_head_has_no_body(lab):
    r = get(lab, "https://good.probe.test/", method="HEAD")
    assert r.ok and r.status == 200 and r.body == b""


@pytest.mark.parametrize("name, words", [
    ("expired.probe.test", "certificate has expired"),
    ("selfsigned.probe.test", "self-signed certificate"),
    ("other.probe.test", "Hostname mismatch"),
    ("leafonly.probe.test", "unable to get local issuer certificate"),
])
def test_certificate_problems_are_classified_with_openssl_words(lab, name, words):
    r = get(lab, "https://%s/" % name)
    assert r.error_kind == P.TLS and r.status is None
    assert words in r.error and words in r.tls_verify_message


def test_verify_false_reads_a_bad_certificate_anyway(lab):
    r = get(lab, "https://expired.probe.test/", verify=False)
    assert r.ok and r.status == 200


def test_untrusted_without_the_bundle(lab):
    r = P.fetch("https://good.probe.test/", IP, ca_bundle=None, timeout=2)
    assert r.error_kind == P.TLS and "unable to get local issuer certificate" in r.error


def test_refused(lab):
    r = get(lab, "http://good.probe.test/", address="127.0.0.129")
    assert r.error_kind == P.REFUSED and r.error == "connection refused"


@pytest.mark.parametrize("url", ["http://hang.probe.test/", "https://hang.probe.test/"])
def test_silent_server_times_out_within_the_deadline(lab, url):
    started = time.monotonic()
    r = get(lab, url, address="127.0.0.205", timeout=1)
    assert r.error_kind == P.TIMEOUT and "1.0 s" in r.error
    assert 0.9 < time.monotonic() - started < 1.5


def test_trickling_server_is_cut_at_the_total_deadline(lab):
    started = time.monotonic()
    r = get(lab, "http://slow.probe.test/", address="127.0.0.128", timeout=1)
    assert r.error_kind == P.TIMEOUT
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("url", ["http://reset.probe.test/", "https://reset.probe.test/"])
def test_reset(lab, url):
    r = get(lab, url, address="127.0.0.206", timeout=1)
    assert r.error_kind == P.RESET, r.error


def test_garbage_is_a_protocol_error(lab):
    r = get(lab, "http://garbage.probe.test/", address="127.0.0.127")
    assert r.error_kind == P.PROTOCOL and "BadStatusLine" in r.error


def test_tls_to_a_plain_http_port_is_a_tls_error(lab):
    r = get(lab, "https://good.probe.test:80/")
    assert r.error_kind == P.TLS


def test_not_a_url():
    r = P.fetch("ftp://x.test/", "127.0.0.1", ca_bundle=None, timeout=1)
    assert r.error_kind == P.PROTOCOL


def test_ipv6_address_and_host_header():
    seen = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib name
            seen["host"] = self.headers["Host"]
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"v6")

        def log_message(self, *args):
            pass

    class V6Server(http.server.HTTPServer):
        address_family = __import__("socket").AF_INET6

    srv = V6Server(("::1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        port = srv.server_address[1]
        r = P.fetch("http://v6.probe.test:%d/" % port, "::1", ca_bundle=None, timeout=2)
        assert r.ok and r.body == b"v6"
        assert seen["host"] == "v6.probe.test:%d" % port
    finally:
        srv.shutdown()
        srv.server_close()
        th.join(2)


# --- follow --------------------------------------------------------------------------------------

def _site(lab, **extra):
    return site.from_vars(dict({"launch_domain": "good.probe.test", "launch_resolvers": ["127.0.0.70"],
                                "launch_ca_bundle": lab.ca_bundle, "launch_timeout": 2}, **extra))


def test_follow_records_every_hop(lab):
    probes = check_registry.Probes()
    chain = P.follow(_site(lab), probes, "http://good.probe.test/to-www")
    assert chain.outcome == P.FINAL
    assert [(h.url, h.status) for h in chain.hops] == [
        ("http://good.probe.test/to-www", 301),
        ("https://good.probe.test/to-www", 301),
        ("https://www.good.probe.test/", 200),
    ]
    assert all(h.address == IP for h in chain.hops)
    assert chain.redirects == 2 and chain.final.response.body == b"www"
    assert chain.to_dict()["hops"][0]["location"] == "https://good.probe.test/to-www"
    # memoized: the same run asks once
    assert P.follow(_site(lab), probes, "http://good.probe.test/to-www") is chain


def test_follow_detects_a_loop(lab):
    chain = P.follow(_site(lab), check_registry.Probes(), "https://good.probe.test/loop-a")
    assert chain.outcome == P.LOOP and "redirects back to https://good.probe.test/loop-a" in chain.detail
    assert len(chain.hops) == 2


def test_follow_reports_a_host_that_does_not_resolve(lab):
    chain = P.follow(_site(lab), check_registry.Probes(), "https://good.probe.test/far")
    assert chain.outcome == P.FAILED
    last = chain.hops[-1]
    assert last.error_kind == P.DNS and last.address is None
    assert "nowhere.good.probe.test does not resolve" in last.error and "nxdomain" in last.error


def test_variants_probe_every_address(lab):
    s = _site(lab, launch_hosts=["good.probe.test"])
    v = P.variants(s, check_registry.Probes())
    assert set(v) == {("http", "good.probe.test"), ("https", "good.probe.test")}
    assert [c.address for c in v[("https", "good.probe.test")]] == [IP]
