# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret scanner: a working tree, every blob of a git history, deploy config, built output, served text.

What it gives back are ``Hit`` records: kind, where (file or URL, line, commit, author
date) and a fingerprint.  A value never leaves this module: not in a hit, not in an
exception message.

- Whole files are scanned, not lines: a minified bundle is one line of megabytes and a
  secret in it is found with its line and column.
- ``*.map`` files are read as source maps: each ``sourcesContent`` entry is scanned as the
  source file it was, and a hit names ``bundle.js.map -> src/config.js`` and that file's line.
- History: ``git rev-list --all --objects`` (every branch, tag and remote ref, deleted files
  too) and ``git cat-file --batch`` read each distinct blob once; the commit that added a
  hit's blob (``git log --find-object``) and its author date are looked up only for blobs
  with hits.
- Allowlist: an inline marker (``launchready: allow-secret``, or detect-secrets'
  ``pragma: allowlist secret``) within MARKER_REACH characters of the value, and a baseline
  file of fingerprints.  A baseline carries its own HMAC key so its fingerprints stay valid
  from run to run; without one, every run draws a random key.

Plain Python: no Ansible imports.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import threading
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import secret_rules as R

SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache"}
MAX_FILE = 32 * 1024 * 1024
MAX_HISTORY_BLOBS = 200000
MAX_COMMIT_LOOKUPS = 500
GIT_TIMEOUT = 300
BASELINE_VERSION = 1
VAULT_HEADER = b"$ANSIBLE_VAULT;"
# A rule's regex runs only this close to one of its anchors (a match holds its anchor).
WINDOW_BEFORE = 200
WINDOW_AFTER = 800


@dataclasses.dataclass
class Hit:
    kind: str
    path: str  # file (relative to the scanned root), "file.map -> source", or a URL
    line: int
    column: int
    fingerprint: str
    rule: str  # where the pattern comes from: "detect-secrets:<Plugin>" or "launchready"
    commit: str | None = None
    author_date: str | None = None
    in_head: bool | None = None
    allowlisted: str | None = None  # "marker" or "baseline" when it is not reported

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def where(self) -> str:
        at = "%s:%d" % (self.path, self.line)
        return at + (" @ %s" % self.commit[:12] if self.commit else "")


# --- baseline ------------------------------------------------------------------------------------

def load_baseline(path: str | None) -> tuple:
    """(key bytes or None, {fingerprint: entry}) of the baseline at ``path``; (None, {}) when none."""
    if not path or not os.path.exists(path):
        return None, {}
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        key = bytes.fromhex(data["key"])
        entries = data.get("fingerprints") or {}
        if not isinstance(entries, dict) or len(key) < 16:
            raise ValueError("fingerprints must be a mapping and key at least 16 bytes")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError("baseline %s is not a launchready secret baseline: %s" % (path, exc)) from None
    return key, entries


def write_baseline(path: str, key: bytes, hits: t.Iterable[Hit], keep: dict | None = None) -> dict:
    """Write a baseline allowlisting ``hits`` (plus ``keep``); entries hold kind and place, never a value."""
    entries = dict(keep or {})
    for hit in hits:
        entries.setdefault(hit.fingerprint, {"kind": hit.kind, "path": hit.path,
                                             "reason": "allowlisted by the team (fixture, revoked or public)"})
    data = {"version": BASELINE_VERSION, "tool": "launchready.ops secret_scan",
            "note": "fingerprints are HMAC-SHA256 under this key; the key lets fingerprints stay stable, "
                    "it does not reveal a value", "key": key.hex(), "fingerprints": dict(sorted(entries.items()))}
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)
    return data


# --- scanning text -------------------------------------------------------------------------------

class Scanner:
    """Scan text with the rule set; fingerprints under ``key``; ``baseline`` {fingerprint: entry} allowlists."""

    def __init__(self, key: bytes | None = None, baseline: dict | None = None, keep_allowlisted: bool = False,
                 max_file: int = MAX_FILE) -> None:
        self.key = key or R.new_key()
        self.baseline = dict(baseline or {})
        self.keep_allowlisted = keep_allowlisted
        self.max_file = max_file
        self.rules = R.rules()
        self.bytes_scanned = 0
        self.files_scanned = 0

    @classmethod
    def with_baseline(cls, path: str | None, **kw: t.Any) -> "Scanner":
        key, entries = load_baseline(path)
        return cls(key=key, baseline=entries, **kw)

    def scan_text(self, text: str, path: str) -> list:
        """Hits in ``text``; a source map is read source by source."""
        self.bytes_scanned += len(text)
        self.files_scanned += 1
        if path.endswith(".map") or text[:40].lstrip().startswith('{"version":3'):
            mapped = self._scan_source_map(text, path)
            if mapped is not None:
                return mapped
        return self._scan(text, path)

    def _scan_source_map(self, text: str, path: str) -> list | None:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sourcesContent"), list):
            return None
        sources = data.get("sources") or []
        out = []
        for index, content in enumerate(data["sourcesContent"]):
            if isinstance(content, str) and content:
                name = sources[index] if index < len(sources) and isinstance(sources[index], str) else "#%d" % index
                out.extend(self._scan(content, "%s -> %s" % (path, name)))
        return out

    def _scan(self, text: str, path: str) -> list:
        low = text.lower()
        found: dict = {}  # (start, end) of the value -> Hit; a specific rule wins over the generic one
        for rule in self.rules:
            for m in _matches(rule, text, low):
                value = m.group(rule.group) if rule.group <= (m.re.groups or 0) else m.group(0)
                if not value or not R.accept(rule, value):
                    continue
                start, end = m.span(rule.group if rule.group <= (m.re.groups or 0) else 0)
                if any(s <= start < e or start <= s < end for s, e in found):
                    continue
                line = text.count("\n", 0, start) + 1
                column = start - text.rfind("\n", 0, start)
                fp = R.fingerprint(self.key, value)
                allowed = None
                # The marker counts on the value's own line, and no further than MARKER_REACH from it.
                line_start = max(low.rfind("\n", 0, m.start()) + 1, m.start() - R.MARKER_REACH)
                line_end = low.find("\n", m.end())
                line_end = min(len(low) if line_end < 0 else line_end, m.end() + R.MARKER_REACH)
                near = low[line_start:line_end]
                if any(marker in near for marker in R.ALLOW_MARKERS):
                    allowed = "marker"
                elif fp in self.baseline:
                    allowed = "baseline"
                if allowed and not self.keep_allowlisted:
                    found[(start, end)] = None
                    continue
                found[(start, end)] = Hit(kind=rule.kind, path=path, line=line, column=column, fingerprint=fp,
                                          rule=rule.source, allowlisted=allowed)
        return sorted((h for h in found.values() if h is not None), key=lambda h: (h.line, h.column))

    def scan_bytes(self, data: bytes, path: str) -> list:
        if len(data) > self.max_file or b"\0" in data[:8192] or data.startswith(VAULT_HEADER):
            return []  # binary, too big, or an Ansible Vault file (encrypted: nothing to read)
        return self.scan_text(data.decode("utf-8", errors="replace"), path)

    # --- files ---------------------------------------------------------------------------------

    def scan_paths(self, paths: t.Iterable[str], relative_to: str | None = None,
                   skip: t.Iterable[str] = ()) -> list:
        """Hits in every file under ``paths`` (files or directories); paths relative to ``relative_to``."""
        skip_real = {os.path.realpath(p) for p in skip if p}
        out = []
        for top in paths:
            for path in _files(top):
                if os.path.realpath(path) in skip_real:
                    continue
                try:
                    if os.path.getsize(path) > self.max_file:
                        continue
                    with open(path, "rb") as fh:
                        data = fh.read()
                except OSError:
                    continue
                base = relative_to or (top if os.path.isdir(top) else os.path.dirname(top))
                out.extend(self.scan_bytes(data, os.path.relpath(path, base)))
        return out

    # --- git history ---------------------------------------------------------------------------

    def scan_history(self, repo: str) -> list:
        """Hits in every blob reachable from any ref of ``repo``, one per (kind, fingerprint, path), with the commit
        that added it (the earliest) and its author date; ``in_head`` says whether HEAD still has that blob."""
        listing = _git(repo, "rev-list", "--all", "--objects")
        paths: dict = {}
        for row in listing.splitlines():
            sha, _sp, path = row.partition(" ")
            if path and sha not in paths:
                paths[sha] = path
        head = set()
        try:
            for row in _git(repo, "ls-tree", "-r", "HEAD").splitlines():
                head.add(row.split()[2])
        except RuntimeError:
            pass  # an empty repository has no HEAD
        by_blob: dict = {}
        for sha, data in _cat_blobs(repo, list(paths)[:MAX_HISTORY_BLOBS], self.max_file):
            hits = self.scan_bytes(data, paths[sha])
            if hits:
                by_blob[sha] = hits
        out: dict = {}
        for lookups, (sha, hits) in enumerate(sorted(by_blob.items())):
            commit, date = _introduced(repo, sha) if lookups < MAX_COMMIT_LOOKUPS else (None, None)
            for hit in hits:
                hit.commit, hit.author_date, hit.in_head = commit, date, sha in head
                key = (hit.kind, hit.fingerprint, hit.path)
                if key not in out or (date and (out[key].author_date or "~") > date):
                    out[key] = hit
        return sorted(out.values(), key=lambda h: (h.author_date or "", h.path, h.line))


def _windows(low: str, anchors: tuple) -> list | None:
    """Merged (start, end) spans around each anchor occurrence; None when they would cover most of the text."""
    spans = []
    budget = len(low) // (WINDOW_BEFORE + WINDOW_AFTER) // 4 + 1
    for anchor in anchors:
        at = low.find(anchor)
        while at >= 0:
            spans.append((max(0, at - WINDOW_BEFORE), at + len(anchor) + WINDOW_AFTER))
            if len(spans) > budget:
                return None
            at = low.find(anchor, at + 1)
    spans.sort()
    merged: list = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _matches(rule: R.Rule, text: str, low: str) -> t.Iterator:
    """The rule's matches, looking only near its anchors: a bundle without "sk_live_" costs one find()."""
    spans = _windows(low, rule.anchors)
    if spans is None:
        yield from rule.pattern.finditer(text)
        return
    for start, end in spans:
        yield from rule.pattern.finditer(text, start, min(end, len(text)))


def _files(top: str) -> t.Iterator[str]:
    if os.path.isfile(top):
        yield top
        return
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield path


def _git(repo: str, *args: str) -> str:
    proc = subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=GIT_TIMEOUT, check=False,
                          env=_git_env())
    if proc.returncode != 0:
        raise RuntimeError("git %s in %s failed: %s" % (args[0], repo, proc.stderr.decode("utf-8", "replace")[-300:]))
    return proc.stdout.decode("utf-8", errors="replace")


def _git_env() -> dict:
    # No pager, no prompt, no system or user config that could run commands (core.fsmonitor & co).
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    return env


def _cat_blobs(repo: str, shas: list, max_size: int) -> t.Iterator[tuple]:
    """(sha, bytes) of each blob among ``shas``, through one ``git cat-file --batch``."""
    if not shas:
        return
    proc = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_git_env())
    # A writer thread feeds the ids while this one reads: neither pipe can fill up and stall.
    writer = threading.Thread(target=_feed, args=(proc.stdin, shas), daemon=True)
    writer.start()
    out = proc.stdout
    try:
        while True:
            header = out.readline()
            if not header:
                break
            parts = header.split()
            if len(parts) < 3:
                continue  # "<sha> missing"
            sha, kind, size = parts[0].decode(), parts[1], int(parts[2])
            data = out.read(size)
            out.read(1)  # the newline after the object
            if kind == b"blob" and size <= max_size:
                yield sha, data
    finally:
        writer.join(GIT_TIMEOUT)
        proc.stdout.close()
        try:
            proc.wait(GIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _feed(stdin: t.Any, shas: list) -> None:
    try:
        stdin.write(("\n".join(shas) + "\n").encode())
    except OSError:
        pass
    finally:
        try:
            stdin.close()
        except OSError:
            pass


def _introduced(repo: str, blob: str) -> tuple:
    """(commit, author date ISO) of the earliest commit on any ref that added ``blob``."""
    try:
        text = _git(repo, "log", "--all", "--reverse", "--format=%H %aI", "--find-object=%s" % blob)
    except RuntimeError:
        return None, None
    first = text.strip().splitlines()[:1]
    if not first:
        return None, None
    commit, _sp, date = first[0].partition(" ")
    return commit, date or None
