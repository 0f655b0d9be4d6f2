"""Shared pytest fixtures: the collection on sys.path and the one lab shared by all tests."""

from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
if COLLECTIONS not in sys.path:
    # `make test` sets PYTHONPATH; this keeps a bare `pytest` working after `make setup`.
    sys.path.insert(0, COLLECTIONS)


@pytest.fixture(scope="session")
def lab():
    """The shared healthy lab: started once for the whole session if not already up.

    A lab this session started is stopped at the end (by its PID files); a lab that was
    already running (an operator's `make lab-up`) is left as it was.
    """
    from tests.support import lab as lab_support
    was_running = any(pid and lab_support.alive(pid) for pid in lab_support.pids().values())
    yield lab_support.ensure_up()
    if not was_running:
        lab_support.down()


@pytest.fixture(scope="session")
def lab_site(lab):
    """The site variables (launch_*) of the lab's shop.test."""
    return dict(lab["site_vars"])


def pytest_sessionfinish(session, exitstatus):
    """Under `make test` (LAUNCHREADY_TEST_HOME=HOME): fail the run when the suite left anything
    in HOME but the caches the README names (tests/support/home_check.py)."""
    home = os.environ.get("LAUNCHREADY_TEST_HOME")
    if not home or hasattr(session.config, "workerinput"):  # once, on the controller of xdist workers
        return
    from tests.support import home_check
    left = home_check.leftovers(home)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = ("the test suite left files in HOME=%s beyond the caches the README names (%s): %s"
                   % (home, ", ".join(home_check.CACHES), ", ".join(left[:20])))
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line("FAILED " + message, red=True, bold=True)
        else:
            print("FAILED " + message, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _loopback_only(address) -> None:
    """Refuse any destination outside 127.0.0.0/8 and ::1: tests talk to this machine only."""
    import ipaddress

    if not isinstance(address, tuple) or not address:
        return  # AF_UNIX paths and the like
    host = address[0]
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        ip = None  # a name: resolved by the OS, so judge what it resolves to
        import socket as _socket
        for info in _socket.getaddrinfo(host, None):
            _loopback_only((info[4][0],))
        return
    if ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback):
        return
    if ip.is_unspecified:
        return
    raise PermissionError("test traffic must stay on loopback; refused a connection to %s" % host)


def _guard_sockets() -> None:
    import socket

    original_connect, original_connect_ex, original_sendto = (
        socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto)

    def connect(self, address):
        _loopback_only(address)
        return original_connect(self, address)

    def connect_ex(self, address):
        _loopback_only(address)
        return original_connect_ex(self, address)

    def sendto(self, data, *args):
        _loopback_only(args[-1])
        return original_sendto(self, data, *args)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto


_guard_sockets()
