"""make bench (Stage 2): the edge checks against the lab, timed; the rate-limit probe; content.mixed
with headless Chromium against the HTML/CSS parse fallback.

- ``edge_checks``: edge.*, cache.*, content.* and tls.auto_renew against the lab's shop.test (the
  edge_nginx role's nginx), median and min of a few rounds, and the statuses they gave.
- ``rate_limit``: per route, how many POSTs the probe sent before the 429 and how long it took.
- ``mixed_content``: the pages of the lab and of the edge variants (tests/support/edge_lab.py: a
  clean page, an http:// script in the markup, one added by a script at run time), checked
  both ways: seconds per method and whether the verdicts agree (they should not on the page
  whose http:// script only exists at run time).

Results go to stdout and to .bench/edge.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

from ansible_collections.launchready.ops.plugins.module_utils import audit  # noqa: E402
from tests.support import edge_lab, lab  # noqa: E402

STAGE2 = ["edge.", "cache.", "content.", "tls.auto_renew"]
ROUNDS = 3


def timed(site_vars: dict, checks: list) -> tuple:
    started = time.monotonic()
    found = audit.run(site_vars, checks=checks)
    return time.monotonic() - started, found


def bench_edge_checks(site_vars: dict) -> tuple:
    times, found = [], []
    for _round in range(ROUNDS):
        took, found = timed(site_vars, STAGE2)
        times.append(took)
        time.sleep(2.5)  # let the login and chatbot limits drain between rounds
    counts: dict = {}
    for f in found:
        counts[f.status] = counts.get(f.status, 0) + 1
    return {"rounds": ROUNDS, "median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "findings": len(found), "statuses": counts}, found


def rate_limit_figures(found: list) -> dict:
    out = {}
    for f in found:
        if f.check == "edge.rate_limit" and f.evidence.get("url"):
            ev = f.evidence
            out[ev["url"]] = {"status": f.status, "requests_sent": ev["sent"], "first_429_at": ev["first_throttled"],
                              "seconds": ev["seconds"], "limit": ev["limit"]}
    return out


def mixed_both_ways(targets: list) -> dict:
    per_method: dict = {"chromium": [], "parse": []}
    pages, agree, disagree = 0, 0, []
    for site_vars in targets:
        verdicts = {}
        for method, browser in (("chromium", "auto"), ("parse", "none")):
            took, found = timed(dict(site_vars, launch_browser=browser), ["content.mixed"])
            per_method[method].append(took)
            verdicts[method] = {f.target: (f.status, f.evidence.get("method")) for f in found}
        for target, (status, used) in verdicts["chromium"].items():
            other = verdicts["parse"].get(target, (None, None))[0]
            pages += 1
            if status == other:
                agree += 1
            else:
                disagree.append({"page": target, "chromium": status, "parse": other, "chromium_method": used})
    return {"pages": pages, "agree": agree, "disagree": disagree,
            "chromium_s_total": round(sum(per_method["chromium"]), 3),
            "parse_s_total": round(sum(per_method["parse"]), 3),
            "chromium_s_per_page": round(sum(per_method["chromium"]) / max(pages, 1), 3),
            "parse_s_per_page": round(sum(per_method["parse"]) / max(pages, 1), 3)}


def main() -> None:
    facts = lab.ensure_up()
    site_vars = dict(facts["site_vars"])
    results = {}
    results["edge_checks"], found = bench_edge_checks(site_vars)
    results["rate_limit"] = rate_limit_figures(found)
    stack = edge_lab.start()
    try:
        targets = [site_vars] + [edge_lab.site_vars(stack, apex) for apex in
                                 ("good.edge.test", "mixed.edge.test", "dynmixed.edge.test")]
        results["mixed_content"] = mixed_both_ways(targets)
    finally:
        edge_lab.stop(stack)
    os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
    with open(os.path.join(ROOT, ".bench", "edge.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
