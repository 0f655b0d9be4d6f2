"""Verify the release role's layout on the molecule instance."""

import json

BASE = "/tmp/launchready-molecule-release/app"


def test_current_points_at_a_complete_release(host):
    current = host.file(BASE + "/current")
    assert current.is_symlink
    target = current.linked_to
    assert target.startswith(BASE + "/releases/")
    revision = json.loads(host.file(target + "/REVISION").content_string)
    assert revision["ref"] == "main" and len(revision["commit"]) == 40
    assert host.file(target + "/app.py").contains("hello from the release")


def test_shared_dirs_are_linked(host):
    assert host.file(BASE + "/current/uploads").is_symlink
    assert host.file(BASE + "/current/uploads").linked_to == BASE + "/shared/uploads"


def test_the_ledger_says_live_and_finished(host):
    lines = [json.loads(x) for x in host.file(BASE + "/.launchready/releases.log").content_string.splitlines()]
    states = [entry["state"] for entry in lines]
    assert states[0] == "pending" and states[-1] == "live" and lines[-1].get("finished")
    assert len({entry["release"] for entry in lines}) == 1  # the idempotence run added nothing


def test_the_lock_is_released(host):
    assert not host.file(BASE + "/.launchready/deploy.lock").exists
