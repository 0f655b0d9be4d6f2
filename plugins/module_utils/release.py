# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release-tracked deploys on one host: layout, ledger, lock, atomic switch, cleanup.

Plain Python (stdlib only, no Ansible imports): the release module runs it on the
app host, and the unit tests run it on temporary directories.

Layout under the release root::

    releases/<name>/            one complete copy of the app per release
    releases/<name>/REVISION    {"release", "commit", "ref"}: written last, so a
                                release without it never counts as complete
    shared/                     paths linked into every release (.env, uploads, ...)
    current -> releases/<name>  switched by renaming a temporary link over it
    .launchready/releases.log   the ledger: one JSON object per line, append only
    .launchready/deploy.lock/   the deploy lock: a directory made with mkdir, owner.json inside

The ledger records every state change of a release: ``pending`` (prepared, not
live yet), ``live``, ``good`` (was live, replaced by a newer deploy), ``failed``
and ``rolled back``. The last line about a release says its state; the ``current``
link says which one is live, and wins when the two disagree (a deploy killed
between the switch and its ledger line).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import time
import typing as t
import urllib.parse
import uuid

LEDGER = os.path.join(".launchready", "releases.log")
LOCK_DIR = os.path.join(".launchready", "deploy.lock")
REPO_CACHE = os.path.join(".launchready", "repo.git")
REVISION = "REVISION"

PENDING = "pending"
LIVE = "live"
GOOD = "good"
FAILED = "failed"
ROLLED_BACK = "rolled back"
STATES = (PENDING, LIVE, GOOD, FAILED, ROLLED_BACK)
# Releases that ran as the live one and were not found bad: rollback and release_keep count these.
COMPLETE_STATES = (LIVE, GOOD)

# Release names: what this module creates (UTC time, then the short commit) or a
# user-given name of the same character set. Cleanup only ever touches these.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
GIT_TIMEOUT = 300


class ReleaseError(Exception):
    """A deploy step cannot go on; the message says what to do."""


class LockHeld(ReleaseError):
    def __init__(self, message: str, holder: dict, stale: bool) -> None:
        super().__init__(message)
        self.holder = holder
        self.stale = stale


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_name(commit: str, now: float | None = None) -> str:
    stamp = dt.datetime.fromtimestamp(now if now is not None else time.time(), dt.timezone.utc)
    return "%s-%s" % (stamp.strftime("%Y%m%dT%H%M%SZ"), (commit or "unknown")[:12])


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    """Write ``text`` beside ``path`` and rename it into place: readers see the old or the new file."""
    tmp = "%s.tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path) or ".")


class Root:
    """One release root on this host."""

    def __init__(self, path: str) -> None:
        if not os.path.isabs(path):
            raise ReleaseError("the release root must be an absolute path, got %r" % path)
        self.path = os.path.normpath(path)

    # --- layout -------------------------------------------------------------------------------

    @property
    def releases_dir(self) -> str:
        return os.path.join(self.path, "releases")

    @property
    def shared_dir(self) -> str:
        return os.path.join(self.path, "shared")

    @property
    def current(self) -> str:
        return os.path.join(self.path, "current")

    @property
    def ledger_path(self) -> str:
        return os.path.join(self.path, LEDGER)

    @property
    def lock_path(self) -> str:
        return os.path.join(self.path, LOCK_DIR)

    @property
    def repo_cache(self) -> str:
        return os.path.join(self.path, REPO_CACHE)

    def release_path(self, name: str) -> str:
        check_name(name)
        return os.path.join(self.releases_dir, name)

    def exists(self) -> bool:
        return os.path.isdir(self.releases_dir)

    @property
    def private_dir(self) -> str:
        return os.path.join(self.path, ".launchready")

    def ensure_layout(self) -> bool:
        changed = False
        for path in (self.path, self.releases_dir, self.shared_dir):
            if not os.path.isdir(path):
                os.makedirs(path, mode=0o755, exist_ok=True)
                changed = True
        if not os.path.isdir(self.private_dir):
            os.makedirs(self.private_dir, mode=0o700, exist_ok=True)
            changed = True
        make_private(self.private_dir)
        return changed

    # --- what is on disk -----------------------------------------------------------------------

    def live(self) -> str | None:
        """The release ``current`` points at, or None (no link yet, or a dangling one)."""
        try:
            target = os.readlink(self.current)
        except OSError:
            return None
        name = os.path.basename(os.path.normpath(target))
        return name if self.is_complete(name) else None

    def live_target(self) -> str | None:
        try:
            return os.readlink(self.current)
        except OSError:
            return None

    def revision(self, name: str) -> dict | None:
        try:
            with open(os.path.join(self.release_path(name), REVISION), encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError, ReleaseError):
            return None
        return data if isinstance(data, dict) else None

    def is_complete(self, name: str) -> bool:
        return self.revision(name) is not None

    def on_disk(self) -> list:
        """Release-shaped directory names under releases/, oldest name first."""
        try:
            names = os.listdir(self.releases_dir)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if NAME_RE.match(n) and not n.startswith(".")
                      and os.path.isdir(os.path.join(self.releases_dir, n)) and not os.path.islink(
                          os.path.join(self.releases_dir, n)))

    # --- ledger --------------------------------------------------------------------------------

    def ledger(self) -> list:
        """Every ledger entry, in the order written (unreadable lines are skipped)."""
        try:
            with open(self.ledger_path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line torn by a crash mid-write: the next lines still count
            if isinstance(entry, dict) and entry.get("release"):
                out.append(entry)
        return out

    def append(self, entry: dict) -> dict:
        """Append one line to the ledger and fsync it before returning."""
        os.makedirs(os.path.dirname(self.ledger_path), mode=0o700, exist_ok=True)
        created = not os.path.exists(self.ledger_path)
        line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
        fd = os.open(self.ledger_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(os.path.dirname(self.ledger_path))
        return entry

    def releases(self) -> list:
        """One merged record per release (ledger and disk), oldest first, with its current state."""
        merged: dict = {}
        order: list = []
        for entry in self.ledger():
            name = entry["release"]
            if name not in merged:
                merged[name] = {"release": name, "commit": None, "ref": None, "started": None, "finished": None,
                                "user": None, "host": None, "state": None, "note": None, "confirmed": False}
                order.append(name)
            record = merged[name]
            for key in ("commit", "ref", "started", "user", "host"):
                if entry.get(key) and not record.get(key):
                    record[key] = entry[key]
            if entry.get("finished"):
                record["finished"] = entry["finished"]
            if entry.get("state") in STATES:
                record["state"] = entry["state"]
            if entry.get("state") == LIVE:
                # A switch writes "live"; the deploy's last step writes "live" again with
                # "finished" once the app serves it and the health gate passed.
                record["confirmed"] = bool(entry.get("finished"))
            if entry.get("note"):
                record["note"] = entry["note"]
        disk = self.on_disk()
        for name in disk:
            if name not in merged:
                rev = self.revision(name) or {}
                merged[name] = {"release": name, "commit": rev.get("commit"), "ref": rev.get("ref"),
                                "started": None, "finished": None, "user": None, "host": None,
                                "state": GOOD if rev else PENDING, "note": "not in the ledger", "confirmed": False}
                order.append(name)
        live = self.live()
        out = []
        for name in order:
            record = dict(merged[name])
            # What the ledger last said, before current overrides it: a release current points
            # at whose ledger never said "live" went live in a deploy that did not finish.
            record["ledger_state"] = record["state"]
            record["on_disk"] = name in disk
            record["complete"] = record["on_disk"] and self.is_complete(name)
            if name == live:
                record["state"] = LIVE
            elif record["state"] == LIVE:
                # The ledger says live but current points elsewhere: a switch or rollback
                # that did not get to write its line; it was live, so it ran as good.
                record["state"] = GOOD
            record["live"] = name == live
            out.append(record)
        return out

    def live_confirmed(self) -> bool:
        """True when the deploy (or rollback) that made the live release live got to its end."""
        live = self.live()
        return any(r["release"] == live and r["ledger_state"] == LIVE and r["confirmed"] for r in self.releases())

    def previous_good(self, exclude: t.Iterable[str] = ()) -> str | None:
        """The newest complete release, other than the live one, that ran live and was not found bad."""
        skip = set(exclude) | {self.live()}
        for record in reversed(self.releases()):
            if record["release"] in skip or not record["complete"]:
                continue
            if record["state"] in COMPLETE_STATES:
                return record["release"]
        return None

    def find(self, ref: str) -> dict | None:
        """A release by name, then by commit prefix (>= 7 hex digits), then by the ref it was deployed from."""
        records = self.releases()
        for record in records:
            if record["release"] == ref:
                return record
        matches = []
        if re.fullmatch(r"[0-9a-f]{7,40}", ref or ""):
            matches = [r for r in records if (r["commit"] or "").startswith(ref)]
        if not matches:
            matches = [r for r in records if r["ref"] == ref]
        matches = [r for r in matches if r["complete"]]
        return matches[-1] if matches else None

    # --- switch --------------------------------------------------------------------------------

    def switch(self, name: str) -> bool:
        """Point ``current`` at releases/NAME atomically: a new link renamed over the old one.

        Returns False when it already points there. Never removes ``current`` first, so a
        reader always finds a complete release.
        """
        if not self.is_complete(name):
            raise ReleaseError("release %s is not complete (no %s file): it cannot go live" % (name, REVISION))
        target = os.path.join("releases", name)
        if self.live_target() == target:
            return False
        tmp = os.path.join(self.path, ".current.tmp-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8]))
        os.symlink(target, tmp)
        try:
            os.replace(tmp, self.current)
        except OSError:
            os.unlink(tmp)
            raise
        _fsync_dir(self.path)
        return True

    # --- lock ----------------------------------------------------------------------------------

    def lock_holder(self) -> dict | None:
        """owner.json of the held lock (with ``age``, ``stale``), or None when free."""
        if not os.path.isdir(self.lock_path):
            return None
        holder: dict = {}
        try:
            with open(os.path.join(self.lock_path, "owner.json"), encoding="utf-8") as fh:
                holder = json.load(fh)
        except (OSError, ValueError):
            # Taken, and its owner died before writing owner.json: age from the directory.
            holder = {"owner": "unknown (no owner.json)", "token": None, "ttl": 0}
            try:
                holder["since_epoch"] = os.stat(self.lock_path).st_mtime
            except OSError:
                return None
        now = time.time()
        age = now - float(holder.get("since_epoch") or now)
        ttl = float(holder.get("ttl") or 0)
        holder["age"] = round(age, 1)
        holder["stale"] = ttl <= 0 or age > ttl
        return holder

    def lock(self, owner: dict, ttl: int, force: bool = False, break_token: str | None = None) -> dict:
        """Take the deploy lock with mkdir (atomic); owner.json says who, when and for how long.

        A held lock refuses with LockHeld naming the holder, stale or not; ``force`` clears it
        (the operator's call), ``break_token`` clears it only if it still holds that token (an
        owner the controller proved dead).
        """
        os.makedirs(os.path.dirname(self.lock_path), mode=0o700, exist_ok=True)
        cleared = None
        for _attempt in range(3):
            try:
                os.mkdir(self.lock_path, 0o700)
            except FileExistsError:
                holder = self.lock_holder()
                if holder is None:
                    continue  # released between mkdir and the read: try again
                if force or (break_token and holder.get("token") == break_token):
                    cleared = holder
                    self._remove_lock()
                    continue
                raise LockHeld(describe_holder(holder), holder, holder["stale"]) from None
            token = uuid.uuid4().hex
            record = dict(owner, token=token, ttl=int(ttl), since=utcnow(), since_epoch=time.time())
            write_atomic(os.path.join(self.lock_path, "owner.json"), json.dumps(record, sort_keys=True) + "\n",
                         mode=0o600)
            return {"token": token, "owner": record, "cleared": cleared}
        raise ReleaseError("could not take the deploy lock %s: it keeps changing hands" % self.lock_path)

    def unlock(self, token: str | None, force: bool = False) -> bool:
        holder = self.lock_holder()
        if holder is None:
            return False
        if not force and holder.get("token") != token:
            raise ReleaseError("the deploy lock is held by someone else now (%s); not releasing it"
                               % describe_holder(holder))
        self._remove_lock()
        return True

    def _remove_lock(self) -> None:
        # Rename first, so a concurrent mkdir never sees a half-removed lock as free-then-held.
        grave = "%s.removed-%s" % (self.lock_path, uuid.uuid4().hex[:8])
        try:
            os.rename(self.lock_path, grave)
        except FileNotFoundError:
            return
        shutil.rmtree(grave, ignore_errors=True)

    # --- cleanup -------------------------------------------------------------------------------

    def cleanup_plan(self, keep: int, protect: t.Iterable[str] = ()) -> list:
        """Release directories cleanup would delete, oldest first.

        Kept: the newest KEEP complete releases (live and good ones; failed and unfinished
        never count), the live one, the previous good one and PROTECT. Failed and unfinished
        releases newer than the oldest kept one stay for inspection.
        """
        keep = max(int(keep), 1)
        records = [r for r in self.releases() if r["on_disk"]]
        protected = set(protect)
        live = self.live()
        if live:
            protected.add(live)
        prev = self.previous_good()
        if prev:
            protected.add(prev)
        complete = [r["release"] for r in records if r["complete"] and r["state"] in COMPLETE_STATES]
        kept = set(complete[-keep:]) | protected
        order = [r["release"] for r in records]
        oldest_kept = min((order.index(n) for n in kept if n in order), default=len(order))
        doomed = []
        for index, record in enumerate(records):
            name = record["release"]
            if name in kept:
                continue
            if record["complete"] and record["state"] in COMPLETE_STATES:
                doomed.append(name)
            elif index < oldest_kept:
                doomed.append(name)
        return doomed

    def sweep(self) -> list:
        """Remove what killed runs left behind: staging copies of dead processes, half-removed releases."""
        removed = []
        try:
            names = os.listdir(self.releases_dir)
        except FileNotFoundError:
            return removed
        for name in names:
            path = os.path.join(self.releases_dir, name)
            stale = name.startswith(".removing-")
            match = re.match(r"^\.staging-.*-(\d+)$", name)
            if match and not pid_alive(int(match.group(1))):
                stale = True
            if stale:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(name)
        return removed

    def remove_release(self, name: str) -> None:
        if name == self.live():
            raise ReleaseError("refusing to delete the live release %s" % name)
        path = self.release_path(name)
        grave = os.path.join(self.releases_dir, ".removing-%s-%s" % (name, uuid.uuid4().hex[:6]))
        os.rename(path, grave)
        shutil.rmtree(grave, ignore_errors=True)

    # --- shared paths --------------------------------------------------------------------------

    def link_shared(self, name: str, files: t.Iterable[str], dirs: t.Iterable[str]) -> list:
        """Link shared/PATH into the release for every linked file and directory; returns what changed.

        The release holds the app repository's content, which this collection does not trust:
        every path is checked before anything is touched, and a path whose parent resolves
        outside the release (a committed ``public -> /srv`` symlink) is refused, so no
        directory outside it is ever replaced.
        """
        release = self.release_path(name)
        paths = [(check_shared_path(f, "shared_files"), False) for f in files]
        paths += [(check_shared_path(d, "shared_dirs"), True) for d in dirs]
        real_release = os.path.realpath(release)
        for rel, is_dir in paths:
            parent = os.path.dirname(os.path.join(release, rel))
            real_parent = os.path.realpath(parent)
            if os.path.commonpath([real_release, real_parent]) != real_release:
                raise ReleaseError(
                    "shared path %r (%s): its parent %s resolves to %s, outside the release %s (a symlink in "
                    "the repository); refusing to link it"
                    % (rel, "shared_dirs" if is_dir else "shared_files", os.path.relpath(parent, release),
                       real_parent, release))
        changed = []
        for rel, is_dir in paths:
            source = os.path.join(self.shared_dir, rel)
            if is_dir:
                os.makedirs(source, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(source), exist_ok=True)
            link = os.path.join(release, rel)
            if os.path.islink(link) and os.readlink(link) == source:
                continue
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if os.path.isdir(link) and not os.path.islink(link):
                shutil.rmtree(link)
            elif os.path.lexists(link):
                os.unlink(link)
            os.symlink(source, link)
            changed.append(rel)
        return changed


def check_shared_path(rel: str, option: str) -> str:
    """A shared path as given, checked: relative, and no empty, ``.`` or ``..`` component."""
    text = rel if isinstance(rel, str) else ""
    stripped = text.rstrip("/")
    parts = stripped.split("/")
    if not stripped or text.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ReleaseError("%s entry %r must be a relative path inside the release, without empty, '.' or '..' "
                           "parts (for example public/uploads)" % (option, rel))
    return stripped


def make_private(path: str) -> None:
    """Take group and other access off PATH and everything under it (the repository cache, the
    ledger, the lock): once, for a tree an older version wrote world-readable."""
    try:
        if not os.lstat(path).st_mode & 0o077:
            return
    except FileNotFoundError:
        return
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            st = os.lstat(name)
            # A hard-linked file (an old local clone's objects) is also the source repository's: leave it.
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o077 and (stat.S_ISDIR(st.st_mode) or st.st_nlink == 1):
                os.chmod(name, st.st_mode & 0o7700)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ReleaseError("%r is not a release name (letters, digits, '.', '_' and '-')" % (name,))
    return name


def describe_holder(holder: dict) -> str:
    text = "the deploy lock is held by %s" % holder.get("owner", "unknown")
    if holder.get("pid"):
        text += " (pid %s on %s)" % (holder["pid"], holder.get("controller", "?"))
    if holder.get("ref"):
        text += ", deploying %s" % holder["ref"]
    if holder.get("since"):
        text += ", since %s" % holder["since"]
    text += " (%d s ago, TTL %s s)" % (holder.get("age", 0), holder.get("ttl", "?"))
    if holder.get("stale"):
        text += "; it is STALE (past its TTL): if no deploy is running, clear it with -e release_force_unlock=true"
    else:
        text += "; wait for that deploy to finish"
    return text


def default_owner(user: str | None = None) -> dict:
    return {"owner": "%s@%s" % (user or os.environ.get("USER") or "unknown", socket.gethostname()),
            "host": socket.gethostname(), "pid": os.getpid()}


# --- git ------------------------------------------------------------------------------------------

# scheme://user:password@ (any scheme) and, for the schemes git sends over curl, scheme://token@.
_PASSWORD_RE = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@:\s'\"]*):[^/@\s'\"]*@")
_TOKEN_USER_RE = re.compile(r"(?P<scheme>\b(?:https?|ftps?)://)[^/@:\s'\"]+@")
# Schemes whose userinfo git hands to curl: the credentials it holds are taken out of the URL.
_CREDENTIAL_SCHEMES = ("http", "https", "ftp", "ftps")
# A credential helper given on the command line: it answers from the environment, so the
# password is in no argv (ps, /proc/PID/cmdline) and in no file.
_ENV_CREDENTIAL_HELPER = ('!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" '
                          '"$LAUNCHREADY_GIT_USERNAME" "$LAUNCHREADY_GIT_PASSWORD"; }; f')


def redact(text: str, secrets: t.Iterable[str] = ()) -> str:
    """TEXT with every URL password shown as ``user:***@`` and each of SECRETS replaced by ``***``."""
    text = _PASSWORD_RE.sub(lambda m: "%s%s:***@" % (m.group("scheme"), m.group("user")), str(text))
    text = _TOKEN_USER_RE.sub(lambda m: "%s***@" % m.group("scheme"), text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def check_git_arg(option: str, value: str | None) -> str | None:
    """Refuse a value git would read as an option (``--upload-pack=...`` runs a command)."""
    if value is not None and str(value).startswith("-"):
        raise ReleaseError("%s %r starts with '-': git would take it for an option; give a repository URL or "
                           "path, a branch, tag or commit" % (option, redact(value)))
    return value


class GitSource:
    """Where to fetch from: the URL git is given, without its password, and the credentials apart.

    ``https://user:TOKEN@host/repo.git`` becomes ``https://host/repo.git`` for git (argv, the
    cache's config); user and token reach git through the environment and a credential helper.
    """

    def __init__(self, repo: str) -> None:
        check_git_arg("repo (release_repo)", repo)
        self.given = self.url = repo
        self.username = self.password = None
        parts = urllib.parse.urlsplit(repo) if "://" in repo else None
        if parts and parts.scheme.lower() in _CREDENTIAL_SCHEMES and "@" in parts.netloc:
            userinfo, _at, hostport = parts.netloc.rpartition("@")
            user, colon, password = userinfo.partition(":")
            self.username = urllib.parse.unquote(user)
            self.password = urllib.parse.unquote(password) if colon else ""
            self.url = urllib.parse.urlunsplit(parts._replace(netloc=hostport))

    @property
    def secrets(self) -> list:
        return [s for s in (self.password, self.username if not self.password else None) if s]

    def config_args(self) -> list:
        if self.username is None:
            return []
        # The empty value drops the helpers git is configured with, so none stores the token.
        return ["-c", "credential.helper=", "-c", "credential.helper=%s" % _ENV_CREDENTIAL_HELPER]

    def env(self) -> dict:
        if self.username is None:
            return {}
        return {"LAUNCHREADY_GIT_USERNAME": self.username, "LAUNCHREADY_GIT_PASSWORD": self.password or ""}

    def __str__(self) -> str:
        """The URL as given, password shown as ``***``: what messages name."""
        return redact(self.given)


def _git(args: list, cwd: str | None = None, timeout: float = GIT_TIMEOUT, source: GitSource | None = None) -> str:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    env.update(source.env() if source else {})
    secrets = source.secrets if source else []
    argv = ["git", *(source.config_args() if source else []), *args]
    # What git writes (the repository cache) is readable by this user only.
    old_umask = os.umask(0o077)
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise ReleaseError("git %s did not finish within %d s" % (args[0], timeout)) from None
    except FileNotFoundError:
        raise ReleaseError("git is not installed on this host") from None
    finally:
        os.umask(old_umask)
    if proc.returncode != 0:
        where = (" (%s)" % source) if source else ""
        raise ReleaseError(redact("git %s%s failed: %s" % (args[0], where, (proc.stderr or proc.stdout).strip()[-800:]),
                                  secrets))
    return proc.stdout


def resolve_remote(repo: str, ref: str) -> str | None:
    """The commit REF names in REPO without touching the disk (git ls-remote), or None if it is not a ref."""
    source = GitSource(repo)
    check_git_arg("version (release_version)", ref)
    if re.fullmatch(r"[0-9a-f]{40}", ref):
        return ref
    out = _git(["ls-remote", "--", source.url, ref, "refs/heads/%s" % ref, "refs/tags/%s" % ref,
                "refs/tags/%s^{}" % ref], source=source)
    found = {}
    for line in out.splitlines():
        sha, _tab, name = line.partition("\t")
        found[name] = sha
    for name in ("refs/tags/%s^{}" % ref, "refs/tags/%s" % ref, "refs/heads/%s" % ref, ref):
        if name in found:
            return found[name]
    return None


def update_cache(root: Root, repo: str) -> None:
    """Keep a bare mirror of REPO under .launchready/ (fetched, never checked out).

    The mirror's config holds the URL without its password; a cache an older version
    cloned with the token in its URL is rewritten here on the next fetch.
    """
    source = GitSource(repo)
    cache = root.repo_cache
    if not os.path.isdir(os.path.join(cache, "objects")):
        tmp = cache + ".tmp-%d" % os.getpid()
        shutil.rmtree(tmp, ignore_errors=True)
        # --no-local: a repository on this host is fetched like any other, never hard-linked, so
        # the cache's files are its own (0600 here, under umask 077) and the source's keep their modes.
        _git(["clone", "--mirror", "--no-local", "--quiet", "--", source.url, tmp], source=source)
        os.replace(tmp, cache)
        return
    _git(["remote", "set-url", "--", "origin", source.url], cwd=cache)
    _git(["fetch", "--prune", "--quiet", "--", "origin", "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
         cwd=cache, source=source)


def has_commit(root: Root, commit: str) -> bool:
    check_git_arg("commit", commit)
    if not os.path.isdir(os.path.join(root.repo_cache, "objects")):
        return False
    try:
        _git(["cat-file", "-e", "--end-of-options", "%s^{commit}" % commit], cwd=root.repo_cache, timeout=30)
    except ReleaseError:
        return False
    return True


def resolve_cached(root: Root, ref: str) -> str:
    check_git_arg("version (release_version)", ref)
    try:
        return _git(["rev-parse", "--verify", "--quiet", "--end-of-options", "%s^{commit}" % ref],
                    cwd=root.repo_cache).strip()
    except ReleaseError:
        raise ReleaseError("%r is not a branch, tag or commit of the repository" % ref) from None


def export(root: Root, commit: str, dest: str) -> None:
    """Write the tree of COMMIT into DEST (git archive | tar), like Capistrano's copy strategy."""
    check_git_arg("commit", commit)
    os.makedirs(dest, exist_ok=True)
    archive = subprocess.Popen(["git", "archive", "--format=tar", "--end-of-options", commit], cwd=root.repo_cache,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        untar = subprocess.run(["tar", "-x", "-C", dest], stdin=archive.stdout, capture_output=True,
                               timeout=GIT_TIMEOUT, check=False)
    finally:
        if archive.stdout:
            archive.stdout.close()
        err = archive.stderr.read().decode(errors="replace") if archive.stderr else ""
        archive.wait(timeout=GIT_TIMEOUT)
    if archive.returncode != 0 or untar.returncode != 0:
        raise ReleaseError("exporting %s failed: %s %s" % (commit, err.strip(),
                                                           untar.stderr.decode(errors="replace").strip()))


def write_revision(root: Root, name: str, commit: str, ref: str) -> None:
    """Mark releases/NAME complete: the last file a prepare writes."""
    write_atomic(os.path.join(root.release_path(name), REVISION),
                 json.dumps({"release": name, "commit": commit, "ref": ref}, sort_keys=True) + "\n")


def ledger_entry(name: str, state: str, **fields: t.Any) -> dict:
    if state not in STATES:
        raise ReleaseError("unknown release state %r" % state)
    entry = {"release": name, "state": state, "at": utcnow()}
    entry.update({k: v for k, v in fields.items() if v is not None})
    return entry


def pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, ValueError):
        return False
    try:
        with open("/proc/%d/stat" % int(pid), encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


# --- who holds the lock ---------------------------------------------------------------------------
# A host name says little (every CI image is "localhost"): a lock is only treated as abandoned
# when its holder ran on this very machine (machine-id), in this boot, and its process (pid and
# start time, so a reused pid does not count) is gone.

MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")


def _read_first_line(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.readline().strip() or None
    except OSError:
        return None


def machine_id(fallback: str | None = None) -> str | None:
    """This machine's id: /etc/machine-id, else /var/lib/dbus/machine-id, else one generated once into FALLBACK."""
    for path in MACHINE_ID_FILES:
        found = _read_first_line(path)
        if found:
            return found
    if not fallback:
        return None
    found = _read_first_line(fallback)
    if found:
        return found
    os.makedirs(os.path.dirname(fallback), mode=0o700, exist_ok=True)
    try:
        fd = os.open(fallback, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_first_line(fallback)  # another run made it first
    try:
        os.write(fd, (uuid.uuid4().hex + "\n").encode("ascii"))
    finally:
        os.close(fd)
    return _read_first_line(fallback)


def boot_id() -> str | None:
    return _read_first_line("/proc/sys/kernel/random/boot_id")


def process_start(pid: int) -> int | None:
    """Start time of PID in clock ticks since boot (/proc/PID/stat field 22), None when it does not run."""
    if not pid_alive(pid):
        return None
    try:
        with open("/proc/%d/stat" % int(pid), encoding="ascii", errors="replace") as fh:
            # Field 2 (the command) may hold spaces and parentheses: count from its closing one.
            return int(fh.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def process_identity(pid: int, fallback_id_file: str | None = None) -> dict:
    """What a lock records about the process that holds it, to tell later whether it still runs."""
    return {"pid": int(pid), "pid_start": process_start(pid), "machine_id": machine_id(fallback_id_file),
            "boot_id": boot_id()}


def holder_gone(holder: dict, me: dict) -> bool:
    """True only when the lock's holder provably no longer runs.

    That needs the holder's machine-id to be this machine's (ME, from process_identity) and
    then: another boot, or its pid not running, or running with another start time (reused).
    A lock written without these fields (an older version), or on another machine, is never
    taken over: it stays held until its owner frees it or an operator forces it.
    """
    if not holder.get("machine_id") or holder.get("pid_start") is None or not holder.get("pid"):
        return False
    if holder["machine_id"] != me.get("machine_id"):
        return False
    if holder.get("boot_id") and me.get("boot_id") and holder["boot_id"] != me["boot_id"]:
        return True
    try:
        pid, started = int(holder["pid"]), int(holder["pid_start"])
    except (TypeError, ValueError):
        return False
    return process_start(pid) != started
