"""Lint gates: ruff and ansible-lint (production profile) on the whole tree."""

from __future__ import annotations

import subprocess

from tests.support import ansible_run


def _run(argv):
    return subprocess.run(argv, cwd=ansible_run.ROOT, check=False, env=ansible_run.env(), capture_output=True, text=True,
                          timeout=600)


def test_ruff_is_clean():
    run = _run(["ruff", "check", "."])
    assert run.returncode == 0, run.stdout + run.stderr


def test_ansible_lint_production_profile_is_clean():
    run = _run(["ansible-lint", "--profile", "production", "--offline", "--nocolor"])
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-6000:]
