"""`ansible-test sanity` on a copy of the collection (scripts/sanity.sh), as `make sanity` runs it."""

from __future__ import annotations

import os
import subprocess

from tests.support import ansible_run


def test_ansible_test_sanity_passes():
    run = subprocess.run([os.path.join(ansible_run.ROOT, "scripts", "sanity.sh")], cwd=ansible_run.ROOT,
                         env=ansible_run.env(), capture_output=True, text=True, timeout=1500, check=False)
    errors = [line for line in run.stdout.splitlines() + run.stderr.splitlines() if line.startswith("ERROR")]
    assert run.returncode == 0, "\n".join(errors) or run.stdout[-4000:] + run.stderr[-4000:]
    assert "Running sanity test" in run.stdout + run.stderr
