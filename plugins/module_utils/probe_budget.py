# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One probe budget per controller, shared by every fork and every thread.

Ansible runs each site of an inventory in its own fork, and every fork runs its checks
on its own thread pool: without a shared budget, 20 forks open hundreds of sockets and
start a Chromium each, the controller starves, and healthy sites get timeouts.  The
budget caps, across all of them:

- sockets open at once to one target address (``launch_max_connections_per_address``),
- sockets open at once in total (``launch_max_connections``),
- headless browsers running at once (``launch_browser_slots``).

A slot is an ``flock``ed file in a per-user runtime directory: the kernel frees it when
its holder closes it or dies, so a crashed fork never leaks a slot.  ``flock`` locks
belong to the open file description, so threads of one process compete like forks do.
Waiting for a slot is not part of any probe's timeout: callers start their clock after
``acquire`` returns.

Plain Python, stdlib only: no Ansible imports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import random
import re
import stat
import tempfile
import threading
import time
import typing as t

# Sized for a 2-core controller (the machine the fleet figures in the README come from).
DEFAULT_MAX_CONNECTIONS = 24
DEFAULT_MAX_PER_ADDRESS = 6
DEFAULT_BROWSER_SLOTS = 2
# A holder is bounded by its own timeout; past this a waiter goes ahead rather than hang
# forever on a slot directory something else keeps locked.
MAX_WAIT = 300.0

RUNTIME_DIR_ENV = "LAUNCHREADY_RUNTIME_DIR"
_SAFE = re.compile(r"[^A-Za-z0-9.:_-]")


@dataclasses.dataclass(frozen=True)
class Limits:
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_per_address: int = DEFAULT_MAX_PER_ADDRESS
    browser_slots: int = DEFAULT_BROWSER_SLOTS


def _usable(path: str) -> bool:
    """``path`` is a real directory of ours that nobody else can write (slots must not be squatted)."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and os.access(path, os.W_OK | os.X_OK))


_RUNTIME_DIRS: dict = {}


def runtime_dir() -> str | None:
    """Where the slot files live: $LAUNCHREADY_RUNTIME_DIR, $XDG_RUNTIME_DIR/launchready, ~/.cache/launchready,
    or a per-user directory in the system temp dir; None when none is usable (then limits are per process)."""
    uid = os.geteuid()
    key = (uid, os.environ.get(RUNTIME_DIR_ENV), os.environ.get("XDG_RUNTIME_DIR"), os.environ.get("HOME"))
    if key in _RUNTIME_DIRS and (_RUNTIME_DIRS[key] is None or os.path.isdir(_RUNTIME_DIRS[key])):
        return _RUNTIME_DIRS[key]
    _RUNTIME_DIRS[key] = _find_runtime_dir(uid)
    return _RUNTIME_DIRS[key]


def _find_runtime_dir(uid: int) -> str | None:
    candidates = [os.environ.get(RUNTIME_DIR_ENV)]
    if os.environ.get("XDG_RUNTIME_DIR"):
        candidates.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "launchready"))
    candidates.append(os.path.join(os.path.expanduser("~"), ".cache", "launchready", "slots"))
    candidates.append(os.path.join(tempfile.gettempdir(), "launchready-slots-%d" % uid))
    for path in candidates:
        if path and _usable(path):
            return path
    return None


class Budget:
    """The controller-wide slots; ``connection(address)`` and ``browser()`` are context managers."""

    def __init__(self, limits: Limits, directory: str | None) -> None:
        self.limits = limits
        self.directory = directory
        # Without a directory the slots still hold inside this process.
        self._local: dict = {}
        self._local_lock = threading.Lock()

    def _try(self, name: str, count: int) -> t.Any:
        if self.directory is None:
            with self._local_lock:
                sem = self._local.setdefault(name, threading.BoundedSemaphore(count))
            return sem if sem.acquire(blocking=False) else None
        order = list(range(count))
        random.shuffle(order)  # spread waiters over the slots instead of all fighting for slot 0
        for index in order:
            path = os.path.join(self.directory, "%s.%d.lock" % (name, index))
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            return fd
        return None

    def acquire(self, name: str, count: int) -> t.Any:
        """Block until one of ``count`` slots called ``name`` is free; returns the token for ``release``."""
        name = _SAFE.sub("_", name)
        waited_until = time.monotonic() + MAX_WAIT
        pause = 0.002
        while True:
            token = self._try(name, max(1, count))
            if token is not None:
                return token
            if time.monotonic() > waited_until:
                return None  # go ahead unbudgeted rather than never
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 1.5, 0.05)

    @staticmethod
    def release(token: t.Any) -> None:
        if token is None:
            return
        if isinstance(token, int):
            os.close(token)  # closing the descriptor drops the flock
        else:
            token.release()

    @contextlib.contextmanager
    def connection(self, address: str) -> t.Iterator[None]:
        """One socket to ``address``: a per-address slot, then a total one (always in this order: no deadlock)."""
        per_address = self.acquire("conn-%s" % address, self.limits.max_per_address)
        try:
            total = self.acquire("sockets", self.limits.max_connections)
            try:
                yield
            finally:
                self.release(total)
        finally:
            self.release(per_address)

    @contextlib.contextmanager
    def browser(self) -> t.Iterator[None]:
        token = self.acquire("browser", self.limits.browser_slots)
        try:
            yield
        finally:
            self.release(token)


_BUDGETS: dict = {}
_BUDGETS_LOCK = threading.Lock()


def get(limits: Limits | None = None) -> Budget:
    """The budget for ``limits`` (one object per process and limits; the slots are shared by all)."""
    limits = limits or Limits()
    with _BUDGETS_LOCK:
        directory = runtime_dir()
        key = (limits, directory)
        if key not in _BUDGETS:
            _BUDGETS[key] = Budget(limits, directory)
        return _BUDGETS[key]


def for_site(site: t.Any) -> Budget:
    """The budget with the site's knobs (``launch_max_connections`` and friends), defaults otherwise."""
    return get(Limits(max_connections=getattr(site, "max_connections", DEFAULT_MAX_CONNECTIONS),
                      max_per_address=getattr(site, "max_connections_per_address", DEFAULT_MAX_PER_ADDRESS),
                      browser_slots=getattr(site, "browser_slots", DEFAULT_BROWSER_SLOTS)))
