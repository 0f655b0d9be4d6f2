"""make bench (Stage 5): the load generator against wrk, hey and locust on the lab's static route.

- ``max_rps``: each tool alone on one core (``taskset -c 0``), 50 connections, keep-alive,
  ``DURATION`` seconds against https://shop.test/static/<asset> at the lab's edge (127.0.0.10),
  trusting the lab CA. The generator runs its closed model with 50 users and no think time;
  locust one headless process (no workers) of 50 FastHttpUsers, its numbers read from its CSV
  stats. Targets (issue #10): >= 0.25x wrk, above locust.
- ``fixed_rate``: p50/p95 at RATE req/s from the generator's open model and from ``hey -q``
  (10 workers x RATE/10); target within 10 %. ``floor`` is one blocking keep-alive
  connection at the same rate, the least client overhead: the truth both are measured
  against (a tool above it reports its own cost). The generator's ``send_lag`` says how late its
  own scheduler was (a loaded machine); it is not in its latencies.

locust is installed the first time into its own venv, build/bench-venv (pip, LOCUST_VERSION);
set LOCUST=/path/to/locust to use another. When that fails its row says why it was skipped.

BENCH_LOAD_EDGE=ADDRESS measures another edge serving the lab's /static/ with the lab's
certificate (e.g. a private nginx while the shared lab is busy) and leaves the lab as it is.
Before any tool runs, the route must answer 200: a bench of error pages measures nothing.
Results go to stdout and to .bench/load.json.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

from tests.support import lab  # noqa: E402

DURATION = int(os.environ.get("BENCH_LOAD_SECONDS", "8"))
RATE = int(os.environ.get("BENCH_LOAD_RATE", "200"))
CONNECTIONS = 50
EDGE = os.environ.get("BENCH_LOAD_EDGE", "127.0.0.10")
HOST = "shop.test"
BENCH_VENV = os.path.join(ROOT, "build", "bench-venv")
LOCUST_VERSION = "2.47.0"

GENERATOR = r"""
import json, sys
from ansible_collections.launchready.ops.plugins.module_utils import http_probe
from ansible_collections.launchready.ops.plugins.plugin_utils import load_generator as G
mode, path, ca, seconds, value = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
if mode == "check":
    ep = G.Endpoint("https", "shop.test", 443, sys.argv[6], http_probe.ssl_context(ca))
    r = G.burst(ep, G.Step("static", path), 1, 5)[0]
    print(json.dumps({"status": r.status, "error": r.error, "detail": r.detail}))
    sys.exit(0)
ep = G.Endpoint("https", "shop.test", 443, sys.argv[6], http_probe.ssl_context(ca))
step = G.Step("static", path)
caps = G.Caps(duration=seconds, max_requests=10_000_000, in_flight=500, timeout=5)
if mode == "max":
    out = G.run_closed(ep, [[step]] * int(value), caps)
else:
    out = G.run_open(ep, [step], value, caps)
r = out["routes"]["static"]
print(json.dumps({"requests": r["count"], "errors": r["errors"], "seconds": out["elapsed_s"],
                  "p50": r["p50"], "p95": r["p95"], "p99": r["p99"], "send_lag": out.get("send_lag")}))
"""


# The floor for fixed_rate: one blocking keep-alive connection, the least client overhead
# Python allows, at the same rate; what a tool reports above it is that tool's own cost.
FLOOR = r"""
import json, socket, ssl, sys, time
path, ca, seconds, rate, edge = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
req = ("GET %s HTTP/1.1\r\nHost: shop.test\r\nAccept: */*\r\n\r\n" % path).encode()
sock, lat, start = None, [], time.monotonic()
for n in range(int(seconds * rate)):
    delay = start + n / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    if sock is None:
        sock = ctx.wrap_socket(socket.create_connection((edge, 443), timeout=5), server_hostname="shop.test")
    t0 = time.monotonic()
    sock.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, body = buf.split(b"\r\n\r\n", 1)
    fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:])
    fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
    while len(body) < int(fields[b"content-length"]):
        body += sock.recv(65536)
    lat.append(time.monotonic() - t0)
    if fields.get(b"connection", b"").lower() == b"close":  # nginx's keepalive_requests
        sock.close()
        sock = None
lat.sort()
print(json.dumps({"requests": len(lat), "p50": round(lat[len(lat) // 2] * 1000, 2),
                  "p95": round(lat[int(len(lat) * 0.95)] * 1000, 2)}))
"""


def floor(path: str, ca: str, rate: int) -> dict:
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", FLOOR, path, ca, str(DURATION), str(rate), EDGE],
                         check=False, capture_output=True, text=True, timeout=DURATION * 3 + 30)
    if out.returncode != 0:
        return {"skipped": "the floor client failed: %s" % out.stderr.strip()[-300:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _static_path(lab_dir: str) -> str:
    with open(os.path.join(lab_dir, "shop", "static", "manifest.json"), encoding="utf-8") as fh:
        return "/static/" + json.load(fh)["app.css"]


def generator(mode: str, path: str, ca: str, value: float) -> dict:
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "build", "collections"))
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", GENERATOR, mode, path, ca, str(DURATION),
                          str(value), EDGE], check=False, capture_output=True, text=True, env=env,
                         timeout=DURATION * 3 + 30)
    if out.returncode != 0 or not out.stdout.strip():
        raise SystemExit("bench/load.py: the generator failed (%s): %s" % (mode, out.stderr.strip()[-2000:]))
    data = json.loads(out.stdout.strip().splitlines()[-1])
    if mode != "check":
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


def _locust_binary() -> tuple:
    """locust from LOCUST, else from build/bench-venv, installed there by pip the first time."""
    if os.environ.get("LOCUST"):
        return os.environ["LOCUST"], None
    binary = os.path.join(BENCH_VENV, "bin", "locust")
    if os.path.exists(binary):
        return binary, None
    print("bench/load.py: installing locust %s into %s (first run only)" % (LOCUST_VERSION, BENCH_VENV),
          file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", BENCH_VENV], check=True, capture_output=True, text=True,
                       timeout=300)
        subprocess.run([os.path.join(BENCH_VENV, "bin", "pip"), "install", "-q", "locust==%s" % LOCUST_VERSION],
                       check=True, capture_output=True, text=True, timeout=1200)
    except subprocess.CalledProcessError as exc:
        return None, "pip could not install locust==%s into %s: %s" % (
            LOCUST_VERSION, BENCH_VENV, (exc.stderr or exc.stdout or "").strip()[-300:])
    except subprocess.TimeoutExpired:
        return None, "installing locust==%s into %s took over the time limit" % (LOCUST_VERSION, BENCH_VENV)
    return binary, None


def locust(path: str) -> dict:
    binary, reason = _locust_binary()
    if not binary:
        return {"skipped": reason}
    with tempfile.TemporaryDirectory(prefix="bench-locust-") as work:
        locustfile = os.path.join(work, "locustfile.py")
        with open(locustfile, "w", encoding="utf-8") as fh:
            # FastHttpUser (geventhttpclient), keep-alive, no think time: locust at its fastest.
            fh.write("from locust import FastHttpUser, task\n\n\nclass Static(FastHttpUser):\n"
                     "    insecure = True\n\n    @task\n    def static(self):\n"
                     "        self.client.get(%r, headers={'Host': %r})\n" % (path, HOST))
        prefix = os.path.join(work, "run")
        # One process, pinned to one core like the others: locust's master and its only runner.
        out = subprocess.run(["taskset", "-c", "0", binary, "-f", locustfile, "--headless", "-u", str(CONNECTIONS),
                              "-r", str(CONNECTIONS), "-t", "%ds" % DURATION, "-H", "https://%s" % EDGE,
                              "--csv", prefix, "--only-summary", "--loglevel", "WARNING"],
                             check=False, capture_output=True, text=True, timeout=DURATION * 3 + 60)
        try:
            with open(prefix + "_stats.csv", encoding="utf-8") as fh:
                row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
        except (OSError, StopIteration, KeyError):
            return {"skipped": "locust wrote no CSV stats (exit %d): %s"
                               % (out.returncode, (out.stderr or "").strip()[-300:])}
    count = int(row["Request Count"])
    return {"rps": round(count / DURATION, 1), "requests": count, "failures": int(row["Failure Count"]),
            "locust_rps": float(row["Requests/s"]), "p50": float(row["50%"]), "p95": float(row["95%"])}


def main() -> None:
    if "BENCH_LOAD_EDGE" not in os.environ:
        lab.ensure_up()
    lab_dir = lab.lab_dir()
    ca = os.path.join(lab_dir, "pki", "ca-bundle.pem")
    path = _static_path(lab_dir)
    url = "https://%s%s" % (HOST, path)
    check = generator("check", path, ca, 0)
    if check["status"] != 200:
        raise SystemExit("bench/load.py: https://%s%s at %s answers %s (%s %s): fix the edge first"
                         % (HOST, path, EDGE, check["status"], check["error"], check["detail"]))
    os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
    results = {"route": path, "edge": EDGE, "seconds": DURATION, "cores": os.cpu_count(),
               "load_average": os.getloadavg(), "max_rps": {}, "fixed_rate": {"rate": RATE}}
    results["max_rps"]["launchready"] = generator("max", path, ca, CONNECTIONS)
    results["max_rps"]["wrk"] = wrk(url)
    results["max_rps"]["hey"] = hey(url)
    results["max_rps"]["locust"] = locust(path)
    results["fixed_rate"]["launchready"] = generator("rate", path, ca, RATE)
    results["fixed_rate"]["hey"] = hey(url, RATE)
    results["fixed_rate"]["floor"] = floor(path, ca, RATE)
    ours, wrk_rps = results["max_rps"]["launchready"]["rps"], results["max_rps"]["wrk"]["rps"]
    results["ratio_to_wrk"] = round(ours / wrk_rps, 2) if wrk_rps else None
    locust_rps = results["max_rps"]["locust"].get("rps")
    results["above_locust"] = ours > locust_rps if locust_rps else None
    fixed = results["fixed_rate"]
    fixed["p50_ratio_to_hey"], fixed["p95_ratio_to_hey"] = (
        round(fixed["launchready"][k] / fixed["hey"][k], 2) if fixed["hey"].get(k) else None for k in ("p50", "p95"))
    with open(os.path.join(ROOT, ".bench", "load.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
