"""The Cloudflare API client keeps its token to itself (issue #12 item 11).

Against the local v4 stand-in (tests/support/cloudflare_api.py, https with its own TestCA)
on 127.0.4.32, a recording server on 127.0.4.30 (where an http:// API URL or a proxy from
the environment would send the token) and an https server on 127.0.4.33 answering an HTML
error page that reflects the request.
"""

from __future__ import annotations

import os
import ssl
from http.server import BaseHTTPRequestHandler

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_api as C
from tests.support import http_server, pki
from tests.support.cloudflare_api import CloudflareAPI

TOKEN = "cf-h4-token-5e6d7c8b9a"
RECORDER_IP = "127.0.4.30"
API_IP = "127.0.4.32"
PAGE_IP = "127.0.4.33"


class _Recorder:
    """Counts connections; answers anything (GET, CONNECT...) with a 200 page naming the request."""

    def __init__(self) -> None:
        self.connections = 0
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self):
                rec.connections += 1
                super().setup()

            def _any(self):
                body = b"recorded"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_CONNECT = _any

            def log_message(self, *args):
                pass

        self.server = http_server.BackgroundServer(RECORDER_IP, 0, Handler, "h4-cf-recorder")
        self.port = self.server.port


@pytest.fixture()
def recorder():
    rec = _Recorder()
    try:
        yield rec
    finally:
        rec.server.stop()


@pytest.fixture(scope="module")
def api():
    server = CloudflareAPI(tokens=[TOKEN], address=API_IP).start()
    server.add_zone("shop.test")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def clean_env(monkeypatch):
    """No CA, proxy or netrc settings but the ones a test sets (the sandbox sets some globally)."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY",
                 "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy",
                 "NETRC"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_an_http_api_url_is_refused_before_any_connection(recorder):
    url = "http://%s:%d/client/v4" % (RECORDER_IP, recorder.port)
    with pytest.raises(C.CloudflareError, match=r"api_url must be an https:// URL .*in clear") as caught:
        C.CloudflareClient(TOKEN, url).zone_id("shop.test")
    assert url in str(caught.value) and TOKEN not in str(caught.value)
    assert recorder.connections == 0


def test_api_url_credentials_are_not_repeated_in_the_message():
    with pytest.raises(C.CloudflareError) as caught:
        C.CloudflareClient(TOKEN, "http://user:hunter2@api.example/client/v4?key=abc")
    assert "hunter2" not in str(caught.value) and "key=abc" not in str(caught.value)


def test_proxy_and_netrc_from_the_environment_are_ignored(api, recorder, clean_env, tmp_path):
    proxy = "http://%s:%d" % (RECORDER_IP, recorder.port)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        clean_env.setenv(name, proxy)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine %s login someone password netrc-secret\n" % API_IP)
    os.chmod(netrc, 0o600)
    clean_env.setenv("NETRC", str(netrc))
    client = C.CloudflareClient(TOKEN, api.url, verify=api.ca_file, timeout=5)
    zone_id = client.zone_id("shop.test")
    assert recorder.connections == 0, "the call went through the environment's proxy"
    assert zone_id == api.zone_id("shop.test")
    assert {r["authorization"] for r in api.requests} == {"Bearer %s" % TOKEN}, "netrc replaced the token"
    assert client.session.trust_env is False


def test_the_ca_comes_from_the_caller_or_openssls_store_never_the_environment(api, clean_env):
    # The environment names the stand-in's CA: a client that listened would trust it.
    clean_env.setenv("REQUESTS_CA_BUNDLE", api.ca_file)
    clean_env.setenv("SSL_CERT_FILE", api.ca_file)
    with pytest.raises(C.CloudflareError, match="TLS verification of https://%s" % API_IP):
        C.CloudflareClient(TOKEN, api.url, timeout=5).zone_id("shop.test")
    # The CA the caller names, alone or on top of the system store (the audit's launch_ca_bundle).
    assert C.CloudflareClient(TOKEN, api.url, verify=api.ca_file, timeout=5).zone_id("shop.test")
    assert C.CloudflareClient(TOKEN, api.url, extra_ca=api.ca_file, timeout=5).zone_id("shop.test")
    with pytest.raises(C.CloudflareError, match="cannot load the CA certificates"):
        C.CloudflareClient(TOKEN, api.url, verify="/nonexistent/ca.pem")


def test_a_non_json_error_page_is_summarised_not_echoed(tmp_path, clean_env):
    ca = pki.TestCA("h4 page")
    leaf = ca.issue([PAGE_IP])
    cert, key, root = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "root.pem"
    cert.write_bytes(leaf.pem + ca.intermediate_pem)
    key.write_bytes(leaf.key_pem)
    root.write_bytes(ca.root_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib name
            # A proxy's error page that reflects the request, token included.
            page = ("<html><body>upstream failed for %s with %s</body></html>"
                    % (self.path, self.headers.get("Authorization"))).encode()
            self.send_response(502, "Bad Gateway %s" % self.headers.get("Authorization"))
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http_server.BackgroundServer(PAGE_IP, 0, Handler, "h4-cf-page",
                                          lambda sock: context.wrap_socket(sock, server_side=True))
    try:
        url = "https://%s:%d/client/v4" % (PAGE_IP, server.port)
        with pytest.raises(C.CloudflareError) as caught:
            C.CloudflareClient(TOKEN, url, verify=str(root), timeout=5).zone_id("shop.test")
    finally:
        server.stop()
    message = str(caught.value)
    assert caught.value.status == 502
    assert "HTTP 502 Bad Gateway, a text/html body of" in message and "not the API's JSON" in message
    assert TOKEN not in message and "upstream failed" not in message and "<html>" not in message
