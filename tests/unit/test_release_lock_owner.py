"""Lock takeover needs proof, not a host name: machine-id, boot and process start time (issue #12 item 9).

Real processes and real lock directories: the holder is a `sleep` started here, killed or
left running; "another machine" is a lock whose owner.json names this host but another
machine-id, as two CI runners cloned from one image write.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from ansible_collections.launchready.ops.plugins.action import release as action
from ansible_collections.launchready.ops.plugins.module_utils import release as R


@pytest.fixture
def root(tmp_path) -> R.Root:
    return R.Root(str(tmp_path / "app"))


@pytest.fixture
def holder_process():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def take(root: R.Root, pid: int, **identity) -> dict:
    owner = {"owner": "ci@%s" % socket.gethostname(), "controller": socket.gethostname()}
    owner.update(R.process_identity(pid))
    owner.update(identity)
    root.lock(owner, ttl=600)
    return root.lock_holder()


def me() -> dict:
    return R.process_identity(os.getpid())


def test_the_controller_records_machine_id_boot_and_start_time():
    owner = action.controller_owner("app1")
    assert owner["pid"] == os.getppid()
    assert owner["machine_id"] and owner["boot_id"]
    assert isinstance(owner["pid_start"], int) and owner["pid_start"] == R.process_start(os.getppid())
    with open("/proc/self/stat") as fh:
        assert R.process_start(os.getpid()) == int(fh.read().rsplit(")", 1)[1].split()[19])


def test_a_live_holder_on_this_machine_keeps_its_lock(root, holder_process):
    holder = take(root, holder_process.pid)
    assert holder["machine_id"] == me()["machine_id"]
    assert R.holder_gone(holder, me()) is False


def test_a_dead_holder_on_this_machine_is_gone(root, holder_process):
    holder = take(root, holder_process.pid)
    holder_process.kill()
    holder_process.wait()
    time.sleep(0.05)
    assert R.holder_gone(holder, me()) is True


def test_a_reused_pid_with_another_start_time_is_gone(root, holder_process):
    # The lock's pid runs, but it is not the process that took the lock (started at another tick).
    holder = take(root, holder_process.pid, pid_start=R.process_start(holder_process.pid) - 100)
    assert R.pid_alive(holder_process.pid)
    assert R.holder_gone(holder, me()) is True


def test_same_host_name_other_machine_never_broken(root, holder_process):
    """The other runner's deploy process is alive over there; here its pid does not run."""
    holder = take(root, holder_process.pid, machine_id="0" * 32)
    holder_process.kill()
    holder_process.wait()
    assert holder["controller"] == socket.gethostname()
    assert R.holder_gone(holder, me()) is False


def test_another_boot_of_this_machine_is_gone(root, holder_process):
    holder = take(root, holder_process.pid, boot_id="00000000-0000-0000-0000-000000000000")
    assert R.holder_gone(holder, me()) is True


def test_an_old_lock_without_these_fields_is_readable_and_never_taken_over(root):
    os.makedirs(root.lock_path)
    with open(os.path.join(root.lock_path, "owner.json"), "w") as fh:
        json.dump({"owner": "alice@%s" % socket.gethostname(), "controller": socket.gethostname(), "pid": 999999999,
                   "ref": "v1", "ttl": 600, "since": R.utcnow(), "since_epoch": time.time(), "token": "t0"}, fh)
    holder = root.lock_holder()
    assert holder["owner"].startswith("alice@") and holder["stale"] is False
    assert "deploying v1" in R.describe_holder(holder)
    assert R.holder_gone(holder, me()) is False


def test_the_machine_id_fallback_is_generated_once(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "MACHINE_ID_FILES", (str(tmp_path / "no-such-file"),))
    fallback = str(tmp_path / "state" / "machine-id")
    first = R.machine_id(fallback)
    assert first and len(first) == 32
    assert R.machine_id(fallback) == first
    assert oct(os.stat(fallback).st_mode & 0o777) == "0o600"


def test_the_lock_and_ledger_are_private(root):
    root.ensure_layout()
    root.lock({"owner": "me"}, ttl=60)
    root.append(R.ledger_entry("r1", R.PENDING))
    for path in (root.private_dir, root.lock_path, os.path.join(root.lock_path, "owner.json"), root.ledger_path):
        assert os.stat(path).st_mode & 0o077 == 0, path
