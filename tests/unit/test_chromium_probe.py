"""chromium_probe's sandbox handling (issue 12 item 13), with a stand-in browser that records how it was run.

Run by root, the browser runs as an unprivileged user (nobody) with the sandbox on; with no
such user it keeps --no-sandbox and says why; where no sandbox is usable it falls back to
--no-sandbox once and says so.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import chromium_probe


@pytest.fixture()
def open_dir(monkeypatch):
    monkeypatch.setattr(chromium_probe, "_SANDBOX_USABLE", {})
    path = tempfile.mkdtemp(prefix="chromium-probe-test-")
    os.chmod(path, 0o777)
    try:
        yield pathlib.Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _fake(directory: pathlib.Path, body: str) -> str:
    record = directory / "runs"
    record.write_text("")
    record.chmod(0o666)
    fake = directory / "chromium"
    fake.write_text("#!/bin/sh\necho \"$(id -u) $*\" >> %s\n%s\n" % (record, body))
    fake.chmod(0o755)
    return str(fake)


def _runs(directory: pathlib.Path) -> list:
    return [line.split(" ", 1) for line in (directory / "runs").read_text().splitlines()]


def test_the_sandbox_stays_on(open_dir):
    result = chromium_probe.load_page(_fake(open_dir, "exit 0"), "https://a.test/", "MAP a.test 127.0.0.1", [], 5)
    (uid, argv), = _runs(open_dir)
    assert "--no-sandbox" not in argv and result["sandbox"] is True and not result["sandbox_note"]
    if os.geteuid() == 0:
        assert int(uid) != 0 and result["user"] == "nobody", "root hands the browser to an unprivileged user"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root switches users")
def test_root_without_an_unprivileged_user_keeps_no_sandbox_and_says_so(open_dir, monkeypatch):
    monkeypatch.setattr(chromium_probe, "UNPRIVILEGED_USERS", ("no-such-user-h6",))
    result = chromium_probe.load_page(_fake(open_dir, "exit 0"), "https://a.test/", "MAP a.test 127.0.0.1", [], 5)
    (uid, argv), = _runs(open_dir)
    assert uid == "0" and "--no-sandbox" in argv
    assert result["sandbox"] is False and "no unprivileged user" in result["sandbox_note"]


def test_no_usable_sandbox_falls_back_once_and_says_so(open_dir):
    body = 'case "$*" in *--no-sandbox*) exit 0;; esac\necho "No usable sandbox!" >&2\nexit 1'
    fake = _fake(open_dir, body)
    result = chromium_probe.load_page(fake, "https://a.test/", "MAP a.test 127.0.0.1", [], 5)
    runs = _runs(open_dir)
    assert ["--no-sandbox" in argv for _uid, argv in runs] == [False, True]
    assert result["error"] == "" and result["sandbox"] is False and "no usable sandbox" in result["sandbox_note"]
    # Remembered: the next page does not try again.
    chromium_probe.load_page(fake, "https://a.test/", "MAP a.test 127.0.0.1", [], 5)
    assert "--no-sandbox" in _runs(open_dir)[-1][1] and len(_runs(open_dir)) == 3


# --- load_pages: every page of a site in one browser start (issue 14 bench) ---------------------------

def test_a_browser_that_never_answers_its_pipe_is_killed_at_each_pages_budget(open_dir):
    marker = open_dir / "pids"
    marker.write_text("")
    marker.chmod(0o666)
    fake = _fake(open_dir, "echo $$ >> %s\nsleep 60 &\necho $! >> %s\nwait" % (marker, marker))
    urls = ["https://a.test/", "https://a.test/login"]
    started = time.monotonic()
    results = chromium_probe.load_pages(fake, urls, "MAP a.test 127.0.0.1", [], 0.5)
    assert time.monotonic() - started < 5
    assert [r["error"] for r in results] == ["Chromium did not finish loading %s within 0 s" % url for url in urls]
    assert all("--remote-debugging-pipe" in argv.split() for _uid, argv in _runs(open_dir))
    pids = [int(p) for p in marker.read_text().split()]
    deadline = time.monotonic() + 3
    while any(os.path.exists("/proc/%d" % p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if os.path.exists("/proc/%d" % p)], "every browser and its children are gone"


def test_load_pages_falls_back_from_an_unusable_sandbox_once(open_dir):
    # Exits at once: without --no-sandbox with the sandbox complaint, with it as a browser that closed its pipe.
    body = 'case "$*" in *--no-sandbox*) exit 0;; esac\necho "No usable sandbox!" >&2\nexit 1'
    results = chromium_probe.load_pages(_fake(open_dir, body), ["https://a.test/"], "MAP a.test 127.0.0.1", [], 5)
    assert ["--no-sandbox" in argv for _uid, argv in _runs(open_dir)] == [False, True]
    (result,) = results
    assert result["sandbox"] is False and "no usable sandbox" in result["sandbox_note"]
    assert result["error"].startswith("Chromium exited with"), "a browser gone before the page is never a pass"


@pytest.mark.skipif(chromium_probe.browser_path("auto")[0] is None, reason="Chromium is not installed")
def test_one_browser_start_loads_every_page_and_removes_its_directory(open_dir, monkeypatch):
    # A short system temp dir of its own: Chromium's SingletonSocket path must fit a unix socket address.
    systemp = tempfile.mkdtemp(prefix="h16-", dir="/tmp")
    os.chmod(systemp, 0o1777)
    monkeypatch.setenv("TMPDIR", systemp)
    monkeypatch.setattr(tempfile, "tempdir", None)
    try:
        fake = _fake(open_dir, 'exec %s "$@"' % chromium_probe.browser_path("auto")[0])
        urls = ["data:text/html,<p>one", "data:text/html,<p>two", "data:text/html,<p>three"]
        results = chromium_probe.load_pages(fake, urls, "MAP * ~NOTFOUND", [], 20)
        assert [r["error"] for r in results] == ["", "", ""]
        assert len(_runs(open_dir)) == 1, "one browser start for the three pages"
        assert os.listdir(systemp) == [], "no profile, no org.chromium.* left behind"
    finally:
        shutil.rmtree(systemp, ignore_errors=True)
