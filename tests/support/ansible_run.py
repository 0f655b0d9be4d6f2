"""Run ansible-playbook the way an operator does, with this checkout's collection."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def env() -> dict:
    """The environment the Makefile gives ansible: the collection importable from this tree."""
    e = dict(os.environ)
    collections = os.path.join(ROOT, "build", "collections")
    in_venv = sys.prefix != sys.base_prefix
    venv_bin = os.path.dirname(sys.executable) if in_venv else os.path.join(ROOT, ".venv", "bin")
    e.update(
        ANSIBLE_COLLECTIONS_PATH=collections,
        PYTHONPATH=collections,
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        # As the Makefile: what the tools install (molecule copies the collection) stays in build/.
        ANSIBLE_HOME=os.path.join(ROOT, "build", "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PYTHONUNBUFFERED="1",
        PATH=venv_bin + os.pathsep + "/usr/sbin" + os.pathsep + e.get("PATH", "/usr/bin:/bin"),
    )
    return e


def playbook(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """ansible-playbook ARGS from the repository root; output captured as text."""
    return subprocess.run(["ansible-playbook", *args], cwd=ROOT, check=False, env=env(), capture_output=True,
                          text=True, timeout=timeout)


def recap(output: str) -> dict:
    """{host: {ok, changed, failed, ...}} from the last PLAY RECAP of ``output``."""
    at = output.rfind("PLAY RECAP")
    if at < 0:
        return {}
    hosts = {}
    for line in output[at:].splitlines()[1:]:
        m = re.match(r"^(\S+)\s*:\s*((?:\w+=\d+\s*)+)$", line.strip())
        if m:
            hosts[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return hosts
