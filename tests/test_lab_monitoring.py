"""The lab's monitoring stack (issue #9): `lab up` starts Prometheus, the blackbox exporter, Alertmanager
and the alert sinks, configured by launchready.ops.monitoring; the demo's status page renders; stopping
the shop brings the SiteDown alert to both sinks with its owner; `lab down` stops them by PID file.

A second lab on 127.0.14.x (tests/support/lab.second_lab_vars) with its own lab_dir, stopped at the end;
the shared lab's processes must be the same before and after.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

import yaml

from tests.support import ansible_run
from tests.support import lab as lab_support
from tests.test_lab_private_dir import _running_from, _stop_by_pid_files

PREFIX = "127.0.14"
MONITORING = ("prometheus", "alertmanager", "blackbox", "webhook_sink", "smtp_sink")


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return ansible_run.playbook("-i", "inventories/lab", *args, timeout=timeout)


def _alert_in_sinks(lab_dir: str, title: str) -> dict:
    """{"email": subject, "slack": text} of the first notification titled TITLE each sink holds."""
    got = {}
    for path in glob.glob(os.path.join(lab_dir, "sinks", "mail", "new", "*")):
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if title in text:
            got["email"] = text
            break
    try:
        with open(os.path.join(lab_dir, "sinks", "hooks.jsonl"), encoding="utf-8") as fh:
            for line in fh:
                for att in (json.loads(line).get("body") or {}).get("attachments", []):
                    if att.get("title", "").startswith(title):
                        got.setdefault("slack", att.get("text", ""))
    except OSError:
        pass
    return got


def test_lab_runs_the_monitoring_stack_and_an_outage_reaches_the_sinks():
    shared_before = lab_support.pids()
    base = tempfile.mkdtemp(prefix="h13-lab-monitoring-")
    lab_dir = os.path.join(base, "lab")
    plan = os.path.join(base, "lab-vars.yml")
    with open(plan, "w", encoding="utf-8") as fh:
        yaml.safe_dump(dict(lab_support.second_lab_vars(PREFIX), lab_dir=lab_dir), fh)
    down = None
    try:
        up = _run("playbooks/lab.yml", "-e", "lab_state=up", "-e", "@" + plan, timeout=400)
        assert up.returncode == 0, up.stdout[-6000:]
        for name in MONITORING:
            assert os.path.exists(os.path.join(lab_dir, "run", name + ".pid")), name

        # make demo's step: the monitoring playbook (reload over HTTP, the status page, logs.request_id).
        mon = _run("launchready.ops.monitoring", "-e", "@" + plan)
        assert mon.returncode == 0, mon.stdout[-6000:]
        assert "pass: X-Request-ID" in mon.stdout, mon.stdout[-3000:]
        page = os.path.join(base, "reports", "shop.test", "status.html")
        with open(page, encoding="utf-8") as fh:
            html = fh.read()
        assert "<svg" in html and "shop.test" in html

        # The outage: the shop's processes stop under the lab's supervisor.
        outage = time.time()
        subprocess.run(["/usr/bin/python3", "/usr/bin/supervisorctl", "-c",
                        os.path.join(lab_dir, "supervisor", "supervisord.conf"), "stop", "shop:*"],
                       check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 90
        got = {}
        while time.monotonic() < deadline and len(got) < 2:
            time.sleep(1)
            got = _alert_in_sinks(lab_dir, "[FIRING] SiteDown")
        # The floor: down for 10 s (alert_for) after a probe every 5 s, then group_wait 5 s.
        print("SiteDown reached both sinks %.1f s after the shop stopped" % (time.time() - outage))
        assert set(got) == {"email", "slack"}, (got, time.time() - outage)
        assert "shop-ops" in got["email"] and "shop-ops" in got["slack"]
    finally:
        down = _run("playbooks/lab.yml", "-e", "lab_state=down", "-e", "@" + plan, timeout=180)
        left_by_down = _running_from(lab_dir)  # before the safety net below stops any of them
        _stop_by_pid_files(lab_dir)
        shutil.rmtree(base, ignore_errors=True)
    assert down.returncode == 0, down.stdout[-4000:]
    assert left_by_down == [], left_by_down
    assert lab_support.pids() == shared_before, "the shared lab was disturbed"
