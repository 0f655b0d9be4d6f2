"""make bench: the Stage 1 audit of the lab site beside testssl.sh --fast and sslscan.

Peers run in the same session against the same edge (127.0.0.10, SNI shop.test), so the
figures are ratios on this machine, not absolute promises. Results go to stdout and to
.bench/results.json.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

import yaml  # noqa: E402

from ansible_collections.launchready.ops.plugins.module_utils import audit  # noqa: E402
from tests.support import ansible_run, lab  # noqa: E402

FLEET = 20
# The Stage 1 families the testssl.sh target is about; the full audit (all stages' families,
# with the rate-limit burst and the headless browser) is reported beside it.
STAGE1 = ["dns.", "http.", "tls."]


def timed(argv, timeout=600) -> tuple:
    started = time.monotonic()
    proc = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=ansible_run.env())
    return time.monotonic() - started, proc


def bench_library(site_vars: dict, checks=None, rounds: int = 5) -> dict:
    times, result = [], None
    for _round in range(rounds):
        started = time.monotonic()
        result = audit.run(site_vars, checks=checks)
        times.append(time.monotonic() - started)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "checks": len(result), "statuses": sorted({f.status for f in result})}


def bench_playbook(inventory: str, report_dir: str, checks=None) -> float:
    extra = ["-e", json.dumps({"audit_checks": checks})] if checks else []
    took, proc = timed(["ansible-playbook", "-i", inventory, "launchready.ops.audit",
                        "-e", "launch_report_dir=%s" % report_dir, *extra])
    if proc.returncode != 0:
        raise SystemExit("audit playbook failed:\n%s" % proc.stdout[-3000:])
    return took


def fleet_inventory(site_vars: dict, directory: str) -> str:
    # 20 inventory sites with the lab's description: the controller does 20x the work.
    one = dict(site_vars, ansible_connection="local", ansible_python_interpreter=sys.executable)
    hosts = {"site%02d.shop.test" % n: one for n in range(1, FLEET + 1)}
    path = os.path.join(directory, "fleet.yml")
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump({"sites": {"hosts": hosts}}, fh)
    return path


def main() -> None:
    facts = lab.ensure_up()
    site_vars = dict(facts["site_vars"])
    edge = facts.get("edge_address", "127.0.0.10")
    results = {}

    results["audit_library"] = bench_library(site_vars, STAGE1)
    results["full_audit_library"] = bench_library(site_vars, rounds=3)
    with tempfile.TemporaryDirectory() as tmp:
        results["audit_playbook_s"] = round(bench_playbook("inventories/lab", tmp, STAGE1), 2)
        results["full_audit_playbook_s"] = round(bench_playbook("inventories/lab", tmp), 2)
        fleet_s = bench_playbook(fleet_inventory(site_vars, tmp), tmp, STAGE1)
        results["fleet"] = {"sites": FLEET, "checks": STAGE1, "total_s": round(fleet_s, 2), "s_per_site": round(fleet_s / FLEET, 3)}

    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if testssl:
        took, proc = timed([testssl, "--fast", "--quiet", "--color", "0", "--warnings", "off",
                            "--ip", edge, "--nodns", "min", "https://%s/" % site_vars["launch_domain"]], timeout=900)
        results["testssl_fast_s"] = round(took, 2)
        results["testssl_rc"] = proc.returncode
    sslscan = shutil.which("sslscan")
    if sslscan:
        took, proc = timed([sslscan, "--no-colour", "--sni-name=%s" % site_vars["launch_domain"], "%s:443" % edge])
        results["sslscan_s"] = round(took, 2)
        results["sslscan_rc"] = proc.returncode

    lib = results["audit_library"]["median_s"]
    play = results["audit_playbook_s"]
    for peer in ("testssl_fast_s", "sslscan_s"):
        if peer in results:
            results["ratio_audit_library_to_%s" % peer[:-2]] = round(lib / results[peer], 4)
            results["ratio_audit_playbook_to_%s" % peer[:-2]] = round(play / results[peer], 4)

    os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
    with open(os.path.join(ROOT, ".bench", "results.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    print(json.dumps(results, indent=2))
    if "testssl_fast_s" in results:
        target = results["testssl_fast_s"] / 20
        print("target: whole Stage 1 audit under 1/20 of testssl.sh --fast (%.2f s): library %.3f s %s, "
              "playbook %.2f s %s" % (target, lib, "MET" if lib < target else "MISSED",
                                      play, "MET" if play < target else "MISSED"))


if __name__ == "__main__":
    main()
