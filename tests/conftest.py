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
