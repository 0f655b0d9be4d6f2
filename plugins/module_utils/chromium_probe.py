# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Headless Chromium as content.mixed's probe: load a site's pages, read the browser's mixed-content reports.

- ``load_pages``: every page of one site in ONE browser start, driven over the DevTools
  protocol on a pipe (``--remote-debugging-pipe``: fds 3 and 4, no port to squat or
  leak); the pages are visited one after the other in one tab (a same-site navigation
  keeps its renderer), each with its own budget and only its own console reports; a page
  that overruns its budget gets the browser killed and the pages after it a new browser.  ``load_page`` is the
  one-page ``--dump-dom`` run.
- One browser start, one throwaway directory (``launchready-chromium-*`` in the system temp dir)
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

import json
import os
import pwd
import queue
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


def _sandbox_plan() -> tuple:
    """(user to run as or None, sandbox key, sandbox on, note): one decision for one page and for a session."""
    user, note = run_as()
    key = user.pw_uid if user is not None else os.geteuid()
    with _SANDBOX_LOCK:
        sandbox = user is not None or os.geteuid() != 0
        sandbox = sandbox and _SANDBOX_USABLE.get(key, True)
        if not sandbox and not note:
            note = "this machine offers Chromium no usable sandbox"
    return user, key, sandbox, note


def load_page(binary: str, url: str, resolver_rules: str, pins: list, budget: float, slots: t.Any = None) -> dict:
    """Load ``url`` in headless Chromium: {"resources", "error", "seconds", "sandbox", "sandbox_note", "user"}.

    ``slots`` is the probe budget (``probe_budget.Budget``); ``budget`` (seconds) starts
    once its browser slot is held.
    """
    if slots is not None:
        with slots.browser():
            return load_page(binary, url, resolver_rules, pins, budget)
    user, key, sandbox, note = _sandbox_plan()
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


# --- several pages in one browser start, over the DevTools pipe ----------------------------------

# Chromium reads DevTools commands from fd 3 and writes answers and events to fd 4 (NUL-terminated JSON);
# Popen hands our pipe ends over as stdin/stdout and the shell moves them there (no preexec_fn in threads).
_PIPE_SHIM = 'exec 3<&0 4>&1 0</dev/null 1>/dev/null; exec "$@"'
# How long a browser that closed its pipe at start may take to exit (its stderr says why).
CLOSE_GRACE = 2.0


class _Overrun(Exception):
    """The page's budget ran out (the browser is killed)."""


class _Gone(Exception):
    """The browser exited or closed its pipe."""


class _DevTools:
    """A minimal DevTools client over the pipe: ``call`` waits for its answer, events are queued per session."""

    def __init__(self, proc: subprocess.Popen, to_browser: int, from_browser: int) -> None:
        self.proc, self._out, self._in = proc, to_browser, from_browser
        self._next = 0
        self._inbox: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        try:
            while True:
                chunk = os.read(self._in, 1 << 16)
                if not chunk:
                    break
                buf += chunk
                *messages, buf = buf.split(b"\0")
                for raw in messages:
                    try:
                        self._inbox.put(json.loads(raw))
                    except ValueError:
                        continue
        except OSError:
            pass
        self._inbox.put(None)  # end of the pipe: the browser is gone

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next += 1
        msg: dict = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._out, json.dumps(msg).encode() + b"\0")
        except OSError as exc:
            raise _Gone(str(exc)) from exc
        return self._next

    def next_message(self, deadline: float) -> dict:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Overrun()
        try:
            msg = self._inbox.get(timeout=left)
        except queue.Empty:
            raise _Overrun() from None
        if msg is None:
            self._inbox.put(None)
            raise _Gone("the browser closed its DevTools pipe")
        return msg

    def call(self, method: str, params: dict | None, session: str | None, deadline: float,
             events: list | None = None) -> dict:
        """The command's result; events seen meanwhile are appended to ``events``."""
        wanted = self.send(method, params, session)
        while True:
            msg = self.next_message(deadline)
            if msg.get("id") == wanted:
                if "error" in msg:
                    raise _Gone("%s: %s" % (method, msg["error"].get("message", msg["error"])))
                return msg.get("result", {})
            if events is not None and "method" in msg:
                events.append(msg)

    def close(self) -> None:
        """After the browser is gone: the reader sees the end of the pipe before its descriptor is closed
        (a descriptor closed under a blocked read could be reused by another thread's open)."""
        try:
            os.close(self._out)
        except OSError:
            pass
        self._reader.join(CLOSE_GRACE)
        try:
            os.close(self._in)
        except OSError:
            pass


def _argv_pipe(binary: str, workdir: str, resolver_rules: str, pins: list, sandbox: bool) -> list:
    argv = _argv(binary, "about:blank", workdir, resolver_rules, pins, sandbox)[:-2]
    # Virtual time is set per tab (Emulation.setVirtualTimePolicy), as --dump-dom does with its flag.
    argv = [arg for arg in argv if not arg.startswith("--virtual-time-budget=")]
    return argv + ["--remote-debugging-pipe", "about:blank"]


def _start(argv: list, workdir: str, user: t.Any) -> tuple:
    """(process, DevTools client, stderr log path) for a browser listening on its pipe."""
    env = {"HOME": workdir, "TMPDIR": os.path.join(workdir, "tmp"), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "LANG": "C.UTF-8", "DBUS_SESSION_BUS_ADDRESS": "disabled:",
           "XDG_CONFIG_HOME": os.path.join(workdir, ".config"), "XDG_CACHE_HOME": os.path.join(workdir, ".cache")}
    switch: dict = {}
    if user is not None:
        switch = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    commands_r, commands_w = os.pipe()
    answers_r, answers_w = os.pipe()
    for fd in (commands_w, answers_r):
        os.set_inheritable(fd, False)
    log_path = os.path.join(workdir, "stderr.log")
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(["/bin/sh", "-c", _PIPE_SHIM, "sh"] + argv, stdin=commands_r, stdout=answers_w,
                                    stderr=log, env=env, cwd=workdir, start_new_session=True, **switch)
    except BaseException:
        for fd in (commands_w, answers_r):
            os.close(fd)
        raise
    finally:
        os.close(commands_r)
        os.close(answers_w)
    return proc, _DevTools(proc, commands_w, answers_r), log_path


def _stderr(log_path: str) -> str:
    try:
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _open_tab(tools: _DevTools, deadline: float) -> str:
    """A fresh tab of the throwaway profile, its DevTools session attached and reporting console and log."""
    target = tools.call("Target.createTarget", {"url": "about:blank"}, None, deadline)["targetId"]
    session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True}, None, deadline)["sessionId"]
    for method in ("Log.enable", "Runtime.enable", "Page.enable"):
        tools.call(method, None, session, deadline)
    return session


def _visit(tools: _DevTools, session: str, url: str, deadline: float) -> tuple:
    """(console and log texts of the page, navigation error or "") for ``url`` in the session's tab."""
    # Virtual time stands still until the page is on its way, then timers and script-inserted resources
    # get VIRTUAL_TIME_MS of it, paused while fetches are pending (as --dump-dom's --virtual-time-budget).
    tools.call("Emulation.setVirtualTimePolicy", {"policy": "pause"}, session, deadline)
    events: list = []  # from the navigation on: nothing of the tab's previous page
    nav = tools.call("Page.navigate", {"url": url}, session, deadline, events)
    error = nav.get("errorText", "")
    if not error:
        policy = {"policy": "pauseIfNetworkFetchesPending", "budget": VIRTUAL_TIME_MS}
        tools.call("Emulation.setVirtualTimePolicy", policy, session, deadline, events)
    loaded = expired = bool(error)
    loaded = loaded or any(msg.get("method") == "Page.loadEventFired" for msg in events)
    expired = expired or any(msg.get("method") == "Emulation.virtualTimeBudgetExpired" for msg in events)
    while not (loaded and expired):
        msg = tools.next_message(deadline)
        if msg.get("sessionId") != session:
            continue
        events.append(msg)
        loaded = loaded or msg.get("method") == "Page.loadEventFired"
        expired = expired or msg.get("method") == "Emulation.virtualTimeBudgetExpired"
    texts = []
    for msg in events:
        if msg.get("sessionId") != session:
            continue
        params = msg.get("params", {})
        if msg.get("method") == "Log.entryAdded":
            texts.append(params.get("entry", {}).get("text", ""))
        elif msg.get("method") == "Runtime.consoleAPICalled":
            texts.append(" ".join(str(arg.get("value", "")) for arg in params.get("args", [])))
    return "\n".join(texts), error


def _session(binary: str, urls: list, resolver_rules: str, pins: list, budget: float) -> list:
    """Results for a prefix of ``urls`` (at least one) from one browser start; stops at the first overrun or crash."""
    user, key, sandbox, note = _sandbox_plan()
    base = {"resources": [], "error": "", "seconds": 0.0, "sandbox": sandbox, "sandbox_note": note,
            "user": user.pw_name if user is not None else pwd.getpwuid(os.geteuid()).pw_name}
    results: list = []
    started = time.monotonic()
    workdir = _workdir(user)
    proc = tools = None
    try:
        for attempt in (1, 2):
            proc, tools, log_path = _start(_argv_pipe(binary, workdir, resolver_rules, pins, base["sandbox"]),
                                           workdir, user)
            try:
                tools.call("Browser.getVersion", None, None, started + budget)
                break
            except _Gone:
                try:
                    proc.wait(CLOSE_GRACE)  # exited, or about to: its stderr says why
                except subprocess.TimeoutExpired:
                    pass
                if attempt == 1 and base["sandbox"] and _NO_SANDBOX.search(_stderr(log_path)):
                    with _SANDBOX_LOCK:
                        _SANDBOX_USABLE[key] = False
                    base["sandbox"], base["sandbox_note"] = False, "this machine offers Chromium no usable sandbox"
                    _kill(proc)
                    tools.close()
                    continue
                raise
        page_started = started
        tab = None
        for url in urls:
            out = dict(base, resources=[])
            results.append(out)
            try:
                # One tab for the site's pages: a same-site navigation keeps its renderer (a new tab starts one).
                tab = tab or _open_tab(tools, page_started + budget)
                text, error = _visit(tools, tab, url, page_started + budget)
                out["resources"] = _mixed(text)
                if error:
                    out["error"] = "Chromium could not load %s: %s" % (url, error)
            finally:
                out["seconds"] = round(time.monotonic() - page_started, 3)
                page_started = time.monotonic()
    except _Overrun:
        out = results[-1] if results else dict(base, resources=[])
        if not results:
            results.append(out)
            out["seconds"] = round(time.monotonic() - started, 3)
        out["error"] = "Chromium did not finish loading %s within %.0f s" % (urls[len(results) - 1], budget)
    except _Gone as exc:
        out = results[-1] if results else dict(base, resources=[])
        if not results:
            results.append(out)
            out["seconds"] = round(time.monotonic() - started, 3)
        rc = proc.poll() if proc is not None else None
        lines = _stderr(os.path.join(workdir, "stderr.log")).strip().splitlines()
        last = ([line for line in lines if ":FATAL:" in line] or lines)[-1:]
        out["error"] = "Chromium exited with %s on %s: %s" % (rc, urls[len(results) - 1], last or exc)
    except OSError as exc:
        out = dict(base, resources=[], error="could not run Chromium (%s): %s" % (binary, exc))
        results.append(out)
    finally:
        if proc is not None:
            # The profile is thrown away: no orderly Browser.close to wait for (a fifth of a second).  The whole
            # process group goes, helpers (renderers, zygote) included.
            _kill(proc)
        if tools is not None:
            tools.close()
        _remove(workdir)
    return results


def load_pages(binary: str, urls: list, resolver_rules: str, pins: list, budget: float, slots: t.Any = None) -> list:
    """``load_page`` for every URL of one site, in one browser start: one result dict per URL, in order.

    ``budget`` (seconds) is each page's: the first page's counts from the browser's start,
    which begins once ``slots`` (the probe budget) gives a browser slot.  A page that overruns
    its budget or crashes the browser is an error and the pages after it get a new browser.
    """
    if slots is not None:
        with slots.browser():
            return load_pages(binary, urls, resolver_rules, pins, budget)
    results: list = []
    while len(results) < len(urls):
        results += _session(binary, list(urls[len(results):]), resolver_rules, pins, budget)
    return results
