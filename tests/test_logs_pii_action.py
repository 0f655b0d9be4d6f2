"""logs_pii without paths is decided on the controller (issue 14 bench: a module process per site for a skip).

The audit role runs logs_pii once per site even without launch_log_paths, for its skip
finding; the action plugin makes that finding itself instead of shipping the module.
"""

from __future__ import annotations

import sys

import yaml

from tests.support import ansible_run


def _playbook(tmp_path, task_args):
    play = [{"name": "logs", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "logs", "launchready.ops.logs_pii": task_args, "register": "logs"},
        {"name": "show", "ansible.builtin.debug": {"msg": "{{ logs.findings | to_json }}"}}]}]
    path = tmp_path / "logs.yml"
    path.write_text(yaml.safe_dump(play))
    return ansible_run.playbook("-i", "localhost,", "-c", "local", "-vvv", str(path),
                                "-e", "ansible_python_interpreter=%s" % sys.executable)


def test_no_paths_is_a_skip_made_without_the_module(tmp_path):
    run = _playbook(tmp_path, {"paths": [], "target": "s01.fleet.test"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "AnsiballZ_logs_pii" not in run.stdout, "no module process for a skip"
    assert '"check": "privacy.logs_pii"' in run.stdout and '"status": "skip"' in run.stdout
    assert "no log file globs given (launch_log_paths)" in run.stdout and '"target": "s01.fleet.test"' in run.stdout


def test_paths_still_run_the_module_on_its_host(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("GET / 200 request_id=abc\n")
    run = _playbook(tmp_path, {"paths": [str(log)], "target": "app1"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "AnsiballZ_logs_pii" in run.stdout
    assert '"status": "pass"' in run.stdout and '"target": "app1"' in run.stdout
