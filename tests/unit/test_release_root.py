"""The on-host release logic (module_utils/release.py) on temporary directories."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import release as R


def make_release(root: R.Root, name: str, commit: str = "c" * 40, state: str | None = R.LIVE,
                 complete: bool = True, switch: bool = False) -> str:
    root.ensure_layout()
    os.makedirs(root.release_path(name))
    with open(os.path.join(root.release_path(name), "app.py"), "w") as fh:
        fh.write("# %s\n" % name)
    root.append(R.ledger_entry(name, R.PENDING, commit=commit, ref="main", started=R.utcnow()))
    if complete:
        R.write_revision(root, name, commit, "main")
    if switch:
        old = root.live()
        root.switch(name)
        if old:
            root.append(R.ledger_entry(old, R.GOOD))
    if state and state != R.PENDING:
        root.append(R.ledger_entry(name, state))
    return name


@pytest.fixture
def root(tmp_path) -> R.Root:
    return R.Root(str(tmp_path / "app"))


def test_root_must_be_absolute():
    with pytest.raises(R.ReleaseError, match="absolute"):
        R.Root("relative/path")


def test_release_names_are_checked(root):
    for bad in ("", "../x", "a/b", ".hidden", "x" * 200):
        with pytest.raises(R.ReleaseError):
            root.release_path(bad)
    assert R.new_name("0123456789abcdef", now=0) == "19700101T000000Z-0123456789ab"


def test_ledger_appends_json_lines_and_skips_a_torn_line(root):
    root.ensure_layout()
    root.append(R.ledger_entry("r1", R.PENDING, commit="a" * 40))
    with open(root.ledger_path, "a") as fh:
        fh.write('{"release": "r2", "sta')  # a crash mid-write
        fh.write("\n")
    root.append(R.ledger_entry("r1", R.LIVE))
    entries = root.ledger()
    assert [e["state"] for e in entries] == [R.PENDING, R.LIVE]
    with open(root.ledger_path) as fh:
        assert all(json.loads(line) for line in fh.read().splitlines()[::2])


def test_switch_is_atomic_and_never_leaves_current_missing(root):
    make_release(root, "r1")
    make_release(root, "r2")
    root.switch("r1")
    seen = set()
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                seen.add(os.readlink(root.current))
            except FileNotFoundError:
                seen.add("MISSING")

    thread = threading.Thread(target=reader)
    thread.start()
    for _round in range(300):
        root.switch("r2")
        root.switch("r1")
    stop.set()
    thread.join()
    assert "MISSING" not in seen
    assert seen <= {"releases/r1", "releases/r2"}
    assert not [n for n in os.listdir(root.path) if n.startswith(".current.tmp")]


def test_switch_refuses_an_incomplete_release_and_is_a_noop_when_already_live(root):
    make_release(root, "r1")
    make_release(root, "r2", complete=False, state=None)
    assert root.switch("r1") is True
    assert root.switch("r1") is False
    with pytest.raises(R.ReleaseError, match="not complete"):
        root.switch("r2")
    assert root.live() == "r1"


def test_states_follow_the_ledger_and_current_wins(root):
    make_release(root, "r1", switch=True)
    make_release(root, "r2", switch=True)
    make_release(root, "r3", state=R.FAILED)
    states = {r["release"]: r["state"] for r in root.releases()}
    assert states == {"r1": R.GOOD, "r2": R.LIVE, "r3": R.FAILED}
    # A switch whose ledger line never got written: current decides what is live.
    root.switch("r1")
    states = {r["release"]: r["state"] for r in root.releases()}
    assert states["r1"] == R.LIVE and states["r2"] == R.GOOD


def test_previous_good_skips_failed_rolled_back_and_incomplete(root):
    make_release(root, "r1", switch=True)
    make_release(root, "r2", switch=True)
    make_release(root, "r3", switch=True)
    root.append(R.ledger_entry("r2", R.ROLLED_BACK))
    make_release(root, "r4", state=R.FAILED)
    make_release(root, "r5", complete=False, state=None)
    assert root.live() == "r3"
    assert root.previous_good() == "r1"


def test_find_by_name_commit_and_ref(root):
    make_release(root, "r1", commit="a" * 40, switch=True)
    make_release(root, "r2", commit="b" * 40, switch=True)
    assert root.find("r1")["release"] == "r1"
    assert root.find("bbbbbbb")["release"] == "r2"
    assert root.find("main")["release"] == "r2"  # the newest deployed from that ref
    assert root.find("nope") is None


def test_lock_is_exclusive_names_its_holder_and_expires(root):
    taken = root.lock({"owner": "alice@ctl", "pid": 123, "controller": "ctl", "ref": "v1"}, ttl=60)
    with pytest.raises(R.LockHeld) as held:
        root.lock({"owner": "bob@ctl"}, ttl=60)
    assert "alice@ctl" in str(held.value) and "deploying v1" in str(held.value)
    assert held.value.stale is False
    with pytest.raises(R.ReleaseError, match="someone else"):
        root.unlock("wrong-token")
    assert root.unlock(taken["token"]) is True
    assert root.lock_holder() is None


def test_a_stale_lock_is_reported_and_cleared_only_with_force(root):
    root.lock({"owner": "alice@ctl"}, ttl=1)
    owner_file = os.path.join(root.lock_path, "owner.json")
    data = json.load(open(owner_file))
    data["since_epoch"] -= 10
    json.dump(data, open(owner_file, "w"))
    with pytest.raises(R.LockHeld) as held:
        root.lock({"owner": "bob@ctl"}, ttl=60)
    assert held.value.stale and "STALE" in str(held.value) and "release_force_unlock" in str(held.value)
    taken = root.lock({"owner": "bob@ctl"}, ttl=60, force=True)
    assert taken["cleared"]["owner"] == "alice@ctl"
    assert root.lock_holder()["owner"] == "bob@ctl"


def test_break_token_clears_only_the_lock_it_names(root):
    first = root.lock({"owner": "dead@ctl"}, ttl=600)
    with pytest.raises(R.LockHeld):
        root.lock({"owner": "bob@ctl"}, ttl=600, break_token="not-the-token")
    taken = root.lock({"owner": "bob@ctl"}, ttl=600, break_token=first["token"])
    assert taken["cleared"]["owner"] == "dead@ctl"


def test_a_lock_without_owner_file_ages_from_its_directory(root):
    os.makedirs(root.lock_path)
    holder = root.lock_holder()
    assert holder["owner"].startswith("unknown") and holder["stale"] is True


def test_concurrent_lockers_get_exactly_one_lock(root):
    root.ensure_layout()
    results = []

    def take(n):
        try:
            root.lock({"owner": "w%d" % n}, ttl=60)
            results.append(n)
        except R.LockHeld:
            pass

    threads = [threading.Thread(target=take, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 1


def test_cleanup_keeps_live_previous_good_and_never_counts_failed(root):
    for n in range(1, 6):
        make_release(root, "r%d" % n, switch=True)
    make_release(root, "r6", state=R.FAILED)
    make_release(root, "r7", complete=False, state=None)
    # keep=2: r4 (previous good) and r5 (live) stay; failed r6 and unfinished r7 are newer: kept for inspection.
    assert root.cleanup_plan(2) == ["r1", "r2", "r3"]
    for name in root.cleanup_plan(2):
        root.remove_release(name)
    assert root.on_disk() == ["r4", "r5", "r6", "r7"]
    # After a rollback to r4, r5 is "rolled back": it no longer counts, r4 is live, r3 is gone.
    root.switch("r4")
    root.append(R.ledger_entry("r5", R.ROLLED_BACK))
    assert root.previous_good() is None
    assert "r4" not in root.cleanup_plan(1)


def test_cleanup_never_deletes_the_live_release(root):
    make_release(root, "r1", switch=True)
    with pytest.raises(R.ReleaseError, match="live"):
        root.remove_release("r1")
    assert root.cleanup_plan(1) == []


def test_cleanup_only_touches_release_shaped_names(root):
    make_release(root, "r1", switch=True)
    os.makedirs(os.path.join(root.releases_dir, "not a release!"))
    os.makedirs(os.path.join(root.releases_dir, ".staging-x-999999999"))
    assert "not a release!" not in root.on_disk()
    assert root.sweep() == [".staging-x-999999999"]
    assert os.path.isdir(os.path.join(root.releases_dir, "not a release!"))


def test_shared_paths_are_linked_into_the_release(root):
    make_release(root, "r1")
    os.makedirs(os.path.join(root.release_path("r1"), "uploads"))
    changed = root.link_shared("r1", [".env"], ["uploads"])
    assert changed == [".env", "uploads"]
    assert os.readlink(os.path.join(root.release_path("r1"), "uploads")) == os.path.join(root.shared_dir, "uploads")
    assert root.link_shared("r1", [".env"], ["uploads"]) == []
    with pytest.raises(R.ReleaseError):
        root.link_shared("r1", ["../escape"], [])


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=30)


def test_git_resolve_cache_and_export(tmp_path, root):
    src = tmp_path / "src"
    src.mkdir()
    _git(src, "init", "-q", "-b", "main")
    (src / "app.py").write_text("v1\n")
    _git(src, "add", "-A")
    _git(src, "commit", "-q", "-m", "v1")
    _git(src, "tag", "v1")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, check=True).stdout.strip()
    assert R.resolve_remote(str(src), "main") == head
    assert R.resolve_remote(str(src), "v1") == head
    assert R.resolve_remote(str(src), "nope") is None
    root.ensure_layout()
    R.update_cache(root, str(src))
    assert R.resolve_cached(root, "v1") == head and R.has_commit(root, head)
    with pytest.raises(R.ReleaseError, match="not a branch"):
        R.resolve_cached(root, "nope")
    R.export(root, head, root.release_path("x1"))
    assert (open(os.path.join(root.release_path("x1"), "app.py")).read()) == "v1\n"
    (src / "app.py").write_text("v2\n")
    _git(src, "commit", "-qam", "v2")
    R.update_cache(root, str(src))
    assert R.resolve_cached(root, "main") != head


def test_write_atomic_replaces_whole_files(tmp_path):
    path = str(tmp_path / "f.json")
    R.write_atomic(path, "one\n")
    R.write_atomic(path, "two\n", mode=0o600)
    assert open(path).read() == "two\n" and oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert os.listdir(tmp_path) == ["f.json"]


def test_pid_alive():
    assert R.pid_alive(os.getpid())
    proc = subprocess.Popen(["true"])
    proc.wait()
    time.sleep(0.05)
    assert not R.pid_alive(proc.pid)
