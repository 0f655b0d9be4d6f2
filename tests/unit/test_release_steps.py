"""What each step of the release module needs is in its argument spec, not checked by hand (issue #14 item 6).

``required_if``/``required_by`` in MODULE_SPEC are judged by Ansible's own validator, the
one AnsibleModule and the action plugin run; the last test runs the real module (through its
action plugin) to show a step missing an option fails before anything is written on the host.
"""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.launchready.ops.plugins.modules import release as module
from tests.support import ansible_run


def errors(**params) -> list:
    spec = module.MODULE_SPEC
    validator = ArgumentSpecValidator(spec["argument_spec"], required_if=spec["required_if"],
                                      required_by=spec["required_by"])
    return validator.validate(dict(root="/srv/app", **params)).error_messages


@pytest.mark.parametrize("params,missing", [
    ({"action": "plan"}, "action is plan but any of the following are missing: repo, archive"),
    ({"action": "plan", "repo": "/src/shop.git"}, "missing parameter(s) required by 'repo': version"),
    ({"action": "plan", "archive": "/tmp/app.tar"}, "missing parameter(s) required by 'archive': commit"),
    ({"action": "prepare", "name": "r1"}, "action is prepare but all of the following are missing: commit"),
    ({"action": "finish"}, "action is finish but all of the following are missing: name"),
    ({"action": "mark", "name": "r1"}, "action is mark but all of the following are missing: state"),
])
def test_a_step_without_what_it_needs_is_refused(params, missing):
    assert missing in errors(**params)


@pytest.mark.parametrize("params", [
    {"action": "plan", "repo": "/src/shop.git", "version": "main"},
    {"action": "plan", "archive": "/tmp/app.tar", "commit": "archive-0123"},
    {"action": "prepare", "name": "r1", "commit": "a" * 40, "repo": "/src/shop.git", "version": "main"},
    {"action": "prepare", "name": "r1", "commit": "archive-0123", "archive": "/tmp/app.tar", "version": "app.tar"},
    {"action": "switch", "name": "r1", "commit": "a" * 40, "version": "main"},
    {"action": "switch", "reason": "rollback"},
    {"action": "finish", "name": "r1"},
    {"action": "mark", "name": "r1", "state": "failed"},
    {"action": "lock", "version": "main"},
    {"action": "unlock", "token": "t"},
    {"action": "cleanup"},
    {"action": "status"},
])
def test_the_roles_calls_pass(params):
    assert errors(**params) == []


def test_the_module_refuses_a_plan_without_a_version_before_writing(tmp_path):
    root = tmp_path / "app"
    playbook = tmp_path / "plan.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"launchready.ops.release": {"root": str(root), "action": "plan", "repo": str(tmp_path / "shop.git")}},
    ]}]))
    run = ansible_run.playbook("-i", "localhost,", "-c", "local", str(playbook), timeout=120)
    assert run.returncode != 0
    assert "missing parameter(s) required by 'repo': version" in run.stdout, run.stdout[-2000:]
    assert not os.path.exists(root)


def test_release_module_has_no_hand_written_step_checks():
    source = open(module.__file__, encoding="utf-8").read()
    assert "needs commit" not in source and "needs state" not in source and "needs repo and version" not in source
