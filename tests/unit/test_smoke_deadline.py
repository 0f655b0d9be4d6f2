"""The deploy's health gate (smoke.request, smoke.run) ends within its deadline (issue #12 item 8).

A trickling server (tests/support/tcp_faults.py: a status line or a TLS record header, then
one byte every 0.2 s) beats any per-read timeout; the gate, which holds the deploy lock while
the new release is live, must give up after ``launch_timeout`` all the same.
Addresses: plain http trickle on 127.0.4.20:80, TLS trickle on 127.0.4.21:443, a real answer
on 127.0.4.22 (a free port).
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import smoke
from tests.support import http_server, tcp_faults

TIMEOUT = 1.0
SLACK = 0.6


def _bounded(fn, *args, **kwargs):
    """(result or None, seconds): ``fn`` in a thread, abandoned after TIMEOUT + 5 s (the server's
    stop then unblocks it), so a gate without a total deadline fails this test rather than hanging it."""
    pool = concurrent.futures.ThreadPoolExecutor(1)
    started = time.monotonic()
    try:
        future = pool.submit(fn, *args, **kwargs)
        try:
            return future.result(timeout=TIMEOUT + 5), time.monotonic() - started
        except concurrent.futures.TimeoutError:
            return None, time.monotonic() - started
    finally:
        pool.shutdown(wait=False)


@pytest.mark.parametrize("url, address, port, mode", [
    ("http://gate.h4.test/healthz", "127.0.4.20", 80, "trickle"),
    ("https://gate.h4.test/healthz", "127.0.4.21", 443, "tls_trickle"),
])
def test_a_trickling_server_ends_the_request_at_the_deadline(url, address, port, mode):
    with tcp_faults.FaultServer(address, [port], mode):
        got, took = _bounded(smoke.request, url, address, timeout=TIMEOUT)
    assert got is not None, "the health gate was still reading after %.0f s (timeout %.0f s)" % (took, TIMEOUT)
    assert took < TIMEOUT + SLACK
    assert got["error"].startswith("timeout: no complete answer within 1.0 s"), got


def test_the_gate_with_retries_ends_within_its_deadlines():
    site_vars = {"launch_domain": "gate.h4.test", "launch_routes": {"health": "/healthz"}, "launch_timeout": TIMEOUT}
    with tcp_faults.FaultServer("127.0.4.20", [80], "trickle"):
        out, took = _bounded(smoke.run, site_vars, checks=[{"route": "health", "method": "GET", "status": [200]}],
                             base_url="http://127.0.4.20", retries=2, delay=0.1)
    assert out is not None, "the health gate was still running after %.0f s" % took
    assert took < 2 * TIMEOUT + 0.1 + 2 * SLACK
    assert not out["ok"] and "timeout" in out["failures"][0]


def test_a_post_carries_its_json_body_and_the_gate_headers():
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - stdlib name
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            seen["headers"] = dict(self.headers)
            answer = b'{"reply": "ok"}'
            self.send_response(201)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http_server.BackgroundServer("127.0.4.22", 0, Handler, "h4-gate")
    try:
        got = smoke.request("http://shop.h4.test:%d/checkout" % server.port, "127.0.4.22", method="POST",
                            body={"sku": "tea"}, timeout=TIMEOUT)
    finally:
        server.stop()
    assert got["error"] is None and got["status"] == 201 and got["body"] == '{"reply": "ok"}'
    assert json.loads(seen["body"]) == {"sku": "tea"}
    assert seen["headers"]["Host"] == "shop.h4.test:%d" % server.port
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["User-Agent"] == smoke.USER_AGENT
