"""The test session refuses traffic that would leave this machine (see tests/conftest.py)."""

from __future__ import annotations

import socket

import pytest


def test_connections_off_loopback_are_refused():
    with socket.socket() as sock, pytest.raises(PermissionError, match="loopback"):
        sock.connect(("192.0.2.1", 443))


def test_datagrams_off_loopback_are_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.raises(PermissionError):
        sock.sendto(b"x", ("198.51.100.1", 53))


def test_loopback_is_allowed():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"x", ("127.0.0.1", 9))
