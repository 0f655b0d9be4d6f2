# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CI secrets gate: committed secrets, env completeness and env separation, as findings and as files.

``run`` scans the app's repository (working tree, extra paths, every commit of every
branch) with the secret scanner, reads the env names the code needs (``app_env.scan``:
``os.environ[...]``, ``os.getenv``, ``process.env.X``, ``import.meta.env.X``, settings
files) and checks them against each environment's definitions (``app_env.env_complete``),
and compares production's secret values with staging's (``app_env.env_separation``).

Outputs: JSON, SARIF 2.1.0 (code-scanning UIs) and, from the command line, JUnit XML.
None holds a value: hits carry a fingerprint, env findings carry names.

The command line (no Ansible knowledge needed) is plugins/plugin_utils/secret_gate_cli.py,
wrapped by scripts/secrets-gate.
"""

from __future__ import annotations

import json
import os
import re
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import app_env
from ansible_collections.launchready.ops.plugins.module_utils import checks_secrets as C
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils import secret_rules as R
from ansible_collections.launchready.ops.plugins.module_utils import secret_scan as S
from ansible_collections.launchready.ops.plugins.module_utils.version import VERSION

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Names whose values are secrets: only these are compared between production and staging
# (a shared LOG_LEVEL=info is no leak).
SECRET_NAME = re.compile(r"(?i)(secret|passw|token|private|credential|api_?key|_key$|^key$|dsn|database_url|db_url|auth)")


def read_env_file(path: str) -> dict:
    """NAME=value (.env), or a JSON/YAML mapping, as {name: value}."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith((".json", ".yml", ".yaml")):
        if path.endswith(".json"):
            data = json.loads(text)
        else:
            import yaml  # PyYAML comes with ansible-core
            data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise ValueError("%s must hold a mapping of variable name to value" % path)
        return {str(k): "" if v is None else v for k, v in data.items()}
    return app_env.parse(text)


def secret_values(values: dict, scanner: S.Scanner) -> dict:
    """The part of ``values`` that is secret: by its name, or because the scanner flags the value."""
    out = {}
    for name, value in values.items():
        text = "" if value is None else str(value)
        if text and (SECRET_NAME.search(name) or scanner.scan_text("%s=%s\n" % (name, text), "env")):
            out[name] = text
    return out


def run(repo: str, paths: t.Sequence[str] = (), history: bool = True, baseline: str | None = None,
        environments: dict | None = None, production: str = "production", staging: str = "staging",
        code_paths: t.Sequence[str] | None = None) -> dict:
    """{"findings": [Finding], "hits": {"files": [Hit], "history": [Hit]}, "scanner": Scanner, "baseline": path}.

    ``environments`` maps an environment name to its {NAME: value} definitions.
    """
    if not os.path.isdir(repo):
        raise ValueError("repo %s is not a directory" % repo)
    if baseline is None and os.path.exists(os.path.join(repo, C.DEFAULT_BASELINE)):
        baseline = os.path.join(repo, C.DEFAULT_BASELINE)
    scan = S.Scanner.with_baseline(baseline)
    target = os.path.abspath(repo)
    files = C.scan_files(scan, repo, paths, baseline)
    out = [C.files_finding(target, files, scan, [repo] + list(paths))]
    hist: list = []
    if history:
        if os.path.exists(os.path.join(repo, ".git")):
            hist = scan.scan_history(repo)
            out.append(C.history_finding(target, hist, scan))
        else:
            out.append(F.make(C.REPO_HISTORY, F.SKIP, target, "%s is not a git repository" % repo))
    environments = dict(environments or {})
    if environments:
        found = app_env.scan(list(code_paths or [repo]))
        for name in sorted(environments):
            out.append(app_env.env_complete(target, name, [], found, environments[name]))
        secrets_by_env = {name: secret_values(values, scan) for name, values in environments.items()}
        out.append(app_env.env_separation(target, secrets_by_env, production, staging))
    return {"findings": out, "hits": {"files": files, "history": hist}, "scanner": scan, "baseline": baseline}


def verdict(found: t.Iterable[F.Finding]) -> str:
    return F.overall(found)


def update_baseline(result: dict, path: str) -> dict:
    """Allowlist every current hit in the baseline at ``path`` (kept entries stay); returns the baseline data."""
    scan = result["scanner"]
    hits = result["hits"]["files"] + result["hits"]["history"]
    return S.write_baseline(path, scan.key, hits, keep=scan.baseline)


# --- outputs -------------------------------------------------------------------------------------

def to_json(result: dict) -> dict:
    found = result["findings"]
    return {"tool": "launchready.ops secrets gate", "version": VERSION, "verdict": verdict(found),
            "counts": F.counts(found), "findings": [f.to_dict() for f in found],
            "hits": {k: [h.to_dict() for h in v] for k, v in result["hits"].items()}}


def _location(path: str, line: int, column: int = 1) -> dict:
    uri = path.split(" -> ", 1)[0]  # a source map's own file; the source inside it is in the message
    return {"physicalLocation": {"artifactLocation": {"uri": uri},
                                 "region": {"startLine": max(1, line), "startColumn": max(1, column)}}}


def to_sarif(result: dict) -> dict:
    """SARIF 2.1.0: one result per secret hit (rule = kind) and per failing env finding."""
    rules: dict = {}
    results = []
    descriptions = {r.kind: r.description or r.kind for r in R.rules()}
    for scope, hits in result["hits"].items():
        for h in hits:
            if h.kind not in rules:
                rules[h.kind] = {"id": h.kind, "shortDescription": {"text": descriptions.get(h.kind, h.kind)},
                                 "properties": {"source": h.rule}}
            text = "%s (%s)" % (h.kind, h.fingerprint)
            if " -> " in h.path:
                text += " in source %s of the map" % h.path.split(" -> ", 1)[1]
            if h.commit:
                text += " in commit %s (%s)%s" % (h.commit[:12], h.author_date or "?",
                                                  "" if h.in_head else ", no longer in HEAD")
            results.append({"ruleId": h.kind, "level": "error", "message": {"text": text},
                            "locations": [_location(h.path, h.line, h.column)],
                            "partialFingerprints": {"launchready/secret": h.fingerprint},
                            "properties": {"scope": scope}})
    for f in result["findings"]:
        if f.check.startswith("secrets.env_") and f.status == F.FAIL:
            rules.setdefault(f.check, {"id": f.check, "shortDescription": {"text": f.check}})
            refs = [r for refs in f.evidence.get("found_in_code", {}).values() for r in refs
                    if f.check == "secrets.env_complete"]
            loc = []
            for name in f.evidence.get("missing", []):
                for ref in f.evidence.get("found_in_code", {}).get(name, [])[:1]:
                    path, _c, line = ref.rpartition(":")
                    loc.append(_location(path, int(line) if line.isdigit() else 1))
            results.append({"ruleId": f.check, "level": "error", "message": {"text": f.summary},
                            "locations": loc[:10] or ([_location(refs[0].rpartition(":")[0], 1)] if refs else [])})
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "launchready.ops secrets gate", "version": VERSION,
                                          "informationUri": "https://github.com/launchready/ops",
                                          "rules": list(rules.values())}},
                      "results": results}]}


def _write(path: str, text: str) -> None:
    # 0600: a report names where secrets are; nobody else on the machine needs that map.
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)


def write_outputs(result: dict, out_dir: str, junit: bool = True) -> dict:
    """secrets.json, secrets.sarif and (on the controller) junit.xml in ``out_dir``; {name: path}."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {"json": os.path.join(out_dir, "secrets.json"), "sarif": os.path.join(out_dir, "secrets.sarif")}
    _write(paths["json"], json.dumps(to_json(result), indent=2, sort_keys=True) + "\n")
    _write(paths["sarif"], json.dumps(to_sarif(result), indent=2) + "\n")
    if junit:
        from ansible_collections.launchready.ops.plugins.plugin_utils import reports
        report = reports.build(os.path.basename(os.path.abspath(out_dir)) or "secrets", result["findings"])
        paths["junit"] = os.path.join(out_dir, "junit.xml")
        _write(paths["junit"], reports.render_junit(report))
    return paths
