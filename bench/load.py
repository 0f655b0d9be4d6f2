"""make bench (Stage 5): the load generator against wrk, hey and locust on the lab's static route.

- ``max_rps``: each tool alone on one core (``taskset -c 0``), 50 connections, keep-alive,
  ``DURATION`` seconds against https://shop.test/static/<asset> at the lab's edge (127.0.0.10),
  trusting the lab CA. The generator runs its closed model with 50 users and no think time.
  Targets (issue #10): >= 0.25x wrk, above locust.
- ``fixed_rate``: p50/p95 at RATE req/s from the generator's open model and from ``hey -q``
  (10 workers x RATE/10); target within 10 %.

locust runs when it is importable (``pip install locust`` into a separate venv and set
LOCUST=/path/to/locust); otherwise its row says why it was skipped. Results go to stdout and
to .bench/load.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

from tests.support import lab  # noqa: E402

DURATION = int(os.environ.get("BENCH_LOAD_SECONDS", "8"))
RATE = int(os.environ.get("BENCH_LOAD_RATE", "200"))
CONNECTIONS = 50
EDGE = "127.0.0.10"
HOST = "shop.test"

GENERATOR = r"""
import json, sys
from ansible_collections.launchready.ops.plugins.module_utils import http_probe
from ansible_collections.launchready.ops.plugins.plugin_utils import load_generator as G
mode, path, ca, seconds, value = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
ep = G.Endpoint("https", "shop.test", 443, "127.0.0.10", http_probe.ssl_context(ca))
step = G.Step("static", path)
caps = G.Caps(duration=seconds, max_requests=10_000_000, in_flight=500, timeout=5)
if mode == "max":
    out = G.run_closed(ep, [[step]] * int(value), caps)
else:
    out = G.run_open(ep, [step], value, caps)
r = out["routes"]["static"]
print(json.dumps({"requests": r["count"], "errors": r["errors"], "seconds": out["elapsed_s"],
                  "p50": r["p50"], "p95": r["p95"]}))
"""


def _static_path(lab_dir: str) -> str:
    with open(os.path.join(lab_dir, "shop", "static", "manifest.json"), encoding="utf-8") as fh:
        return "/static/" + json.load(fh)["app.css"]


def generator(mode: str, path: str, ca: str, value: float) -> dict:
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "build", "collections"))
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", GENERATOR, mode, path, ca, str(DURATION),
                          str(value)], check=False, capture_output=True, text=True, env=env, timeout=DURATION * 3 + 30)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["rps"] = round(data["requests"] / DURATION, 1)
    return data


def wrk(url: str) -> dict:
    # wrk resolves the URL's host itself: give it the edge address and the Host header (no SNI
    # check: wrk verifies no certificate, which only makes it faster).
    out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c%d" % CONNECTIONS, "-d%ds" % DURATION, "--latency",
                          "-H", "Host: %s" % HOST, url.replace(HOST, EDGE)],
                         check=False, capture_output=True, text=True, timeout=DURATION * 3)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
    return {"rps": rps}


def hey(url: str, rate: int | None = None) -> dict:
    argv = ["taskset", "-c", "0", "hey", "-z", "%ds" % DURATION, "-host", HOST]
    argv += ["-c", "10", "-q", str(rate // 10)] if rate else ["-c", str(CONNECTIONS)]
    out = subprocess.run(argv + [url.replace(HOST, EDGE)], check=False, capture_output=True, text=True, timeout=DURATION * 3)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
    p50 = re.search(r"50% in ([\d.]+) secs", out.stdout)
    p95 = re.search(r"95% in ([\d.]+) secs", out.stdout)
    return {"rps": rps, "p50": round(float(p50.group(1)) * 1000, 1) if p50 else None,
            "p95": round(float(p95.group(1)) * 1000, 1) if p95 else None}


def locust(url: str) -> dict:
    binary = os.environ.get("LOCUST") or shutil.which("locust")
    if not binary:
        return {"skipped": "locust not installed (pip install locust into a separate venv, set LOCUST=...)"}
    locustfile = os.path.join(ROOT, ".bench", "locustfile.py")
    with open(locustfile, "w", encoding="utf-8") as fh:
        fh.write("from locust import FastHttpUser, task\nclass U(FastHttpUser):\n    insecure = True\n"
                 "    @task\n    def static(self):\n        self.client.get(%r, headers={'Host': %r})\n"
                 % (url.split(EDGE, 1)[-1] if EDGE in url else "/" + url.split("/", 3)[3], HOST))
    out = subprocess.run(["taskset", "-c", "0", binary, "-f", locustfile, "--headless", "-u", str(CONNECTIONS),
                          "-r", str(CONNECTIONS), "-t", "%ds" % DURATION, "-H", "https://%s" % EDGE, "--only-summary"],
                         check=False, capture_output=True, text=True, timeout=DURATION * 3 + 30)
    match = re.search(r"Aggregated\s+\d+\s+\d+\(.*?\)\s+\|\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\|\s+([\d.]+)",
                      out.stdout + out.stderr)
    return {"rps": float(match.group(1))} if match else {"skipped": "could not read locust's summary"}


def main() -> None:
    info = lab.ensure_up()
    lab_dir = lab.lab_dir()
    ca = info["site_vars"]["launch_ca_bundle"]
    path = _static_path(lab_dir)
    url = "https://%s%s" % (HOST, path)
    os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
    results = {"route": path, "seconds": DURATION, "max_rps": {}, "fixed_rate": {"rate": RATE}}
    results["max_rps"]["launchready"] = generator("max", path, ca, CONNECTIONS)
    results["max_rps"]["wrk"] = wrk(url)
    results["max_rps"]["hey"] = hey(url)
    results["max_rps"]["locust"] = locust(url)
    results["fixed_rate"]["launchready"] = generator("rate", path, ca, RATE)
    results["fixed_rate"]["hey"] = hey(url, RATE)
    ours, wrk_rps = results["max_rps"]["launchready"]["rps"], results["max_rps"]["wrk"]["rps"]
    results["ratio_to_wrk"] = round(ours / wrk_rps, 2) if wrk_rps else None
    with open(os.path.join(ROOT, ".bench", "load.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
