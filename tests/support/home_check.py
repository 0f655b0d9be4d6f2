"""What the test suite may leave in HOME: only the caches the README names.

`make test` runs the suite with HOME=build/home (reset() first) and LAUNCHREADY_TEST_HOME set
to it; tests/conftest.py then fails the session when leftovers() finds anything else there.
Everything the tools install (molecule's copy of the collection, ansible-galaxy's cache,
Ansible's temp files) belongs under ANSIBLE_HOME=build/ansible-home instead.

    python -m tests.support.home_check --reset DIR   # empty DIR but keep the caches
"""

from __future__ import annotations

import os
import shutil
import sys

# Relative to HOME; keep in step with the README ("What make test leaves in HOME").
CACHES = (
    ".ansible/test",  # ansible-test: the sanity tests' virtualenvs and the get-pip stand-in (scripts/sanity.sh)
    ".ansible/tmp",   # Ansible's temp directory for what ansible-test runs in its own environment (left empty)
    ".cache/pip",     # pip's download cache, while scripts/sanity.sh fills build/sanity-venv
    ".cache/launchready",  # the probe budget's slot files, for runs whose environment drops LAUNCHREADY_RUNTIME_DIR
    ".rustup",        # rustup's settings, written when pip asks `rustc --version` inside ansible-test's venvs
)


def _allowed(rel: str) -> bool:
    """True for a cache, inside one, or a directory on the way to one."""
    return any(rel == c or rel.startswith(c + "/") or c.startswith(rel + "/") for c in CACHES)


def leftovers(home: str) -> list[str]:
    """Paths under HOME (relative, sorted) that are neither a named cache nor on the way to one."""
    found = []
    for top, dirs, files in os.walk(home):
        for name in sorted(dirs) + sorted(files):
            rel = os.path.relpath(os.path.join(top, name), home)
            if not _allowed(rel):
                found.append(rel)
        dirs[:] = [d for d in dirs if _allowed(os.path.relpath(os.path.join(top, d), home))
                   and os.path.relpath(os.path.join(top, d), home) not in CACHES]
    return sorted(found)


def reset(home: str) -> None:
    """Create HOME, or empty it of everything but the caches (they only save downloads)."""
    os.makedirs(home, exist_ok=True)
    for rel in leftovers(home):
        path = os.path.join(home, rel)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--reset":
        sys.exit("usage: python -m tests.support.home_check --reset DIR")
    reset(sys.argv[2])
