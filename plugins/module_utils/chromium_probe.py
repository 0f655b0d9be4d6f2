# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Headless Chromium as content.mixed's probe: load one page, read the browser's mixed-content reports.

- One page, one throwaway directory (``launchready-chromium-*`` in the system temp dir)
  holding the profile, HOME and TMPDIR: Chromium's own temp entries
  (``org.chromium.Chromium.*``, SingletonSocket/SingletonCookie) land inside it, and the
  whole directory is removed when the page is done, also when the browser overran its
  budget and was killed (by its process group).
- Browsers are counted in the controller-wide budget (``launch_browser_slots``): forks
  share a few slots instead of starting a browser each; the page's budget starts once a
  slot is held.
- The sandbox stays on.  Run by root, the browser runs as an unprivileged user
  (``nobody``) that owns the throwaway directory; ``--no-sandbox`` is used only when
  the machine offers no usable sandbox or root has no unprivileged user to switch to,
  and the result says so (``sandbox``, ``sandbox_note``, ``user``).
- Names are mapped to the addresses the site's resolvers gave (``--host-resolver-rules``),
  a private CA is honoured by pinning leaf keys (``--ignore-certificate-errors-spki-list``).

Plain Python, stdlib only: no Ansible imports.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import typing as t

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_BROWSER = ("none", "parse", "off", "false", "no")
UNPRIVILEGED_USERS = ("nobody",)
# Let timers and script-inserted resources run (virtual time: no real waiting).
VIRTUAL_TIME_MS = 3000

_MIXED = re.compile(r"Mixed Content: The page at '(?P<page>[^']*)' was loaded over (?:HTTPS|a secure connection), "
                    r"but (?:requested an insecure (?P<kind>[\w -]+?)|contains a form that targets an insecure "
                    r"endpoint) '(?P<url>[^']*)'\.\s*(?P<rest>[^\"]*)")
_LOAD_FAILED = re.compile(r"Page load failed: (\S+)")
_NO_SANDBOX = re.compile(r"No usable sandbox|Failed to move to new namespace|sandbox.*(?:not|fail)", re.I)

# Per (uid): False once Chromium said it has no usable sandbox here, so later pages skip the try.
_SANDBOX_USABLE: dict = {}
_SANDBOX_LOCK = threading.Lock()


def browser_path(wanted: str | None) -> tuple:
    """(path of Chromium or None, why not when None) for ``launch_browser`` (auto, none, or a path)."""
    wanted = (wanted or "auto").strip()
    if wanted.lower() in NO_BROWSER:
        return None, "launch_browser is %s" % wanted
    if wanted.lower() == "auto":
        for name in CHROMIUM_NAMES:
            found = shutil.which(name)
            if found:
                return found, ""
        return None, "no Chromium found on PATH (%s)" % ", ".join(CHROMIUM_NAMES)
    if os.path.isfile(wanted) and os.access(wanted, os.X_OK):
        return wanted, ""
    return None, "launch_browser %s is not an executable file" % wanted


def run_as() -> tuple:
    """(pwd entry to switch to or None, note): root hands the browser to an unprivileged user."""
    if os.geteuid() != 0:
        return None, ""
    for name in UNPRIVILEGED_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry, ""
    return None, "running as root with no unprivileged user (%s) to switch to" % ", ".join(UNPRIVILEGED_USERS)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the browser's own process group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def _remove(path: str) -> None:
    # Killed helpers may still be closing files for a moment: try again once.
    for _try in range(3):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path):
            return
        time.sleep(0.2)


def _workdir(user: t.Any) -> str:
    workdir = tempfile.mkdtemp(prefix="launchready-chromium-")
    for sub in ("profile", "tmp"):
        os.mkdir(os.path.join(workdir, sub), 0o700)
    if user is not None:
        for path in (workdir, os.path.join(workdir, "profile"), os.path.join(workdir, "tmp")):
            os.chown(path, user.pw_uid, user.pw_gid)
    return workdir


def _argv(binary: str, url: str, workdir: str, resolver_rules: str, pins: list, sandbox: bool) -> list:
    argv = [binary, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-sync", "--disable-background-networking", "--disable-component-update",
            "--disable-extensions", "--disable-default-apps", "--mute-audio", "--disable-breakpad",
            "--user-data-dir=%s" % os.path.join(workdir, "profile"),
            "--host-resolver-rules=%s" % resolver_rules,
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=%d" % VIRTUAL_TIME_MS]
    if not sandbox:
        argv.append("--no-sandbox")
    if pins:
        argv.append("--ignore-certificate-errors-spki-list=%s" % ",".join(pins))
    return argv + ["--dump-dom", url]


def _run(argv: list, workdir: str, user: t.Any, budget: float) -> tuple:
    """(exit code or None when killed at the budget, stderr text)."""
    env = {"HOME": workdir, "TMPDIR": os.path.join(workdir, "tmp"), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "LANG": "C.UTF-8", "DBUS_SESSION_BUS_ADDRESS": "disabled:",
           "XDG_CONFIG_HOME": os.path.join(workdir, ".config"), "XDG_CACHE_HOME": os.path.join(workdir, ".cache")}
    switch: dict = {}
    if user is not None:
        switch = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    log_path = os.path.join(workdir, "stderr.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL, env=env,
                                cwd=workdir, start_new_session=True, **switch)
    try:
        rc = proc.wait(budget)
    except subprocess.TimeoutExpired:
        _kill(proc)
        rc = None
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        return rc, fh.read()


def _mixed(text: str) -> list:
    out, seen = [], set()
    for m in _MIXED.finditer(text):
        rest = m.group("rest").lower()
        outcome = "blocked" if "blocked" in rest else "upgraded" if "upgraded" in rest else "warned"
        item = (m.group("url"), (m.group("kind") or "form").strip(), outcome)
        if item not in seen:
            seen.add(item)
            out.append({"url": item[0], "kind": item[1], "outcome": item[2], "page": m.group("page")})
    return out


def load_page(binary: str, url: str, resolver_rules: str, pins: list, budget: float, slots: t.Any = None) -> dict:
    """Load ``url`` in headless Chromium: {"resources", "error", "seconds", "sandbox", "sandbox_note", "user"}.

    ``slots`` is the probe budget (``probe_budget.Budget``); ``budget`` (seconds) starts
    once its browser slot is held.
    """
    if slots is not None:
        with slots.browser():
            return load_page(binary, url, resolver_rules, pins, budget)
    user, note = run_as()
    key = user.pw_uid if user is not None else os.geteuid()
    with _SANDBOX_LOCK:
        sandbox = user is not None or os.geteuid() != 0
        sandbox = sandbox and _SANDBOX_USABLE.get(key, True)
        if not sandbox and not note:
            note = "this machine offers Chromium no usable sandbox"
    out = {"resources": [], "error": "", "seconds": 0.0, "sandbox": sandbox, "sandbox_note": note,
           "user": user.pw_name if user is not None else pwd.getpwuid(os.geteuid()).pw_name}
    started = time.monotonic()
    workdir = _workdir(user)
    try:
        rc, text = _run(_argv(binary, url, workdir, resolver_rules, pins, sandbox), workdir, user, budget)
        if sandbox and rc not in (0, None) and _NO_SANDBOX.search(text):
            with _SANDBOX_LOCK:
                _SANDBOX_USABLE[key] = False
            out["sandbox"], out["sandbox_note"] = False, "this machine offers Chromium no usable sandbox"
            left = max(1.0, budget - (time.monotonic() - started))
            rc, text = _run(_argv(binary, url, workdir, resolver_rules, pins, False), workdir, user, left)
        if rc is None:
            out["error"] = "Chromium did not finish loading %s within %.0f s" % (url, budget)
        out["resources"] = _mixed(text)
        failed = _LOAD_FAILED.search(text)
        if failed and not out["error"]:
            out["error"] = "Chromium could not load %s: %s" % (url, failed.group(1))
        elif rc not in (0, None) and not out["error"]:
            out["error"] = "Chromium exited with %s on %s: %s" % (rc, url, text.strip().splitlines()[-1:] or "")
    except OSError as exc:
        out["error"] = "could not run Chromium (%s): %s" % (binary, exc)
    finally:
        out["seconds"] = round(time.monotonic() - started, 3)
        _remove(workdir)
    return out
