"""The embedded lab for tests: bring it up or down with its playbook, and describe it.

    from tests.support import lab
    facts = lab.ensure_up()          # runs playbooks/lab.yml -e lab_state=up (once per process)
    facts["site"]["launch_resolvers"], facts["ca_bundle"], facts["edge_address"], ...
    lab.down()                       # stops exactly what up started (by PID files)

The lab lives in <repo>/.lab unless LAUNCHREADY_LAB_DIR names another absolute directory
(then it is passed to the playbook as lab_dir). LAUNCHREADY_LAB_VARS names a YAML (or JSON)
file of lab_* variables, the same file `make ... LAB_VARS=FILE` takes: another address plan
(second_lab_vars() writes one) passed to the playbook as -e @FILE and used to resolve the site's
variables and facts(). Concurrent callers (pytest-xdist workers) are serialised with a lock
file; a caller that waited while another one brought the lab up does not run the playbook again.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import typing as t

import jinja2
import jinja2.nativetypes
import yaml

from tests.support import ansible_run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INVENTORY = os.path.join(REPO, "inventories", "lab")
PLAYBOOK = os.path.join(REPO, "playbooks", "lab.yml")
LAB_HOST = "lab-controller"
SITE_HOST = "shop.test"
# The default address plan (inventories/lab/group_vars/all.yml); LAUNCHREADY_LAB_VARS moves it.
EDGE_ADDRESS = "127.0.0.10"
APP_URL = "http://127.0.0.1:8081"
VENDOR_URL = "http://127.0.0.1:8082"
SERVICES = ("knot", "pebble", "vendor", "supervisor", "nginx",
            "smtp_sink", "webhook_sink", "blackbox", "alertmanager", "prometheus")
# Every listener the default lab opens, as (address, TCP port); ports() for the current plan.
PORTS = (("127.0.0.53", 53), ("127.0.0.54", 53), ("127.0.0.1", 14000), ("127.0.0.1", 15000),
         ("127.0.0.1", 8082), ("127.0.0.1", 8081), (EDGE_ADDRESS, 80), (EDGE_ADDRESS, 443))
PLAYBOOK_TIMEOUT = 300.0

_state: dict[str, t.Any] = {"up": False, "site": None, "plan": None}


class LabError(RuntimeError):
    """The lab playbook failed; the message ends with the tail of its output."""


@dataclasses.dataclass
class PlaybookRun:
    state: str
    rc: int
    output: str
    seconds: float

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP as {host: {"ok": n, "changed": n, ...}}."""
        return parse_recap(self.output)

    @property
    def changed(self) -> int:
        return sum(host.get("changed", 0) for host in self.recap.values())

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported a change (for assertion messages)."""
        names, task = [], None
        for line in self.output.splitlines():
            if line.startswith("TASK ["):
                task = line[6:].split("]", 1)[0]
            elif line.startswith("changed:") and task:
                names.append(task)
        return names


# Kept under these names for the lab tests; the implementations live in ansible_run.
parse_recap = ansible_run.recap
ansible_env = ansible_run.env


def lab_dir() -> str:
    override = os.environ.get("LAUNCHREADY_LAB_DIR")
    if override:
        if not os.path.isabs(override):
            raise LabError("LAUNCHREADY_LAB_DIR must be an absolute path, got %r" % override)
        return os.path.realpath(override)
    return os.path.realpath(os.path.join(REPO, ".lab"))


def vars_file() -> str | None:
    """LAUNCHREADY_LAB_VARS: the file of lab_* variables the playbooks get as -e @FILE, or None."""
    path = os.environ.get("LAUNCHREADY_LAB_VARS")
    if not path:
        return None
    if not os.path.isabs(path) or not os.path.isfile(path):
        raise LabError("LAUNCHREADY_LAB_VARS must name an existing file by its absolute path, got %r" % path)
    return path


def overrides() -> dict:
    """The lab_* variables of vars_file() ({} without one)."""
    path = vars_file()
    if path is None:
        return {}
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise LabError("%s must hold a mapping of lab_* variables" % path)
    return data


def second_lab_vars(prefix: str) -> dict:
    """A complete address plan on PREFIX (three octets, e.g. "127.0.1") beside the default lab's.

    Same ports, other addresses: the DNS servers (.53, .54), pebble, the shop, the vendor and the
    monitoring stack with its sinks (.2) and the edge (.10). Write it to a file for LAUNCHREADY_LAB_VARS or make's LAB_VARS.
    """
    return {
        "lab_dns_listen": [prefix + ".53", prefix + ".54"],
        "lab_pebble_listen": prefix + ".2:14000",
        "lab_pebble_management_listen": prefix + ".2:15000",
        "lab_edge_address": prefix + ".10",
        "lab_app_address": prefix + ".2",
        "lab_vendor_address": prefix + ".2",
        "lab_monitoring_address": prefix + ".2",
    }


def _lock_paths() -> tuple[str, str]:
    key = hashlib.sha1(lab_dir().encode()).hexdigest()[:12]
    base = os.path.join(tempfile.gettempdir(), "launchready-lab-%s" % key)
    return base + ".lock", base + ".up"


class _Lock:
    def __init__(self) -> None:
        self.path, self.marker = _lock_paths()
        self.fh: t.IO | None = None

    def __enter__(self) -> _Lock:
        self.fh = open(self.path, "a")
        fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.fh is not None
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def run_playbook(state: str, timeout: float = PLAYBOOK_TIMEOUT, check: bool = True) -> PlaybookRun:
    """Run playbooks/lab.yml with lab_state=STATE (no locking; see up() and down())."""
    argv = ["ansible-playbook", "-i", INVENTORY, PLAYBOOK, "-e", "lab_state=%s" % state]
    if os.environ.get("LAUNCHREADY_LAB_DIR"):
        argv += ["-e", json.dumps({"lab_dir": lab_dir()})]
    if vars_file():
        argv += ["-e", "@" + vars_file()]
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, check=False, cwd=REPO, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise LabError("lab %s did not finish within %.0f s:\n%s" % (state, timeout, out[-6000:])) from None
    run = PlaybookRun(state, proc.returncode, proc.stdout, time.monotonic() - start)
    if check and run.rc != 0:
        raise LabError("lab %s failed (rc=%d):\n%s" % (state, run.rc, run.output[-6000:]))
    return run


def up(timeout: float = PLAYBOOK_TIMEOUT) -> PlaybookRun:
    """Run the lab playbook with lab_state=up, always (serialised with other processes)."""
    with _Lock() as lock:
        run = run_playbook("up", timeout)
        with open(lock.marker, "w") as fh:
            fh.write("%f\n" % time.time())
    _state["up"] = True
    return run


def ensure_up(force: bool = False, timeout: float = PLAYBOOK_TIMEOUT) -> dict:
    """Bring the lab up (once per process unless FORCE) and return its facts()."""
    if force or not _state["up"]:
        waited_from = time.time()
        with _Lock() as lock:
            fresh = False
            try:
                fresh = os.stat(lock.marker).st_mtime >= waited_from and not force
            except OSError:
                pass
            if not fresh:
                run_playbook("up", timeout)
                with open(lock.marker, "w") as fh:
                    fh.write("%f\n" % time.time())
        _state["up"] = True
    return facts()


def down(timeout: float = PLAYBOOK_TIMEOUT) -> PlaybookRun:
    """Stop the processes up started (by their PID files)."""
    with _Lock() as lock:
        try:
            os.unlink(lock.marker)
        except FileNotFoundError:
            pass
        run = run_playbook("down", timeout)
    _state["up"] = False
    return run


# --- description ------------------------------------------------------------------------------

def _regex_replace(value: str, pattern: str, replacement: str = "") -> str:
    return re.sub(pattern, replacement, value)


def _jinja() -> jinja2.Environment:
    # Native types, as Ansible renders: "{{ lab_dns_listen }}" stays a list.
    env = jinja2.nativetypes.NativeEnvironment(undefined=jinja2.StrictUndefined)
    filters = {"realpath": os.path.realpath, "dirname": os.path.dirname, "basename": os.path.basename,
               "regex_replace": _regex_replace, "from_json": json.loads}
    for name, fn in filters.items():
        env.filters[name] = fn
        env.filters["ansible.builtin." + name] = fn
    env.globals["lookup"] = _lookup
    return env


def _lookup(plugin: str, path: str, errors: str = "strict") -> str:
    """The one lookup the lab inventory uses: a file's text (``errors='ignore'``: "" when it is missing)."""
    if plugin not in ("file", "ansible.builtin.file"):
        raise LabError("the lab inventory's lookup(%r) is not known to tests/support/lab.py" % plugin)
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().rstrip("\n")
    except OSError:
        if errors == "ignore":
            return ""
        raise


def _render(value: t.Any, context: dict, env: jinja2.Environment) -> t.Any:
    if isinstance(value, str) and "{{" in value:
        return env.from_string(value).render(context)
    if isinstance(value, list):
        return [_render(v, context, env) for v in value]
    if isinstance(value, dict):
        return {k: _render(v, context, env) for k, v in value.items()}
    return value


def host_vars(host: str = SITE_HOST) -> dict:
    """The inventory variables of HOST with the lab's templates resolved (lab_dir and paths)."""
    proc = subprocess.run(["ansible-inventory", "-i", INVENTORY, "--host", host], check=False, cwd=REPO, env=ansible_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if proc.returncode != 0:
        raise LabError("ansible-inventory --host %s failed: %s" % (host, proc.stderr[-2000:]))
    raw = json.loads(proc.stdout)
    raw.update(overrides())  # extra vars win over the inventory, as in ansible-playbook -e
    raw["lab_dir"] = lab_dir()
    context = {"inventory_dir": INVENTORY, "inventory_hostname": host, "playbook_dir": os.path.dirname(PLAYBOOK),
               "ansible_playbook_python": sys.executable}
    env = _jinja()
    values = dict(raw)
    passes = 5
    for number in range(passes):  # a few passes resolve variables that refer to each other
        rendered = {}
        for key, value in values.items():
            try:
                rendered[key] = _render(value, {**context, **values}, env)
            except jinja2.TemplateError:
                if number == passes - 1:
                    raise
                rendered[key] = value  # it refers to a variable a later pass renders first
        if rendered == values:
            break
        values = rendered
    return values


def site() -> dict:
    """The launch_* variables of shop.test, resolved (cached per process)."""
    if _state["site"] is None:
        _state["site"] = {k: v for k, v in host_vars(SITE_HOST).items() if k.startswith("launch_")}
    return dict(_state["site"])


def tsig() -> dict:
    """The TSIG key allowed to update the zone: {"name", "algorithm", "secret"}."""
    text = open(os.path.join(lab_dir(), "knot", "key.conf"), encoding="utf-8").read()
    fields = dict(re.findall(r"^\s*-?\s*(id|algorithm|secret):\s*(\S+)\s*$", text, re.M))
    return {"name": fields["id"], "algorithm": fields["algorithm"], "secret": fields["secret"]}


def pid_files() -> dict[str, str]:
    return {name: os.path.join(lab_dir(), "run", name + ".pid") for name in SERVICES}


def pids() -> dict[str, int | None]:
    """PID of each lab service from its PID file (None when there is no PID file)."""
    result: dict[str, int | None] = {}
    for name, path in pid_files().items():
        try:
            with open(path, encoding="ascii") as fh:
                result[name] = int(fh.read().strip())
        except (OSError, ValueError):
            result[name] = None
    return result


def alive(pid: int) -> bool:
    """True while PID runs (a zombie waiting for its parent to reap it does not count)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def plan() -> dict:
    """The lab's address plan (the lab_* variables of the inventory and LAUNCHREADY_LAB_VARS), cached."""
    if _state["plan"] is None:
        _state["plan"] = {k: v for k, v in host_vars(LAB_HOST).items() if k.startswith("lab_")}
    return dict(_state["plan"])


def ports() -> list[tuple[str, int]]:
    """Every TCP listener of the lab of the current plan, as (address, port)."""
    p = plan()
    pebble = []
    for listen in (p["lab_pebble_listen"], p["lab_pebble_management_listen"]):
        address, _sep, port = listen.rpartition(":")
        pebble.append((address, int(port)))
    return ([(a, int(p["lab_dns_port"])) for a in p["lab_dns_listen"]] + pebble
            + [(p["lab_vendor_address"], int(p["lab_vendor_port"])), (p["lab_app_address"], int(p["lab_app_port"])),
               (p["lab_edge_address"], int(p["lab_edge_http_port"])),
               (p["lab_edge_address"], int(p["lab_edge_https_port"]))]
            + [(p["lab_monitoring_address"], int(p[name])) for name in (
                "lab_prometheus_port", "lab_blackbox_port", "lab_alertmanager_port", "lab_smtp_sink_port",
                "lab_webhook_sink_port")])


def facts() -> dict:
    root = lab_dir()
    p = plan()
    try:
        key = tsig()
    except (OSError, KeyError):
        key = None
    return {
        "tsig": key,
        "lab_dir": root,
        "ca_bundle": os.path.join(root, "pki", "ca-bundle.pem"),
        "site": site(),
        "site_vars": site(),  # the same launch_* dict, under the name tests/conftest.py uses
        "edge_address": p["lab_edge_address"],
        "inventory": INVENTORY,
        "app_url": "http://%s:%s" % (p["lab_app_address"], p["lab_app_port"]),
        "vendor_url": "http://%s:%s" % (p["lab_vendor_address"], p["lab_vendor_port"]),
        "zone": "shop.test",
        "dns_servers": list(p["lab_dns_listen"]),
        "acme_directory": "https://%s/dir" % p["lab_pebble_listen"],
        "pebble_api_ca": os.path.join(root, "pki", "pebble-api-ca.pem"),
        "db": os.path.join(root, "shop", "shop.db"),
        "logs": {name: os.path.join(root, "log", name + ".log") for name in SERVICES + ("shop",)}
        | {"nginx_access": os.path.join(root, "log", "nginx-access.log"),
           "nginx_error": os.path.join(root, "log", "nginx-error.log")},
        "pid_files": pid_files(),
        "tls_dir": os.path.join(root, "tls", "shop.test"),
    }
