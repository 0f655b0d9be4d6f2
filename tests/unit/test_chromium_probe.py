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
