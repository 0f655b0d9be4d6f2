# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app's environment file: which names the app needs, the file itself, and the secrets.env_* checks.

Plain Python, no Ansible imports. Values never leave this module in a result: diffs,
findings and messages carry names, and at most a short keyed fingerprint of a value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import findings as F

# Reads that fail when the name is missing: the app needs these for sure.
_REQUIRED = (
    re.compile(r"""os\.environ\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\]"""),
    re.compile(r"""os\.getenv\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\)"""),
    re.compile(r"""process\.env\.([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*(?:\|\||\?\?))"""),
    re.compile(r"""ENV\.fetch\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\)"""),
    re.compile(r"""process\.env\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\](?!\s*(?:\|\||\?\?))"""),
    # Vite and other ESM bundlers: the value is inlined at build time, so the build needs it.
    re.compile(r"""import\.meta\.env\.([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*(?:\|\||\?\?))"""),
    # Settings files: django-environ env("X") / env.str("X"), python-decouple config("X").
    re.compile(r"""(?<![\w.])(?:env(?:\.(?:str|int|bool|float|list|json|url|db_url))?|config)\(\s*["']"""
               r"""([A-Z_][A-Z0-9_]*)["']\s*\)"""),
)
# Reads with a default: the app copes without them.
_OPTIONAL = (
    re.compile(r"""os\.environ\.get\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""),
    re.compile(r"""os\.getenv\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*,"""),
    re.compile(r"""(?<![\w.])(?:env(?:\.\w+)?|config)\(\s*["']([A-Z_][A-Z0-9_]*)["']\s*,\s*default\s*="""),
)
SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".mts", ".jsx", ".tsx", ".vue", ".svelte", ".rb")
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", "static", "tests", "test"}
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_FILE = 2 * 1024 * 1024


def scan(paths: t.Iterable[str]) -> dict:
    """{"required": {name: [file:line, ...]}, "optional": {...}} for the env names the code reads."""
    required: dict = {}
    optional: dict = {}
    for top in paths:
        files = [top] if os.path.isfile(top) else []
        if os.path.isdir(top):
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
                files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(SOURCE_SUFFIXES)]
        for path in files:
            try:
                if os.path.getsize(path) > MAX_FILE:
                    continue
                with open(path, encoding="utf-8", errors="replace") as fh:
                    lines = fh.read().splitlines()
            except OSError:
                continue
            rel = os.path.relpath(path, top) if os.path.isdir(top) else os.path.basename(path)
            for number, line in enumerate(lines, 1):
                for pattern in _REQUIRED:
                    for name in pattern.findall(line):
                        required.setdefault(name, []).append("%s:%d" % (rel, number))
                for pattern in _OPTIONAL:
                    for name in pattern.findall(line):
                        optional.setdefault(name, []).append("%s:%d" % (rel, number))
    for name in required:
        optional.pop(name, None)
    return {"required": required, "optional": optional}


def missing(needed: t.Iterable[str], values: dict) -> list:
    """Names in NEEDED that VALUES does not define, or defines as empty."""
    return sorted({n for n in needed if values.get(n) in (None, "")})


# One random key per run (per process), never written anywhere: fingerprints made in one run
# compare equal for equal values, but a report gives nobody a hash to test guesses against
# offline (an unsalted SHA-256 prefix of a weak secret is found by trying candidates).
_RUN_KEY = secrets.token_bytes(32)


def fingerprint(value: t.Any, key: bytes | None = None) -> str:
    """A short keyed fingerprint (HMAC-SHA256 with the run's key): enough to tell two values apart in a report."""
    digest = hmac.new(key or _RUN_KEY, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return "hmac-sha256:" + digest[:12]


def render(values: dict, header: str = "") -> str:
    """The env file: NAME="value" lines (JSON string escapes), sorted by name."""
    lines = ["# %s" % line for line in header.splitlines()] if header else []
    for name in sorted(values):
        if not NAME_RE.match(name):
            raise ValueError("%r is not a valid environment variable name" % name)
        value = values[name]
        text = value if isinstance(value, str) else json.dumps(value) if not isinstance(value, (int, float)) \
            else str(value)
        lines.append("%s=%s" % (name, json.dumps(text)))
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict:
    """Read an env file written by ``render`` (and plain NAME=value lines)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _eq, raw = line.partition("=")
        name = name.strip()
        if name.startswith("export "):
            name = name[7:].strip()
        raw = raw.strip()
        if raw.startswith('"'):
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = raw.strip('"')
        elif raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
            raw = raw[1:-1]
        out[name] = raw
    return out


def name_diff(before: dict, after: dict) -> tuple:
    """(before text, after text): one line per name, values replaced by added/changed/unchanged markers."""
    names = sorted(set(before) | set(after))
    old, new = [], []
    for name in names:
        if name in before:
            old.append("%s=<%s>" % (name, "value"))
        if name in after:
            if name not in before:
                state = "added"
            elif before[name] != str(after[name]):
                state = "changed"
            else:
                state = "value"
            new.append("%s=<%s>" % (name, state))
    return "\n".join(old) + ("\n" if old else ""), "\n".join(new) + ("\n" if new else "")


# --- secrets.env_complete -------------------------------------------------------------------------

ENV_COMPLETE = F.CheckSpec(
    id="secrets.env_complete", impact=F.BLOCKER, stage="audit",
    title="Every environment variable the app reads is defined for the target environment",
    fix="Define the missing names for this environment: plain values in app_env_vars, secrets in the vaulted "
        "app_env_secrets (ansible-vault encrypt_string --vault-id launchready@prompt).",
    why="The app starts without a variable it reads and checkout or login breaks for customers.")


def env_complete(target: str, environment: str, declared: list, found: dict, values: dict) -> F.Finding:
    needed = sorted(set(declared) | set(found.get("required", {})))
    gone = missing(needed, values)
    ev = {"environment": environment, "required": needed, "declared": sorted(declared),
          "found_in_code": {n: refs[:3] for n, refs in sorted(found.get("required", {}).items())},
          "defined": sorted(n for n in values if values[n] not in (None, ""))}
    if gone:
        ev["missing"] = gone
        return F.make(ENV_COMPLETE, F.FAIL, target, "%d variable(s) the app needs are not defined for %s: %s"
                      % (len(gone), environment, ", ".join(gone)), evidence=ev)
    return F.make(ENV_COMPLETE, F.PASS, target, "all %d variables the app needs are defined for %s"
                  % (len(needed), environment), evidence=ev)


# --- secrets.env_separation -----------------------------------------------------------------------

ENV_SEPARATION = F.CheckSpec(
    id="secrets.env_separation", impact=F.HIGH, stage="audit",
    title="Production and staging share no secret value",
    fix="Generate a separate value for each environment (a new key per environment at each vendor) and put "
        "each in that environment's vault.",
    why="A staging leak (many more people, weaker controls) becomes a production compromise.")


def env_separation(target: str, secrets_by_env: dict, production: str = "production",
                   staging: str = "staging") -> F.Finding:
    prod = secrets_by_env.get(production)
    stage = secrets_by_env.get(staging)
    if not prod or not stage:
        return F.make(ENV_SEPARATION, F.SKIP, target, "needs the secrets of both %s and %s to compare"
                      % (production, staging), evidence={"environments": sorted(secrets_by_env)})
    stage_values: dict = {}
    for name, value in stage.items():
        if value not in (None, ""):
            stage_values.setdefault(str(value), []).append(name)
    shared = []
    for name, value in sorted(prod.items()):
        if value not in (None, "") and str(value) in stage_values:
            shared.append({"production": name, "staging": sorted(stage_values[str(value)]),
                           "fingerprint": fingerprint(value)})
    ev = {"compared": {production: sorted(prod), staging: sorted(stage)}}
    if shared:
        ev["shared"] = shared
        return F.make(ENV_SEPARATION, F.FAIL, target, "%d secret(s) have the same value in %s and %s: %s"
                      % (len(shared), production, staging, ", ".join(s["production"] for s in shared)), evidence=ev)
    return F.make(ENV_SEPARATION, F.PASS, target, "%s and %s share none of their %d secret values"
                  % (production, staging, len(prod)), evidence=ev)
