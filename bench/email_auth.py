"""make bench, email part: the email.* checks beside checkdmarc (PyPI), same nameserver, same domains.

1. The lab's domain (shop.test, served by the lab's Knot): wall time of the email.* checks
   (with and without the DKIM signing proof) and of checkdmarc.check_domains, median of
   ROUNDS runs each, caches emptied between runs, and what each reports.
2. The broken mail domains of tests/support/email_zones.py, served by a throwaway Knot on
   127.0.0.95: for each, what the catalog expects, what email.* reports and what checkdmarc
   reports (its SPF, DMARC and MX sections; it has no DKIM selector check).

Results go to stdout (a Markdown table) and to .bench/email.json. (Not named email.py: a
script's folder comes first on sys.path, and that name would hide the standard library's
email package from everything the script imports.)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

import checkdmarc  # noqa: E402
import checkdmarc.utils  # noqa: E402

from ansible_collections.launchready.ops.plugins.module_utils import audit  # noqa: E402
from ansible_collections.launchready.ops.plugins.module_utils import findings as F  # noqa: E402
from tests.support import email_zones as Z  # noqa: E402
from tests.support import lab  # noqa: E402
from tests.support.knot import KnotServer  # noqa: E402

ROUNDS = 10
VARIANT_KNOT = "127.0.0.95"
SECTIONS = {"email.spf": "spf", "email.spf_senders": "spf", "email.dmarc": "dmarc", "email.mx": "mx",
            "email.dkim": None, "email.alignment": None}


def _fresh_checkdmarc() -> None:
    for name in ("DNS_CACHE", "_NAMESERVER_FAILURES"):
        cache = getattr(checkdmarc.utils, name, None)
        if cache is not None:
            cache.clear()


def run_checkdmarc(domain: str, nameservers: list, timeout: float) -> dict:
    _fresh_checkdmarc()
    return checkdmarc.check_domains([domain], nameservers=nameservers, timeout=timeout, retries=0)


def checkdmarc_problems(result: dict, sections=("spf", "dmarc", "mx")) -> dict:
    """{section: [problem, ...]} from a checkdmarc result: its errors and warnings."""
    out = {}
    for section in sections:
        part = result.get(section) or {}
        problems = []
        if part.get("error"):
            problems.append("error: %s" % part["error"])
        problems.extend("warning: %s" % w for w in part.get("warnings") or [])
        if section in ("spf", "dmarc") and part.get("valid") is False and not part.get("error"):
            problems.append("invalid")
        if problems:
            out[section] = problems
    return out


def timed(fn, rounds: int = ROUNDS) -> tuple:
    times, result = [], None
    for _round in range(rounds):
        started = time.monotonic()
        result = fn()
        times.append(time.monotonic() - started)
    return round(statistics.median(times), 4), result


def ours(site_vars: dict, checks=("email.",)) -> list:
    return audit.run(site_vars, checks=list(checks))


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def bench_lab() -> dict:
    facts = lab.ensure_up()
    site_vars = dict(facts["site_vars"])
    domain = site_vars.get("launch_mail_domain") or site_vars["launch_domain"]
    nameservers = [r.split(":")[0] for r in site_vars["launch_resolvers"]]
    timeout = float(site_vars.get("launch_timeout", 5))
    ours_s, found = timed(lambda: ours(site_vars))
    no_proof = dict(site_vars, launch_dkim_private_keys={})
    ours_np_s, _found = timed(lambda: ours(no_proof))
    peer_s, peer = timed(lambda: run_checkdmarc(domain, nameservers, timeout))
    return {
        "domain": domain,
        "nameservers": nameservers,
        "rounds": ROUNDS,
        "email_checks_s": ours_s,
        "email_checks_without_dkim_proof_s": ours_np_s,
        "checkdmarc_s": peer_s,
        "ratio_email_checks_to_checkdmarc": round(ours_s / peer_s, 2) if peer_s else None,
        "ratio_without_dkim_proof_to_checkdmarc": round(ours_np_s / peer_s, 2) if peer_s else None,
        "email_checks_report": {f.check + " " + f.target: f.status for f in found},
        "email_checks_problems": [(f.check, f.status, f.summary) for f in found if f.status != F.PASS],
        "checkdmarc_problems": checkdmarc_problems(peer, ("spf", "dmarc", "mx", "mta_sts", "smtp_tls_reporting",
                                                          "bimi")),
    }


def bench_variants() -> list:
    keys = Z.make_keys()
    server = KnotServer([VARIANT_KNOT], Z.zones(keys)).start()
    rows = []
    try:
        for domain, extra, check_id, expected, _words in Z.VARIANTS:
            variables = {"launch_domain": domain, "launch_resolvers": [VARIANT_KNOT], "launch_timeout": 2,
                         "launch_mail_senders": [Z.SENDER]}
            variables.update({"launch_" + k: v for k, v in extra.items()})
            started = time.monotonic()
            found = ours(variables, [check_id])
            ours_s = time.monotonic() - started
            started = time.monotonic()
            peer = run_checkdmarc(domain, [VARIANT_KNOT], 2.0)
            peer_s = time.monotonic() - started
            section = SECTIONS[check_id]
            peer_problems = checkdmarc_problems(peer).get(section, []) if section else []
            status = "/".join(sorted({f.status for f in found}))
            bad = [f for f in found if f.status != F.PASS]
            rows.append({
                "variant": " ".join([domain] + ["%s=%s" % (k, ",".join(v)) for k, v in extra.items()]),
                "check": check_id, "expected": expected,
                "email_checks": status, "email_checks_summary": _short(bad[0].summary) if bad else "",
                "email_checks_as_expected": status == expected,
                "checkdmarc": "n/a (no DKIM selector check)" if section is None and check_id == "email.dkim" else
                              ("; ".join(_short(p, 70) for p in peer_problems) or "nothing"),
                "checkdmarc_flags_it": bool(peer_problems),
                "email_checks_s": round(ours_s, 4), "checkdmarc_s": round(peer_s, 4),
            })
    finally:
        server.stop()
    return rows


def main() -> None:
    results = {"lab": bench_lab(), "variants": bench_variants()}
    rows = results["variants"]
    results["detected"] = {
        "variants": len(rows),
        "email_checks_as_catalog_says": sum(r["email_checks_as_expected"] for r in rows),
        "checkdmarc_flags": sum(r["checkdmarc_flags_it"] for r in rows),
    }
    os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
    with open(os.path.join(ROOT, ".bench", "email.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2, default=str)

    labr = results["lab"]
    print("## Email authentication: email.* checks beside checkdmarc %s" % getattr(checkdmarc, "__version__", "?"))
    print()
    print("Lab domain %s at %s, median of %d runs:" % (labr["domain"], ", ".join(labr["nameservers"]), ROUNDS))
    print("- email.* checks: %.4f s (%.4f s without the DKIM signing proof)"
          % (labr["email_checks_s"], labr["email_checks_without_dkim_proof_s"]))
    print("- checkdmarc.check_domains: %.4f s" % labr["checkdmarc_s"])
    print("- wall time ratio email.*/checkdmarc: %s (without the DKIM proof: %s)"
          % (labr["ratio_email_checks_to_checkdmarc"], labr["ratio_without_dkim_proof_to_checkdmarc"]))
    print("- email.* problems on the lab: %s" % (labr["email_checks_problems"] or "none"))
    print("- checkdmarc problems on the lab: %s" % (labr["checkdmarc_problems"] or "none"))
    print()
    print("| variant | check | catalog | email.* | checkdmarc |")
    print("|---|---|---|---|---|")
    for r in rows:
        ours_text = r["email_checks"] + ((": " + r["email_checks_summary"]) if r["email_checks_summary"] else "")
        print("| %s | %s | %s | %s | %s |" % (r["variant"], r["check"], r["expected"], ours_text,
                                              r["checkdmarc"].replace("|", "/")))
    d = results["detected"]
    print()
    print("email.* reports %d of %d variants as the catalog says; checkdmarc flags %d of them."
          % (d["email_checks_as_catalog_says"], d["variants"], d["checkdmarc_flags"]))


if __name__ == "__main__":
    main()
