# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render one findings report as report.json, report.md, report.html and junit.xml.

Controller-only. The JSON shape is the public contract of ARCHITECTURE.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import importlib
import json
import os
import tempfile
import typing as t
from xml.etree import ElementTree as ET

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import root_cause
from ansible_collections.launchready.ops.plugins.module_utils.version import VERSION
from ansible_collections.launchready.ops.plugins.plugin_utils import load_report

REPORT_FILES = ("report.json", "report.md", "report.html", "junit.xml")

_STATUS_MARK = {F.PASS: "PASS", F.WARN: "WARN", F.FAIL: "FAIL", F.ERROR: "ERROR", F.SKIP: "SKIP"}

# Every module that defines CheckSpecs: loaded so the report can say why each risk matters,
# whichever stage's run renders it (a report merges the findings of several stages).
SPEC_MODULES = ("module_utils.app_env", "module_utils.checks_cache", "module_utils.checks_content",
                "module_utils.checks_deploy", "module_utils.checks_dns", "module_utils.checks_edge",
                "module_utils.checks_email", "module_utils.checks_http", "module_utils.checks_monitoring",
                "module_utils.checks_privacy", "module_utils.checks_renewal", "module_utils.checks_secrets",
                "module_utils.checks_tls", "module_utils.logs_pii", "plugin_utils.load_check")


@functools.lru_cache(maxsize=None)
def _catalog_loaded() -> bool:
    for name in SPEC_MODULES:
        try:
            importlib.import_module("ansible_collections.launchready.ops.plugins." + name)
        except ImportError:  # a family whose library is missing here (hdrh for load): no reason, still a report
            pass
    return True


def why(check_id: str) -> str:
    """The reason the check exists (its CheckSpec's ``why``), "" for an id no spec defines."""
    _catalog_loaded()
    return F.why_of(check_id)


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(site: str, findings: t.Iterable[F.Finding], generated: str | None = None) -> dict:
    """The report of ``findings``; ``risks`` holds one entry per root cause (echoes folded under it)."""
    items = root_cause.attach_blocked_by(F.checklist(findings))
    return {"site": site, "generated": generated or now_utc(), "version": VERSION,
            "findings": [f.to_dict() for f in items], "risks": root_cause.risks(items)}


def merge(previous: dict | None, report: dict) -> dict:
    """Keep the previous run's findings for checks this run did not execute.

    Later stages (deploy, email) add their checks to the same report; each run
    replaces only the check ids it ran.  The risks are worked out again over the merged
    findings, so a cause found by one stage folds the echoes another stage reported.
    """
    if not previous or previous.get("site") != report["site"]:
        return report
    ran = {f["check"] for f in report["findings"]}
    kept = [F.Finding.from_dict(f) for f in previous.get("findings", []) if f.get("check") not in ran]
    fresh = [F.Finding.from_dict(f) for f in report["findings"]]
    return build(report["site"], kept + fresh, report["generated"])


def _without_fingerprints(value: t.Any) -> t.Any:
    if isinstance(value, dict):
        return {k: ("(fingerprint)" if "fingerprint" in k else _without_fingerprints(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_fingerprints(v) for v in value]
    return value


def same(previous: dict | None, report: dict) -> bool:
    """Whether REPORT says what PREVIOUS said: the same findings of the same version.

    The timestamp changes every run, and so do secret fingerprints (an HMAC keyed per run, so
    that a report gives nobody a hash to test guesses against): neither is a change.
    """
    return (bool(previous) and previous.get("version") == report.get("version")
            and _without_fingerprints(previous.get("findings")) == _without_fingerprints(report.get("findings")))


def load(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _findings(report: dict) -> list:
    return [F.Finding.from_dict(f) for f in report["findings"]]


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def never_cache_note(report: dict) -> list:
    """[(path, why, status)] from cache.never_cache's findings: the paths that must never be cached."""
    out, seen = [], set()
    for f in report.get("findings", []):
        ev = f.get("evidence") or {}
        if f.get("check") == "cache.never_cache" and ev.get("path") and ev["path"] not in seen:
            seen.add(ev["path"])
            out.append((ev["path"], ev.get("why", ""), f.get("status", "")))
    return out


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def risks_of(report: dict) -> list:
    """The report's risks; worked out from its findings for a report written before risks existed."""
    if "risks" in report:
        return report["risks"]
    return root_cause.risks(root_cause.attach_blocked_by(_findings(report)))


def tally(items: list) -> dict:
    """Counts per status, with the checks kept from running by a risk (``blocked``) apart from real errors."""
    c = F.counts(items)
    c["blocked"] = len(root_cause.blocked(items))
    c[F.ERROR] -= c["blocked"]
    return c


def verdict_line(items: list) -> str:
    """"FAIL - 2 pass, 0 warn, 4 fail, 1 error, 26 blocked by the risks, 5 skip"."""
    c = tally(items)
    return "%s - %d pass, %d warn, %d fail, %d error, %d blocked by the risks, %d skip" % (
        F.overall(items).upper(), c[F.PASS], c[F.WARN], c[F.FAIL], c[F.ERROR], c["blocked"], c[F.SKIP])


def _folded(items: list, check_id: str) -> list:
    """The findings a risk keeps from running: (check, target) in checklist order."""
    return [(f.check, f.target) for f in items if root_cause.is_blocked(f) and check_id in f.evidence["blocked_by"]]


def _blocks_sentence(items: list, risk: dict) -> str:
    folded = _folded(items, risk["check"])
    if not folded:
        return ""
    checks = list(dict.fromkeys(c for c, _t in folded))
    return "also keeps %d check%s from running: %s" % (len(folded), "" if len(folded) == 1 else "s", ", ".join(checks))


def _fix_and_why(risk: dict) -> str:
    reason = why(risk["check"])
    return "%s *Why it matters: %s*" % (risk["fix"], reason) if reason else risk["fix"]


def render_markdown(report: dict) -> str:
    items = _findings(report)
    risks = risks_of(report)
    out = ["# Launch report: %s" % report["site"], "",
           "Generated %s by launchready.ops %s." % (report["generated"], report["version"]), "",
           "**Launch verdict: %s** - %s." % tuple(verdict_line(items).split(" - ", 1)), "",
           "## Risks, most important first", ""]
    if risks:
        out += ["| # | impact | status | check | targets | what | fix |", "|---|---|---|---|---|---|---|"]
        for r in risks:
            what = r["summary"]
            blocks = _blocks_sentence(items, r)
            if blocks:
                what += " **This %s.**" % blocks
            out.append("| %d | %s | %s | `%s` | %s | %s | %s |" % (
                r["rank"], r["impact"], r["status"], r["check"], _md_cell(", ".join(r["targets"])), _md_cell(what),
                _md_cell(_fix_and_why(r))))
    else:
        out.append("No open risks.")
    out += ["", "## Launch checklist", ""]
    for f in F.checklist(items):
        box = "x" if f.status in (F.PASS, F.SKIP) else " "
        if root_cause.is_blocked(f):
            out.append("- [ ] **BLOCKED** `%s` %s: by %s (%s)" % (
                f.check, f.target, ", ".join("`%s`" % c for c in f.evidence["blocked_by"]), f.summary))
            continue
        out.append("- [%s] **%s** `%s` %s: %s" % (box, _STATUS_MARK[f.status], f.check, f.target, f.summary))
    note = never_cache_note(report)
    if note:
        out += ["", "## Paths that must never be cached", "",
                "Neither the edge nor a browser may store these answers (`Cache-Control: private, no-store`):", ""]
        out += ["- `%s` (%s): %s" % (path, status, why) for path, why, status in note]
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem} .meta{color:#666} table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top;font-size:.92rem}
.verdict{font-size:1.4rem;padding:.6rem 1rem;border-radius:.4rem;display:inline-block}
.blocks,.why{color:#555;font-size:.85rem;margin-top:.3rem} .s-blocked{background:#f3f3f3}
.s-pass{background:#e3f6e5}.s-warn{background:#fff4d6}.s-fail,.s-error{background:#fde2e1}.s-skip{background:#eee}
code{font-size:.85rem}
"""


def _html_blocks(items: list, risk: dict) -> str:
    blocks = _blocks_sentence(items, risk)
    if not blocks:
        return ""
    folded = "".join("<li><code>%s</code> %s</li>" % (html.escape(c), html.escape(t))
                     for c, t in _folded(items, risk["check"]))
    return ("<details class='blocks'><summary>This %s</summary><ul>%s</ul></details>"
            % (html.escape(blocks), folded))


def _html_why(risk: dict) -> str:
    reason = why(risk["check"])
    return "<div class='why'>Why it matters: %s</div>" % html.escape(reason) if reason else ""


def render_html(report: dict) -> str:
    items = _findings(report)
    risks = risks_of(report)
    verdict = F.overall(items)
    e = html.escape
    rows = []
    for r in risks:
        cells = (r["status"], r["rank"], e(r["impact"]), e(r["status"]), e(r["check"]),
                 "<br>".join(e(t) for t in r["targets"]), e(r["summary"]), _html_blocks(items, r), e(r["fix"]),
                 _html_why(r))
        rows.append("<tr class='s-%s'><td>%d</td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td>"
                    "<td>%s%s</td><td>%s%s</td></tr>" % cells)
    risk_html = ("<table><tr><th>#</th><th>impact</th><th>status</th><th>check</th><th>targets</th>"
                 "<th>what is wrong</th><th>how to fix</th></tr>%s</table>" % "".join(rows)
                 if rows else "<p>No open risks.</p>")
    checklist_rows = "".join(
        "<tr class='s-%s'><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td></tr>"
        % (("blocked", "BLOCKED", e(f.check), e(f.target),
            "by %s: %s" % (e(", ".join(f.evidence["blocked_by"])), e(f.summary))) if root_cause.is_blocked(f)
           else (f.status, _STATUS_MARK[f.status], e(f.check), e(f.target), e(f.summary)))
        for f in F.checklist(items))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<title>Launch report: %(site)s</title><style>%(css)s</style></head><body>"
        "<h1>Launch report: %(site)s</h1><p class='meta'>Generated %(gen)s by launchready.ops %(ver)s</p>"
        "<p class='verdict s-%(verdict)s'>Launch verdict: %(VERDICT)s</p>"
        "<p>%(line)s.</p>"
        "<h2>Risks, most important first</h2>%(risks)s"
        "<h2>Launch checklist</h2><table><tr><th>status</th><th>check</th><th>target</th><th>result</th></tr>"
        "%(checklist)s</table>%(note)s</body></html>\n" % {
            "site": e(report["site"]), "css": _CSS, "gen": e(report["generated"]), "ver": e(report["version"]),
            "verdict": verdict, "VERDICT": verdict.upper(), "line": e(verdict_line(items).partition(" - ")[2]),
            "risks": risk_html, "checklist": checklist_rows,
            "note": _never_cache_html(report) + load_report.render_section(report)})


def _never_cache_html(report: dict) -> str:
    note = never_cache_note(report)
    if not note:
        return ""
    e = html.escape
    rows = "".join("<tr class='s-%s'><td><code>%s</code></td><td>%s</td><td>%s</td></tr>"
                   % (e(status), e(path), e(status.upper()), e(why)) for path, why, status in note)
    return ("<h2>Paths that must never be cached</h2><p>Neither the edge nor a browser may store these answers "
            "(<code>Cache-Control: private, no-store</code>).</p><table><tr><th>path</th><th>status</th>"
            "<th>why</th></tr>%s</table>" % rows)


def render_junit(report: dict) -> str:
    """One testcase per finding; fail -> failure, error -> error, skip -> skipped.

    A warn is a passing testcase with its summary in system-out, so CI stays green
    on best-practice gaps but the text is there to read.
    """
    items = _findings(report)
    c = F.counts(items)
    suite = ET.Element("testsuite", name="launchready.%s" % report["site"], tests=str(len(items)),
                       failures=str(c[F.FAIL]), errors=str(c[F.ERROR]), skipped=str(c[F.SKIP]),
                       timestamp=report["generated"])
    for f in F.checklist(items):
        case = ET.SubElement(suite, "testcase", classname=f.check, name="%s %s" % (f.check, f.target))
        message = "%s: %s" % (f.impact, f.summary)
        if f.status == F.FAIL:
            ET.SubElement(case, "failure", message=message, type=f.impact).text = f.fix
        elif f.status == F.ERROR:
            ET.SubElement(case, "error", message=message, type=f.impact).text = f.fix
        elif f.status == F.SKIP:
            ET.SubElement(case, "skipped", message=f.summary)
        elif f.status == F.WARN:
            ET.SubElement(case, "system-out").text = "WARN %s" % message
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


RENDERERS = {
    "report.json": render_json,
    "report.md": render_markdown,
    "report.html": render_html,
    "junit.xml": render_junit,
}


# A report names the site's weak spots and carries secret fingerprints: owner and group only.
REPORT_MODE = 0o640
REPORT_DIR_MODE = 0o750


def _atomic_write(path: str, text: str, mode: int = REPORT_MODE) -> None:
    # Write beside the target then rename: a reader never sees half a report. mkstemp makes
    # the file 0600, so it is never readable by others, even for a moment.
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write(directory: str, report: dict, mode: int = REPORT_MODE) -> dict:
    """Write every rendering of ``report`` into ``directory`` (files ``mode``); return {file name: path}.

    A directory this call creates is 0750; an existing one keeps the mode its owner chose.
    """
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=REPORT_DIR_MODE, exist_ok=True)
        os.chmod(directory, REPORT_DIR_MODE)  # makedirs' mode is filtered by the umask
    paths = {}
    for name, render in RENDERERS.items():
        path = os.path.join(directory, name)
        _atomic_write(path, render(report), mode)
        paths[name] = path
    return paths


def summary_lines(report: dict, limit: int = 10) -> list:
    """A short ranked summary for the terminal."""
    items = _findings(report)
    verdict, _sep, counted = verdict_line(items).partition(" - ")
    lines = ["%s: launch verdict %s (%s)" % (report["site"], verdict, counted)]
    risks = risks_of(report)
    for r in risks[:limit]:
        blocks = _blocks_sentence(items, r)
        lines.append("%2d. [%s/%s] %s %s: %s%s"
                     % (r["rank"], r["impact"], r["status"], r["check"], ", ".join(r["targets"]), r["summary"],
                        " (%s)" % blocks if blocks else ""))
    if len(risks) > limit:
        lines.append("    ... and %d more in the report" % (len(risks) - limit))
    return lines
