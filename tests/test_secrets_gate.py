"""The secrets gate as CI runs it: ansible-playbook launchready.ops.secrets_gate, and the one-line script.

A committed secret fails the gate; removing it and allowlisting its fingerprint (it stays in history) passes.
No planted value appears in the -vvv log or any file the gate writes.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support import ansible_run, secret_fixtures

SCRIPT = os.path.join(ansible_run.ROOT, "scripts", "secrets-gate")


@pytest.fixture()
def repo(tmp_path):
    return secret_fixtures.make(str(tmp_path / "app"), bundle_size=20_000)


def test_playbook_fails_on_committed_secrets_and_no_value_reaches_the_vvv_log(repo, tmp_path):
    out = tmp_path / "reports"
    staging = tmp_path / "staging.env"
    staging.write_text("JWT_SECRET=%s\nDATABASE_URL=x\nSTRIPE_SECRET_KEY=y\nAPI_BASE=z\n" % repo.planted["jwt_secret"])
    args = {"secrets_gate_repo": repo.path, "secrets_gate_report_dir": str(out),
            "secrets_gate_env_files": {"production": os.path.join(repo.path, "deploy/production.env"),
                                       "staging": str(staging)},
            "secrets_gate_env_values": {"production": {"DATABASE_URL": "postgres://u:%s@db/x"
                                                       % repo.planted["db_password"]}}}
    run = ansible_run.playbook("launchready.ops.secrets_gate", "-vvv", "-e", json.dumps(args))
    log = run.stdout + run.stderr
    assert run.returncode != 0, log[-3000:]
    assert "secrets gate failed: secrets.repo_files, secrets.repo_history" in log
    assert "secrets.env_complete" in log and "secrets.env_separation" in log
    report = json.loads((out / "report.json").read_text())
    status = {(f["check"], f["target"]): f["status"] for f in report["findings"]}
    assert [s for (c, _t), s in status.items() if c == "secrets.env_separation"] == ["fail"]
    env_complete = [f for f in report["findings"] if f["check"] == "secrets.env_complete"
                    and f["evidence"]["environment"] == "production"][0]
    assert env_complete["evidence"]["missing"] == ["API_BASE", "STRIPE_SECRET_KEY"]
    assert sorted(os.listdir(out)) == ["junit.xml", "report.html", "report.json", "report.md", "secrets.json",
                                       "secrets.sarif"]
    for label, value in list(repo.planted.items()) + list(repo.not_secrets.items()):
        assert value not in log, "%s leaked into the -vvv log" % label
        for name in os.listdir(out):
            assert value not in (out / name).read_text(), "%s leaked into %s" % (label, name)


def test_gate_fails_on_a_commit_and_passes_once_removed_and_allowlisted_in_history(tmp_path):
    app = str(tmp_path / "app")
    secret_fixtures.git(tmp_path, "init", "-q", "-b", "main", app)
    secret_fixtures.write(app, "app.py", "import os\nKEY = os.environ.get('STRIPE_SECRET_KEY', '')\n")
    secret_fixtures.git(app, "add", "-A")
    secret_fixtures.git(app, "commit", "-qm", "app")

    def gate(*more):
        return subprocess.run([SCRIPT, app, *more], capture_output=True, text=True, timeout=120, check=False,
                              env=ansible_run.env())

    assert gate().returncode == 0
    value = "sk_live_" + "Qm7rT2xK9pL4wZ8vN3bH6jD1"
    secret_fixtures.write(app, "config.py", "STRIPE = '%s'\n" % value)
    secret_fixtures.git(app, "add", "-A")
    secret_fixtures.git(app, "commit", "-qm", "oops")
    failed = gate()
    assert failed.returncode == 1 and "stripe-secret-key at config.py:1" in failed.stdout
    assert value not in failed.stdout + failed.stderr
    # Removed from the tree: still in history, so the gate still fails.
    secret_fixtures.git(app, "rm", "-q", "config.py")
    secret_fixtures.git(app, "commit", "-qm", "remove the key (it was rotated)")
    still = gate()
    assert still.returncode == 1 and "secrets.repo_history" in still.stdout and "FAIL  secrets.repo_files" not in \
        still.stdout
    allow = gate("--update-baseline")
    assert allow.returncode == 0 and "1 fingerprint(s) allowlisted" in allow.stdout
    baseline = open(os.path.join(app, ".launchready-secrets.json"), encoding="utf-8").read()
    assert value not in baseline
    passed = gate()
    assert passed.returncode == 0, passed.stdout
    assert "secrets gate: PASS" in passed.stdout


def test_pre_commit_hook_is_declared():
    import yaml
    with open(os.path.join(ansible_run.ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8") as fh:
        hooks = yaml.safe_load(fh)
    ids = {h["id"]: h for h in hooks}
    assert ids["launchready-secrets"]["entry"].startswith("scripts/secrets-gate")
    assert os.access(SCRIPT, os.X_OK)
