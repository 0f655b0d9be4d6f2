"""Issue 14 items 1 and 5: probes that never disturb each other, and a fleet that never starves itself.

- A site whose edge rate-limits EVERY method on /login (limit_req 5 r/s, burst 10, nodelay)
  and sets an insecure session cookie there (nginx on 127.0.6.100): the full audit reports
  http.cookies fail and no cache.* finding other than pass, five runs in a row.
- 20 healthy lab-like sites (nginx on 127.0.6.1-20, Knot on 127.0.6.53) in one inventory at
  forks 20: zero error findings, twice in a row, and nothing left in the system temp dir.
- A full audit where Chromium is killed at its budget leaves nothing in the temp dir either.
"""

from __future__ import annotations

import json
import os
import pwd
import sys
import tempfile

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import audit, checks_content, chromium_probe
from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod
from tests.support import ansible_run, fleet_lab

needs_chromium = pytest.mark.skipif(
    checks_content.browser_path(site_mod.from_vars({"launch_domain": "a.test"}))[0] is None,
    reason="Chromium is not installed (scripts/system-packages.sh installs it)")


@pytest.fixture(scope="module")
def limited_stack():
    stack = fleet_lab.start({"rl.fleet.test": "127.0.6.100"}, knot="127.0.6.54", limited=True)
    try:
        yield stack
    finally:
        fleet_lab.stop(stack)


@pytest.fixture(scope="module")
def fleet_stack():
    stack = fleet_lab.start(fleet_lab.addresses("127.0.6", 20), knot="127.0.6.53")
    try:
        yield stack
    finally:
        fleet_lab.stop(stack)


def test_a_login_limited_for_every_method_does_not_disturb_the_other_checks(limited_stack):
    for run in range(5):
        found = audit.run(fleet_lab.site_vars(limited_stack, "rl.fleet.test"))
        cookies = [f for f in found if f.check == "http.cookies" and f.target == "rl.fleet.test"]
        assert [f.status for f in cookies] == ["fail"], (run, [f.summary for f in cookies])
        assert "session" in cookies[0].summary and "/login" in cookies[0].summary
        cache = [(f.check, f.target, f.status, f.summary) for f in found
                 if f.check.startswith("cache.") and f.status != "pass"]
        assert not cache, (run, cache)
        # The burst ran after the others and still found the limit.
        rate = [f for f in found if f.check == "edge.rate_limit" and f.target.endswith("/login")]
        assert [f.status for f in rate] == ["pass"], (run, [f.summary for f in rate])


def _new_temp_entries(before: set, directory: str) -> list:
    return sorted(set(os.listdir(directory)) - before)


def _chromium_leftovers() -> set:
    """org.chromium.* entries in /tmp owned by the user our browser runs as (other sessions' are not ours)."""
    user, _note = chromium_probe.run_as()
    uid = user.pw_uid if user is not None else os.geteuid()
    out = set()
    for name in os.listdir("/tmp"):
        if name.startswith("org.chromium."):
            try:
                if os.lstat(os.path.join("/tmp", name)).st_uid == uid:
                    out.add(name)
            except OSError:
                pass
    return out


@pytest.fixture()
def private_tmpdir(monkeypatch):
    """A fresh system temp dir for this test's process and the playbooks it starts."""
    path = tempfile.mkdtemp(prefix="h6-systemp-")
    os.chmod(path, 0o1777)  # like /tmp: the browser's unprivileged user works in it
    monkeypatch.setenv("TMPDIR", path)
    monkeypatch.setattr(tempfile, "tempdir", None)
    try:
        yield path
    finally:
        import shutil
        shutil.rmtree(path, ignore_errors=True)


def test_fleet_of_20_at_forks_20_has_no_error_twice(fleet_stack, private_tmpdir, tmp_path):
    inventory = fleet_lab.inventory(fleet_stack, str(tmp_path / "fleet.yml"), python=sys.executable)
    chromium_before, temp_before = _chromium_leftovers(), set(os.listdir(private_tmpdir))
    for run in range(2):
        reports = tmp_path / ("reports%d" % run)
        proc = ansible_run.playbook("-i", inventory, "-f", "20", "launchready.ops.audit",
                                    "-e", "launch_report_dir=%s" % reports, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        errors, families = [], set()
        for apex in fleet_stack.sites:
            report = json.loads((reports / apex / "report.json").read_text())
            families |= {f["check"].split(".")[0] for f in report["findings"]}
            errors += [(apex, f["check"], f["target"], f["summary"]) for f in report["findings"]
                       if f["status"] == "error"]
        assert not errors, "run %d: %d errors, e.g. %s" % (run, len(errors), errors[:5])
        assert {"dns", "http", "tls", "email", "edge", "cache", "content"} <= families
    assert _new_temp_entries(temp_before, private_tmpdir) == []
    assert _chromium_leftovers() - chromium_before == set()


@needs_chromium
def test_chromium_killed_at_its_budget_leaves_nothing_in_the_temp_dir(fleet_stack, private_tmpdir):
    chromium_before = _chromium_leftovers()
    found = audit.run(fleet_lab.site_vars(fleet_stack, "s01.fleet.test", launch_browser_timeout=0.3),
                      checks=["content."])
    mixed = [f for f in found if f.check == "content.mixed"]
    assert mixed and all(f.status == "error" and "did not finish loading" in f.summary for f in mixed)
    full = audit.run(fleet_lab.site_vars(fleet_stack, "s02.fleet.test"))
    page = [f for f in full if f.check == "content.mixed"]
    assert page and all(f.status == "pass" and f.evidence["method"] == "chromium" for f in page)
    # The sandbox stays on: root hands the browser to an unprivileged user.
    if os.geteuid() == 0 and chromium_probe.run_as()[0] is not None:
        assert {f.evidence["browser_user"] for f in page} == {pwd.getpwuid(chromium_probe.run_as()[0].pw_uid).pw_name}
    assert _new_temp_entries(set(), private_tmpdir) == []
    assert _chromium_leftovers() - chromium_before == set()
