"""Issue #13: the lab from a clone in a private (0700) directory, and its preflight; issue #9: the
lab's monitoring stack in that same second lab (one bring-up serves both, to keep make test short).

The second lab runs beside the shared one on 127.0.1.x (tests/support/lab.second_lab_vars) and
is stopped by its PID files at the end; the shared lab's processes must be the same before
and after.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest
import yaml

from tests.support import ansible_run, home_check
from tests.support import lab as lab_support

ROOT = ansible_run.ROOT
PREFIX = "127.0.1"
MONITORING = ("prometheus", "alertmanager", "blackbox", "webhook_sink", "smtp_sink")


def _env_for(checkout: str) -> dict:
    """ansible_run.env(), but with the collection and the config of CHECKOUT."""
    collections = os.path.join(checkout, "build", "collections")
    return dict(ansible_run.env(), ANSIBLE_COLLECTIONS_PATH=collections, PYTHONPATH=collections,
                ANSIBLE_CONFIG=os.path.join(checkout, "ansible.cfg"),
                ANSIBLE_HOME=os.path.join(checkout, "build", "ansible-home"))


def _playbook(checkout: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["ansible-playbook", "-i", "inventories/lab", *args], cwd=checkout, env=_env_for(checkout),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                          timeout=timeout, check=False)


def _write_vars(path: str, plan: dict) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(plan, fh)
    return path


def _stop_by_pid_files(lab_dir: str) -> None:
    """Whatever a failed down left running: TERM, then KILL, each PID named in lab_dir/run."""
    run_dir = os.path.join(lab_dir, "run")
    pids = []
    for name in os.listdir(run_dir) if os.path.isdir(run_dir) else []:
        try:
            with open(os.path.join(run_dir, name), encoding="ascii") as fh:
                pids.append(int(fh.read().strip()))
        except (OSError, ValueError):
            continue
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in [p for p in pids if lab_support.alive(p)]:
            os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while any(lab_support.alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)


def _running_from(lab_dir: str) -> list[str]:
    """Command lines of processes that mention LAB_DIR (what a lab there started)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if lab_dir in cmd and lab_support.alive(int(pid)):
            found.append(cmd)
    return found


def _alert_in_sinks(lab_dir: str, title: str) -> dict:
    """{"email": message, "slack": text} of the first notification titled TITLE each sink holds."""
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


@pytest.fixture
def private_dir():
    path = tempfile.mkdtemp(prefix="launchready-private-")  # mode 0700, as a home directory
    os.chmod(path, 0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _clone(private_dir: str) -> str:
    """A git clone of this tree's HEAD inside PRIVATE_DIR, set up as `make setup` would (no pip)."""
    checkout = os.path.join(private_dir, "launchready")
    subprocess.run(["git", "clone", "-q", ROOT, checkout], check=True, timeout=120, capture_output=True)
    venv = os.path.join(ROOT, ".venv")
    os.symlink(os.path.realpath(venv) if os.path.isdir(venv) else sys.prefix, os.path.join(checkout, ".venv"))
    link = os.path.join(checkout, "build", "collections", "ansible_collections", "launchready", "ops")
    os.makedirs(os.path.dirname(link))
    os.symlink(checkout, link)
    return checkout


def test_lab_audit_and_monitoring_from_a_clone_in_a_private_directory(private_dir):
    assert stat.S_IMODE(os.stat(private_dir).st_mode) == 0o700
    shared_before = lab_support.pids()
    checkout = _clone(private_dir)
    lab_dir = os.path.join(checkout, ".lab")
    plan = _write_vars(os.path.join(private_dir, "lab-vars.yml"), lab_support.second_lab_vars(PREFIX))
    reports = os.path.join(private_dir, "reports")
    try:
        up = _playbook(checkout, "playbooks/lab.yml", "-e", "lab_state=up", "-e", "@" + plan)
        assert up.returncode == 0, up.stdout[-6000:]

        # Up again: every port is held by this lab's own services, which the preflight accepts.
        again = _playbook(checkout, "playbooks/lab.yml", "-e", "lab_state=up", "-e", "@" + plan)
        assert again.returncode == 0, again.stdout[-6000:]
        assert ansible_run.recap(again.stdout)["lab-controller"]["changed"] == 0, again.stdout[-4000:]

        audit = _playbook(checkout, "launchready.ops.audit", "-e", "@" + plan, "-e", "launch_report_dir=" + reports)
        assert audit.returncode == 0, audit.stdout[-6000:]
        assert "launch verdict" in audit.stdout
        with open(os.path.join(reports, "shop.test", "report.json"), encoding="utf-8") as fh:
            report = json.load(fh)
        bad = [(f["check"], f["target"], f["summary"]) for f in report["findings"]
               if f["status"] in ("fail", "error") and f["impact"] in ("blocker", "high")]
        assert not bad, "the clone's lab must pass the audit: %s" % bad
        # The edge really served from its cache directory (the failure of issue #13).
        with open(os.path.join(lab_dir, "log", "nginx-error.log"), encoding="utf-8") as fh:
            assert "Permission denied" not in fh.read()

        # Issue #9 in the same lab: the monitoring stack runs, make demo's monitoring step renders the
        # status page, and stopping the shop brings SiteDown to both sinks with its owner.
        for name in MONITORING:
            assert os.path.exists(os.path.join(lab_dir, "run", name + ".pid")), name
        mon = _playbook(checkout, "launchready.ops.monitoring", "-e", "@" + plan)
        assert mon.returncode == 0, mon.stdout[-6000:]
        assert "pass: X-Request-ID" in mon.stdout, mon.stdout[-3000:]
        # group_vars/monitoring.yml: the status page sits beside the lab's reports.
        with open(os.path.join(checkout, "reports", "shop.test", "status.html"), encoding="utf-8") as fh:
            page = fh.read()
        assert "<svg" in page and "shop.test" in page
        outage = time.time()
        subprocess.run(["/usr/bin/python3", "/usr/bin/supervisorctl", "-c",
                        os.path.join(lab_dir, "supervisor", "supervisord.conf"), "stop", "shop:*"],
                       check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 90
        got: dict = {}
        while time.monotonic() < deadline and len(got) < 2:
            time.sleep(1)
            got = _alert_in_sinks(lab_dir, "[FIRING] SiteDown")
        # The floor: down for 10 s (alert_for) after a probe every 5 s, then group_wait 5 s.
        print("SiteDown reached both sinks %.1f s after the shop stopped" % (time.time() - outage))
        assert set(got) == {"email", "slack"}, (got, time.time() - outage)
        assert "shop-ops" in got["email"] and "shop-ops" in got["slack"]
    finally:
        down = _playbook(checkout, "playbooks/lab.yml", "-e", "lab_state=down", "-e", "@" + plan, timeout=180)
        _stop_by_pid_files(lab_dir)
    assert down.returncode == 0, down.stdout[-4000:]
    assert _running_from(lab_dir) == []
    assert lab_support.pids() == shared_before, "the shared lab was disturbed"


def test_a_taken_port_stops_lab_up_before_anything_starts(tmp_path):
    lab_dir = str(tmp_path / "lab")
    plan = dict(lab_support.second_lab_vars(PREFIX), lab_edge_address=PREFIX + ".110", lab_edge_https_port=8443)
    extra = _write_vars(str(tmp_path / "vars.yml"), plan)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((PREFIX + ".110", 8443))
        squatter.listen()
        start = time.monotonic()
        run = ansible_run.playbook("-i", "inventories/lab", "playbooks/lab.yml", "-e", "lab_state=up",
                                   "-e", "@" + extra, "-e", json.dumps({"lab_dir": lab_dir}), timeout=120)
        seconds = time.monotonic() - start
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-4000:]
    assert "%s.110:8443 (nginx, tcp) is in use by " % PREFIX in out, out[-4000:]
    assert "LAB_VARS" in out  # the fix is named
    assert seconds < 30, "lab up took %.1f s to refuse" % seconds
    assert not os.path.exists(lab_dir), "the preflight must come before anything is created"
    assert _running_from(lab_dir) == []


def test_a_worker_user_that_cannot_reach_the_lab_stops_lab_up(private_dir):
    if os.geteuid() != 0:
        pytest.skip("only a lab run as root hands nginx's workers to another user")
    lab_dir = os.path.join(private_dir, "lab")
    extra = _write_vars(os.path.join(private_dir, "vars.yml"), lab_support.second_lab_vars(PREFIX))
    run = ansible_run.playbook("-i", "inventories/lab", "playbooks/lab.yml", "-e", "lab_state=up", "-e", "@" + extra,
                               "-e", json.dumps({"lab_dir": lab_dir, "lab_nginx_user": "nobody nogroup"}), timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-4000:]
    assert "The nginx workers (user nobody) cannot use %s/nginx" % lab_dir in out, out[-4000:]
    assert "blocked at %s (mode 0700" % private_dir in out
    assert not os.path.exists(os.path.join(lab_dir, "run", "knot.pid"))
    assert _running_from(lab_dir) == []


def test_home_check_names_everything_but_the_caches(tmp_path):
    home = tmp_path / "home"
    (home / ".ansible" / "test" / "venv").mkdir(parents=True)
    (home / ".cache" / "pip" / "http").mkdir(parents=True)
    assert home_check.leftovers(str(home)) == []
    copy = home / ".ansible" / "collections" / "ansible_collections" / "launchready" / "ops"
    copy.mkdir(parents=True)
    (home / ".bash_history").write_text("")
    assert home_check.leftovers(str(home)) == [".ansible/collections", ".bash_history"]
    home_check.reset(str(home))
    assert home_check.leftovers(str(home)) == [] and (home / ".cache" / "pip" / "http").is_dir()


def test_the_tools_write_into_ansible_home_not_home(tmp_path):
    """The test helpers and the Makefile send what Ansible installs to build/ansible-home."""
    env = ansible_run.env()
    assert env["ANSIBLE_HOME"] == os.path.join(ROOT, "build", "ansible-home")
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as fh:
        assert "export ANSIBLE_HOME := $(CURDIR)/build/ansible-home" in fh.read()
    home = tmp_path / "home"
    home.mkdir()
    run = subprocess.run(["ansible-config", "dump", "--only-changed", "-t", "all"], cwd=ROOT, check=False,
                         env=dict(env, HOME=str(home)), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert os.path.join(ROOT, "build", "ansible-home") in run.stdout
    assert home_check.leftovers(str(home)) == []
