"""make bench: a fleet of 50 healthy lab-like sites in one inventory at forks 10.

Seconds per site for Stage 1 (dns/http/tls) and for the full audit, with Chromium on and
off; targets: Stage 1 <= 0.5 s per site, full audit <= 3 s per site, zero errors. The sites
are tests/support/fleet_lab.py's (nginx on 127.0.7.1-50, Knot on 127.0.7.53).
Results go to stdout and .bench/fleet.json.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

from tests.support import ansible_run, fleet_lab  # noqa: E402

SITES = 50
FORKS = 10
STAGE1 = ["dns.", "http.", "tls."]
TARGETS = {"stage1": 0.5, "full_chromium": 3.0, "full_parse": 3.0}


def audit(inventory: str, reports: str, checks: list | None, **extra) -> dict:
    args = ["-i", inventory, "-f", str(FORKS), "launchready.ops.audit", "-e", "launch_report_dir=%s" % reports]
    if checks:
        args += ["-e", json.dumps({"audit_checks": checks})]
    if extra:
        args += ["-e", json.dumps(extra)]
    started = time.monotonic()
    proc = ansible_run.playbook(*args, timeout=3600)
    took = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit("audit playbook failed:\n%s" % proc.stdout[-3000:])
    errors = 0
    for apex in os.listdir(reports):
        with open(os.path.join(reports, apex, "report.json"), encoding="utf-8") as fh:
            errors += sum(1 for f in json.load(fh)["findings"] if f["status"] == "error")
    return {"total_s": round(took, 1), "s_per_site": round(took / SITES, 3), "errors": errors}


def main() -> None:
    stack = fleet_lab.start(fleet_lab.addresses("127.0.7", SITES), knot="127.0.7.53")
    results: dict = {"sites": SITES, "forks": FORKS, "cores": os.cpu_count()}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inventory = fleet_lab.inventory(stack, os.path.join(tmp, "fleet.yml"), python=sys.executable)
            runs = {"stage1": (STAGE1, {}), "full_parse": (None, {"launch_browser": "none"}),
                    "full_chromium": (None, {})}
            for name, (checks, extra) in runs.items():
                results[name] = audit(inventory, os.path.join(tmp, name), checks, **extra)
                results[name]["target_s_per_site"] = TARGETS[name]
                results[name]["met"] = (results[name]["s_per_site"] <= TARGETS[name]
                                        and results[name]["errors"] == 0)
                print(name, json.dumps(results[name]), flush=True)
    finally:
        fleet_lab.stop(stack)
    os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
    with open(os.path.join(ROOT, ".bench", "fleet.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
