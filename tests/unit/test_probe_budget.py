"""The controller-wide probe budget and the polite fetch layer, against real sockets on 127.0.6.x.

- Slots are flock'ed files: a slot held by another process (a fork) is not handed out
  again, and is free again the moment its holder dies.
- polite_fetch waits out 429/503 (Retry-After or backoff) and never hands one back as the
  page; a site that keeps limiting ends as error_kind rate_limited with the counts; a
  timeout is retried once.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from ansible_collections.launchready.ops.plugins.module_utils import probe_budget, site
from tests.support import http_server

ADDRESS = "127.0.6.200"


@pytest.fixture()
def slot_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(probe_budget.RUNTIME_DIR_ENV, str(tmp_path / "slots"))
    return tmp_path / "slots"


def _hold(directory: str, ready) -> None:
    os.environ[probe_budget.RUNTIME_DIR_ENV] = directory
    budget = probe_budget.get(probe_budget.Limits(max_connections=8, max_per_address=1, browser_slots=1))
    with budget.connection(ADDRESS):
        ready.set()
        time.sleep(30)  # killed by the test long before


def test_a_slot_held_by_another_process_is_not_handed_out(slot_dir):
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(slot_dir), ready))
    holder.start()
    try:
        assert ready.wait(10)
        budget = probe_budget.get(probe_budget.Limits(max_connections=8, max_per_address=1, browser_slots=1))
        assert budget.directory == str(slot_dir)
        got = []
        waiter = threading.Thread(target=lambda: got.append(budget.acquire("conn-%s" % ADDRESS, 1)))
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive() and not got, "the only slot of the address is held by the other process"
        holder.kill()  # a fork that dies frees its slots: the kernel drops the flock
        waiter.join(5)
        assert got and got[0] is not None
        budget.release(got[0])
    finally:
        if holder.is_alive():
            holder.kill()
        holder.join(5)


def test_the_slot_directory_must_be_private(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv(probe_budget.RUNTIME_DIR_ENV, str(shared))
    assert probe_budget.runtime_dir() != str(shared)


def test_budget_knobs_are_validated_with_the_variable_named():
    for name in ("launch_max_connections", "launch_max_connections_per_address", "launch_browser_slots"):
        for bad in (0, -1, "many"):
            with pytest.raises(site.SiteError, match=name):
                site.from_vars({"launch_domain": "a.test", name: bad})
    s = site.from_vars({"launch_domain": "a.test"})
    assert (s.max_connections, s.max_connections_per_address, s.browser_slots) == (24, 6, 2)


class _Script:
    """An HTTP server answering from a script: a list of (status, headers) per request, then 200."""

    def __init__(self, answers: list, hang_first: bool = False) -> None:
        self.answers = list(answers)
        self.times: list = []
        self.hang_first = hang_first
        script = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server names
                script.times.append(time.monotonic())
                if script.hang_first and len(script.times) == 1:
                    time.sleep(3)
                    return
                status, headers = script.answers.pop(0) if script.answers else (200, {})
                body = b"<p>page</p>" if status == 200 else b"slow down"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815 - http.server names

        self.server = http_server.BackgroundServer(ADDRESS, 0, Handler, "script")
        self.url = "http://polite.test:%d/" % self.server.port

    def stop(self):
        self.server.stop()


def _site(timeout: float = 2.0):
    return site.from_vars({"launch_domain": "polite.test", "launch_timeout": timeout})


def test_429_is_waited_out_and_never_handed_back_as_the_page(slot_dir):
    server = _Script([(429, {"Retry-After": "1"}), (503, {})])
    try:
        resp = P.polite_fetch(_site(), server.url, ADDRESS)
    finally:
        server.stop()
    assert resp.ok and resp.status == 200 and resp.body == b"<p>page</p>"
    assert len(server.times) == 3
    assert server.times[1] - server.times[0] >= 0.9, "Retry-After: 1 was honoured"


def test_a_site_that_keeps_limiting_is_an_error_with_the_counts(slot_dir):
    server = _Script([(429, {})] * 10)
    started = time.monotonic()
    try:
        resp = P.polite_fetch(_site(), server.url, ADDRESS)
    finally:
        server.stop()
    assert not resp.ok and resp.error_kind == P.LIMITED
    assert "rate limited by the site" in resp.error and "429 x" in resp.error
    assert time.monotonic() - started <= P.limit_budget(_site()) + 3
    # A POST (the burst's kind of request) is never retried: the 429 is its answer.
    server = _Script([(429, {})])
    try:
        post = P.polite_fetch(_site(), server.url, ADDRESS, method="POST")
    finally:
        server.stop()
    assert post.ok and post.status == 429


def test_a_timeout_is_retried_once(slot_dir):
    server = _Script([], hang_first=True)
    try:
        resp = P.polite_fetch(_site(timeout=1.0), server.url, ADDRESS)
    finally:
        server.stop()
    assert resp.ok and resp.status == 200 and len(server.times) == 2


def test_waiting_for_a_slot_is_not_charged_to_the_probe(slot_dir):
    """The only slot of the address is busy for 1.5 s; a probe with a 1 s timeout still succeeds."""
    server = _Script([])
    s = site.from_vars({"launch_domain": "polite.test", "launch_timeout": 1.0,
                        "launch_max_connections_per_address": 1})
    budget = probe_budget.for_site(s)
    token = budget.acquire("conn-%s" % ADDRESS, 1)
    threading.Timer(1.5, budget.release, args=(token,)).start()
    try:
        started = time.monotonic()
        resp = P.budgeted_fetch(s, server.url, ADDRESS)
    finally:
        server.stop()
    assert time.monotonic() - started >= 1.4
    assert resp.ok and resp.status == 200 and resp.elapsed_ms < 1000
