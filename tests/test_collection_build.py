"""`ansible-galaxy collection build` makes a tarball that installs and documents its modules."""

from __future__ import annotations

import glob
import subprocess

from tests.support import ansible_run


def _run(argv, cwd=ansible_run.ROOT, env=None):
    return subprocess.run(argv, cwd=cwd, check=False, env=env or ansible_run.env(), capture_output=True, text=True, timeout=300)


def test_build_and_install(tmp_path):
    built = _run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(tmp_path)])
    assert built.returncode == 0, built.stderr
    (tarball,) = glob.glob(str(tmp_path / "launchready-ops-*.tar.gz"))
    listing = _run(["tar", "-tzf", tarball]).stdout.splitlines()
    assert "plugins/action/audit_site.py" in listing
    assert not [p for p in listing if p.startswith((".venv", ".lab", "build/", "reports/"))]
    # The demo apps, the lab's inventory and the benchmarks stay in the checkout.
    assert not [p for p in listing if p.startswith(("demo/", "bench/", "inventories/lab/"))]

    dest = tmp_path / "installed"
    installed = _run(["ansible-galaxy", "collection", "install", "--offline", "--force", "-p", str(dest), tarball])
    assert installed.returncode == 0, installed.stderr
    env = dict(ansible_run.env(), ANSIBLE_COLLECTIONS_PATH=str(dest))
    for leak in ("PYTHONPATH", "ANSIBLE_CONFIG"):  # only the installed copy may be found
        env.pop(leak, None)
    doc = _run(["ansible-doc", "-t", "module", "launchready.ops.audit_site"], cwd=str(tmp_path), env=env)
    assert doc.returncode == 0, doc.stderr
    assert "MODULE launchready.ops.audit_site" in doc.stdout and "workers" in doc.stdout
