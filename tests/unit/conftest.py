"""Fixtures shared by the unit tests of the Stage 2 check families."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def edge_stack():
    """The edge variants of tests/support/edge_lab.py (Knot on 127.0.0.72, nginx on 127.0.0.160-169)."""
    from tests.support import edge_lab
    stack = edge_lab.start()
    try:
        yield stack
    finally:
        edge_lab.stop(stack)
