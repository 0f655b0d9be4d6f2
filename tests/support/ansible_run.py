"""Run ansible-playbook the way an operator does, with this checkout's collection."""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def env() -> dict:
    e = dict(os.environ)
    venv_bin = os.path.dirname(sys.executable)
    e.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collections"),
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=venv_bin + os.pathsep + "/usr/sbin" + os.pathsep + e.get("PATH", ""),
    )
    return e


def playbook(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """ansible-playbook ARGS from the repository root; output captured as text."""
    return subprocess.run(["ansible-playbook", *args], cwd=ROOT, check=False, env=env(), capture_output=True,
                          text=True, timeout=timeout)


def recap(output: str) -> dict:
    """{host: {ok, changed, failed, ...}} from the PLAY RECAP."""
    hosts = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        m = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if m:
            hosts[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return hosts
