# Copyright: launchready.ops developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of the lab (roles/lab/tasks/preflight.yml): what would make a service fail later.

    python lab_preflight.py ports '{"run_dir": ..., "listeners": [{"service", "exec", "udp", "ports"}]}'
    python lab_preflight.py paths '{"needs": [{"service", "user", "path", "fix"}]}'

Prints {"problems": [sentence, ...]} as JSON and exits 0: the role turns the sentences into
one failure message. Standard library only: it runs with the controller's Python.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import re
import socket
import stat
import subprocess
import sys

# --- ports -------------------------------------------------------------------------------------


def _same_file(a, b):
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _own_service_runs(run_dir, name, executable):
    """True when NAME's PID file names a live process of EXECUTABLE (the lab's own service)."""
    try:
        with open(os.path.join(run_dir, name + ".pid"), encoding="ascii") as fh:
            pid = int(fh.read().strip())
    except (OSError, ValueError):
        return False
    return _same_file("/proc/%d/exe" % pid, executable)


def _holders():
    """{(protocol, port): [(local address, "name (pid N)")]} of the listening sockets ss can see."""
    try:
        out = subprocess.run(["ss", "-Hlnptu"], capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        address, _sep, port = fields[4].rpartition(":")
        users = re.findall(r'\("([^"]+)",pid=(\d+)', line)
        who = ", ".join("%s (pid %s)" % user for user in users) or "a process of another user"
        found.setdefault((fields[0], port), []).append((address.strip("[]"), who))
    return found


def _who_holds(holders, protocol, address, port):
    for local, who in holders.get((protocol, str(port)), []):
        if local in (address, "0.0.0.0", "*", "::"):
            return who
    return "another process"


def _bind_error(protocol, address, port):
    """The errno of binding ADDRESS:PORT the way the service will, or None when it is free."""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as probe:
        if protocol == "tcp":
            # What the services set too: a connection in TIME_WAIT does not block a restart.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as exc:
            return exc.errno
    return None


def check_ports(spec):
    problems, holders = [], None
    for listener in spec["listeners"]:
        service = listener["service"]
        if _own_service_runs(spec["run_dir"], service, listener["exec"]):
            continue  # this lab's own process: up leaves it running (or restarts it itself)
        for endpoint in listener["ports"]:
            address, _sep, port = endpoint.rpartition(":")
            errors = {}
            for protocol in ["tcp"] + (["udp"] if listener.get("udp") else []):
                error = _bind_error(protocol, address, int(port))
                if error is not None:
                    errors.setdefault(error, []).append(protocol)
            for error, protocols in errors.items():
                where = "%s:%s (%s, %s)" % (address, port, service, "+".join(protocols))
                if error == errno.EADDRINUSE:
                    if holders is None:
                        holders = _holders()
                    problems.append(
                        "%s is in use by %s, not by this lab. Fix: stop that process (another checkout's lab: "
                        "make lab-down there) or give this lab other addresses (LAB_VARS, see the README)."
                        % (where, _who_holds(holders, protocols[0], address, port)))
                elif error == errno.EACCES:
                    problems.append(
                        "%s needs root: ports below %d are privileged on this machine. Fix: bring the lab up as "
                        "root, or let users bind them (sysctl net.ipv4.ip_unprivileged_port_start=53): the site is "
                        "served and audited on 80 and 443." % (where, _unprivileged_start()))
                elif error == errno.EADDRNOTAVAIL:
                    problems.append("%s: %s is not an address of this machine. Fix: use a loopback address (127.x.y.z)."
                                    % (where, address))
                else:
                    problems.append("%s cannot be bound: %s." % (where, os.strerror(error)))
    return problems


def _unprivileged_start():
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start", encoding="ascii") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return 1024


# --- paths -------------------------------------------------------------------------------------

def _first_blocked(path):
    """The first directory on the way to PATH this process cannot enter, or PATH if it cannot use it."""
    current = "/"
    for part in [p for p in path.split("/") if p]:
        if not os.access(current, os.X_OK):
            return current
        current = os.path.join(current, part)
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return path
    return None


def _blocked_as(user, path):
    """_first_blocked(PATH) as seen by USER: a forked child takes USER's identity (root only)."""
    entry = pwd.getpwnam(user)
    if entry.pw_uid == os.geteuid():
        return _first_blocked(path)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to USER, look, report through the pipe, never return
        code = 0
        try:
            os.close(read_end)
            os.setgroups(os.getgrouplist(user, entry.pw_gid))
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            os.write(write_end, (_first_blocked(path) or "").encode())
        except BaseException:  # pylint: disable=broad-exception-caught
            code = 1
        finally:
            os._exit(code)  # pylint: disable=protected-access
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        blocked = fh.read().decode()
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return path
    return blocked or None


def _describe(path):
    try:
        info = os.stat(path)
    except OSError as exc:
        return "%s (%s)" % (path, exc.strerror)
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = str(info.st_uid)
    return "%s (mode %04o, owner %s)" % (path, stat.S_IMODE(info.st_mode), owner)


def check_paths(spec):
    problems = []
    for need in spec["needs"]:
        try:
            blocked = _blocked_as(need["user"], need["path"])
        except KeyError:
            problems.append("%s: the user %r does not exist on this machine." % (need["service"], need["user"]))
            continue
        if blocked:
            problems.append(
                "%s (user %s) cannot use %s: the way is blocked at %s. Fix: %s"
                % (need["service"], need["user"], need["path"], _describe(blocked), need["fix"]))
    return problems


def main(argv):
    mode, spec = argv[1], json.loads(argv[2])
    problems = check_ports(spec) if mode == "ports" else check_paths(spec)
    json.dump({"problems": problems}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
