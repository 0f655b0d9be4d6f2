"""content.mixed with headless Chromium and with the HTML/CSS parse fallback, against nginx variants.

Variants (tests/support/edge_lab.py): good (no mixed content), mixed (an http:// script in the
homepage's markup), dynmixed (a script adds an http:// script at run time: only a browser sees it).
"""

from __future__ import annotations

import os
import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, chromium_probe, edge_probe, site
from ansible_collections.launchready.ops.plugins.module_utils import checks_content as C
from tests.support import edge_lab

needs_chromium = pytest.mark.skipif(C.browser_path(site.from_vars({"launch_domain": "a.test"}))[0] is None,
                                    reason="Chromium is not installed (scripts/system-packages.sh installs it)")


def run(stack, apex, **extra):
    found = check_registry.run(site.from_vars(edge_lab.site_vars(stack, apex, **extra)),
                               check_registry.select(ids=["content.mixed"]))
    return {f.target: f for f in found}


def test_catalog_impact():
    assert (C.MIXED.impact, C.MIXED.stage) == ("medium", "edge")


@needs_chromium
def test_healthy_pages_pass_in_chromium(edge_stack):
    found = run(edge_stack, "good.edge.test")
    assert set(found) == {"https://good.edge.test/", "https://good.edge.test/login", "https://good.edge.test/checkout"}
    for f in found.values():
        assert f.status == "pass", f.summary
        assert f.evidence["method"] == "chromium" and "[headless Chromium]" in f.summary
        assert f.evidence["resources"] == []


@needs_chromium
def test_http_script_on_the_homepage_fails_in_chromium(edge_stack):
    f = run(edge_stack, "mixed.edge.test")["https://mixed.edge.test/"]
    assert f.status == "fail" and f.impact == "medium"
    assert f.evidence["method"] == "chromium"
    assert f.evidence["resources"] == [{"url": "http://cdn.mixed.edge.test/analytics.js", "kind": "script",
                                        "outcome": "blocked", "page": "https://mixed.edge.test/"}]
    assert "http://cdn.mixed.edge.test/analytics.js (script, blocked)" in f.summary


def test_parse_fallback_finds_the_http_script_and_says_so(edge_stack):
    f = run(edge_stack, "mixed.edge.test", launch_browser="none")["https://mixed.edge.test/"]
    assert f.status == "fail"
    assert f.evidence["method"] == "parse" and f.evidence["fallback_reason"] == "launch_browser is none"
    assert "[HTML/CSS parse (launch_browser is none)]" in f.summary
    assert [r["url"] for r in f.evidence["resources"]] == ["http://cdn.mixed.edge.test/analytics.js"]


def test_parse_fallback_when_the_browser_is_missing(edge_stack):
    f = run(edge_stack, "good.edge.test", launch_browser="/nonexistent/chromium")["https://good.edge.test/"]
    assert f.status == "pass" and f.evidence["method"] == "parse"
    assert "not an executable file" in f.evidence["fallback_reason"]


@needs_chromium
def test_only_the_browser_sees_what_scripts_add(edge_stack):
    browser = run(edge_stack, "dynmixed.edge.test")["https://dynmixed.edge.test/"]
    parsed = run(edge_stack, "dynmixed.edge.test", launch_browser="none")["https://dynmixed.edge.test/"]
    assert browser.status == "fail" and "http://cdn.dynmixed.edge.test/widget.js" in browser.summary
    assert parsed.status == "pass" and parsed.evidence["method"] == "parse"


@pytest.fixture()
def open_dir():
    """A directory the browser's unprivileged user (nobody, when the tests run as root) can reach."""
    import pathlib
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="content-test-")
    os.chmod(path, 0o777)
    try:
        yield pathlib.Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_a_browser_that_hangs_is_killed_within_its_budget(open_dir):
    tmp_path = open_dir
    marker = tmp_path / "pids"
    marker.write_text("")
    marker.chmod(0o666)
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho $$ > %s\nsleep 60 &\necho $! >> %s\nwait\n" % (marker, marker))
    fake.chmod(0o755)
    started = time.monotonic()
    result = chromium_probe.load_page(str(fake), "https://a.test/", "MAP a.test 127.0.0.1", [], budget=1.0)
    assert time.monotonic() - started < 5
    assert "did not finish loading https://a.test/ within 1 s" in result["error"]
    pids = [int(p) for p in marker.read_text().split()]
    deadline = time.monotonic() + 3
    while any(os.path.exists("/proc/%d" % p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if os.path.exists("/proc/%d" % p)], "the browser and its children are gone"


def test_parse_reads_every_kind_of_subresource():
    html = b"""<html><head><base href="https://a.test/sub/">
    <link rel="stylesheet" href="http://a.test/x.css"><link rel="icon" href="//a.test/i.ico">
    <script src="js/app.js"></script><style>body{background:url('http://img.test/bg.png')}
    @import "http://a.test/more.css";</style></head><body>
    <img src="http://a.test/p.png" srcset="http://a.test/p2.png 2x, /ok.png 1x">
    <iframe src="http://video.test/embed"></iframe><form action="http://a.test/pay"></form>
    <div style="background-image:url(http://a.test/d.png)"></div><a href="http://a.test/link">x</a>
    </body></html>"""
    refs = edge_probe.page_refs("https://a.test/", html)
    insecure = sorted(url for _kind, url in refs if url.startswith("http://"))
    assert insecure == ["http://a.test/d.png", "http://a.test/more.css", "http://a.test/p.png", "http://a.test/p2.png",
                        "http://a.test/pay", "http://a.test/x.css", "http://img.test/bg.png",
                        "http://video.test/embed"]
    secure = {url for _kind, url in refs if url.startswith("https://")}
    assert {"https://a.test/i.ico", "https://a.test/sub/js/app.js", "https://a.test/ok.png"} <= secure


@needs_chromium
def test_chromium_leaves_no_profile_behind(edge_stack, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    run(edge_stack, "good.edge.test", launch_routes={"homepage": "/"})
    assert [p for p in os.listdir(tmp_path) if p.startswith("launchready-chromium-")] == []


@needs_chromium
def test_one_browser_keeps_each_pages_reports_apart(edge_stack):
    """The site's pages share one browser and one tab: a clean page after a mixed one reports nothing."""
    rules, pins = [], []
    for apex in ("mixed.edge.test", "good.edge.test"):
        site_rules, site_pins, problem = C._browser_setup(site.from_vars(edge_lab.site_vars(edge_stack, apex)),
                                                          check_registry.Probes())
        assert not problem
        rules.append(site_rules.replace(", MAP * ~NOTFOUND", ""))
        pins += site_pins
    # mixed.edge.test's homepage loads an http:// script; its other pages and good.edge.test's are clean.
    urls = ["https://mixed.edge.test/", "https://good.edge.test/", "https://mixed.edge.test/",
            "https://mixed.edge.test/login"]
    binary = C.browser_path(site.from_vars({"launch_domain": "a.test"}))[0]
    results = chromium_probe.load_pages(binary, urls, ", ".join(rules + ["MAP * ~NOTFOUND"]), pins, 20)
    assert [r["error"] for r in results] == ["", "", "", ""]
    assert [[res["url"] for res in r["resources"]] for r in results] == [
        ["http://cdn.mixed.edge.test/analytics.js"], [], ["http://cdn.mixed.edge.test/analytics.js"], []]
    assert all(res["page"] == url for url, r in zip(urls, results, strict=True) for res in r["resources"])
