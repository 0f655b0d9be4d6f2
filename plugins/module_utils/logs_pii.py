# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""privacy.logs_pii: personal data in the app's, edge's and chatbot's log files, found on the host.

Runs where the logs are (the ``logs_pii`` module on each app host). Reads every file the
globs of ``launch_log_paths`` match, line by line, with a byte budget per file, and reports
file and line of each e-mail address, phone number, card number (Luhn) and seeded customer
value, the value always redacted. Stdlib only: the app host needs nothing installed.
"""

from __future__ import annotations

import glob
import gzip
import os
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import pii

LOGS_PII = F.CheckSpec(
    "privacy.logs_pii", F.BLOCKER, "audit",
    "app, edge and chatbot logs hold no emails, phone or card numbers",
    "Stop logging request bodies, prompts and query strings; redact e-mail addresses, phone and card "
    "numbers in the logger itself (a logging filter) and purge or rotate out the files listed.",
    why="Personal data in logs is copied to every log store, backup and support laptop, out of reach of deletion "
        "requests: a breach waiting to happen.")

MAX_BYTES_PER_FILE = 64 * 1024 * 1024  # the tail of a huge log is read, not all of it
MAX_HITS_SHOWN = 50                    # evidence stays readable; the count is exact
MAX_LINE = 64 * 1024


def _open(path: str) -> t.IO[bytes]:
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def scan_file(path: str, known: dict, max_bytes: int = MAX_BYTES_PER_FILE) -> tuple:
    """([{file, line, kinds, text}], lines read) for one file; ``text`` is the redacted line."""
    hits: list = []
    lines = 0
    start = 0  # where reading began: line numbers count from there when a huge file was cut
    with _open(path) as fh:
        if not path.endswith(".gz"):
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                fh.seek(size - max_bytes)
                fh.readline()  # start on a line boundary
                start = fh.tell()
        read = 0
        for number, raw in enumerate(fh, start=1):
            read += len(raw)
            if read > max_bytes:
                break
            lines = number
            line = raw[:MAX_LINE].decode("utf-8", "replace").rstrip("\n")
            found = pii.find(line, known)
            if found:
                hit = {"file": path, "line": number, "kinds": sorted({h.kind for h in found}),
                       "text": pii.redact(line, found)[:300]}
                if start:
                    hit["from_byte"] = start
                hits.append(hit)
    return hits, lines


def scan(globs: t.Sequence[str], known: dict | None = None) -> dict:
    """{files: [...], hits: [...], missing: [globs matching nothing], unreadable: [{file, error}]}."""
    files: list = []
    missing: list = []
    for pattern in globs:
        matched = sorted(p for p in glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(p))
        if not matched:
            missing.append(pattern)
        files += [p for p in matched if p not in files]
    hits: list = []
    unreadable: list = []
    scanned: list = []
    for path in files:
        try:
            found, lines = scan_file(path, known or {})
        except OSError as exc:
            unreadable.append({"file": path, "error": exc.strerror or str(exc)})
            continue
        scanned.append({"file": path, "lines": lines, "hits": len(found)})
        hits += found
    return {"files": scanned, "hits": hits, "missing": missing, "unreadable": unreadable}


# Order ids and last fours are too short and common to mean anything in a log line.
LOOKED_FOR = ("email", "name", "address", "phone")


def known_values(by_field: t.Mapping[str, t.Iterable[str]]) -> dict:
    """{"customer email": [...], ...} from {field: [values]} (launch_customers' values, never passwords)."""
    out: dict = {}
    for field in LOOKED_FOR:
        values = [str(v).strip() for v in by_field.get(field) or () if str(v or "").strip()]
        if values:
            out["customer " + field] = values
    return out


def customer_fields(customers: t.Sequence[dict]) -> dict:
    """{field: [values]} of launch_customers for ``known_values``: what the audit role sends to a host."""
    out: dict = {}
    for customer in customers:
        for field, values in pii.customer_values(customer).items():
            if field in LOOKED_FOR:
                out.setdefault(field, []).extend(values)
    return out


def finding(host: str, globs: t.Sequence[str], result: dict) -> F.Finding:
    """The privacy.logs_pii finding of one host from ``scan``'s result."""
    target = host
    evidence = {"host": host, "globs": list(globs), "files": result["files"], "missing": result["missing"],
                "unreadable": result["unreadable"], "hits": result["hits"][:MAX_HITS_SHOWN],
                "hit_count": len(result["hits"])}
    if result["hits"]:
        first = result["hits"][0]
        by_file = sorted({h["file"] for h in result["hits"]})
        where = "%s:%d" % (first["file"], first["line"])
        if first.get("from_byte"):
            where += " (line counted from byte %d: only the file's last %d MiB were read)" % (
                first["from_byte"], MAX_BYTES_PER_FILE // (1024 * 1024))
        return F.make(LOGS_PII, F.FAIL, target,
                      "%d log line(s) on %s hold personal data (%s), first at %s"
                      % (len(result["hits"]), host, ", ".join(sorted({k for h in result["hits"] for k in h["kinds"]})),
                         where),
                      evidence=dict(evidence, files_with_hits=by_file))
    if result["unreadable"]:
        return F.make(LOGS_PII, F.ERROR, target, "could not read %d log file(s) on %s, e.g. %s: %s"
                      % (len(result["unreadable"]), host, result["unreadable"][0]["file"],
                         result["unreadable"][0]["error"]), evidence=evidence)
    if not result["files"]:
        return F.make(LOGS_PII, F.ERROR, target, "no log file on %s matches launch_log_paths (%s)"
                      % (host, ", ".join(globs)), evidence=evidence)
    return F.make(LOGS_PII, F.PASS, target, "%d log file(s) on %s, %d line(s): no e-mail, phone, card number "
                  "or customer value" % (len(result["files"]), host, sum(f["lines"] for f in result["files"])),
                  evidence=evidence)


NO_PATHS = "no log file globs given (launch_log_paths): nothing to scan"


def skipped(target: str, reason: str) -> F.Finding:
    return F.make(LOGS_PII, F.SKIP, target, reason)
