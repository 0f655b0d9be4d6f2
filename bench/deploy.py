"""make bench-deploy: failed requests and rollback time under a steady 50 req/s, beside a plain ln -sfn.

On the lab (the shop under supervisor behind the nginx edge), an open-loop load of 50
requests a second (GET / and GET /version over HTTPS through the edge, as customers
would) runs while:

1. ``launchready.ops.deploy`` deploys v2 (a branch of a clone of the lab's shop repository);
2. ``launchready.ops.rollback`` goes back to v1;
3. the baseline does the same by hand: ``ln -sfn releases/V2 current`` and
   ``supervisorctl restart shop:*``, then back to v1 the same way.

For each phase: requests sent, failed (no answer, or a status other than 200), wall time,
and the time until the edge served the target commit. Results go to stdout and to
.bench/deploy.json. The lab ends where it started (main live).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

import urllib3  # noqa: E402

from tests.support import ansible_run, lab, shop_repo  # noqa: E402

RATE = 50.0
HOST = "shop.test"
PATHS = ("/", "/version")
SUPERVISORCTL = ["/usr/bin/python3", "/usr/bin/supervisorctl"]


class Load:
    """Open-loop load: one request every 1/RATE s whatever the answers take (a slow answer never lowers the rate)."""

    def __init__(self, edge: str, ca_bundle: str, rate: float = RATE) -> None:
        self.rate = rate
        self.pool = urllib3.HTTPSConnectionPool(edge, 443, server_hostname=HOST, assert_hostname=HOST,
                                                cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle, maxsize=64,
                                                timeout=urllib3.Timeout(connect=2, read=5), retries=False)
        self.results: list = []  # (t, path, status or None, error, commit)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=64)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, n: int, at: float) -> None:
        path = PATHS[n % len(PATHS)]
        status, error, commit = None, None, None
        try:
            resp = self.pool.request("GET", path, headers={"Host": HOST})
            status = resp.status
            if path == "/version" and status == 200:
                commit = json.loads(resp.data).get("commit")
        except Exception as exc:  # every fault counts as a failed request
            error = type(exc).__name__
        with self.lock:
            self.results.append((at, path, status, error, commit))

    def _run(self) -> None:
        start = time.monotonic()
        n = 0
        while not self.stop.is_set():
            due = start + n / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.executor.submit(self._one, n, time.monotonic())
            n += 1

    def __enter__(self) -> "Load":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.executor.shutdown(wait=True)

    def window(self, t0: float, t1: float) -> dict:
        with self.lock:
            rows = [r for r in self.results if t0 <= r[0] <= t1]
        failed = [r for r in rows if r[2] != 200]
        return {"requests": len(rows), "failed": len(failed),
                "errors": sorted({"%s %s" % (r[1], r[3] or r[2]) for r in failed})[:10],
                "achieved_rps": round(len(rows) / max(t1 - t0, 1e-9), 1)}

    def first_serving(self, commit: str, after: float) -> float | None:
        with self.lock:
            times = sorted(r[0] for r in self.results if r[0] >= after and r[4] == commit)
        return times[0] if times else None


def phase(load: Load, name: str, action, target_commit: str) -> dict:
    time.sleep(1.0)  # steady load before
    t0 = time.monotonic()
    action()
    t1 = time.monotonic()
    time.sleep(1.5)  # and after: requests in flight at the end count too
    served = load.first_serving(target_commit, t0)
    out = {"phase": name, "wall_s": round(t1 - t0, 2),
           "served_after_s": round(served - t0, 2) if served else None}
    out.update(load.window(t0 - 1.0, t1 + 1.5))
    print("%-22s wall %6.2f s  served new commit after %s s  requests %4d  failed %d %s" % (
        name, out["wall_s"], out["served_after_s"], out["requests"], out["failed"], out["errors"] or ""))
    return out


def playbook(*args: str) -> None:
    proc = ansible_run.playbook("-i", "inventories/lab", *args, timeout=300)
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook %s failed:\n%s" % (" ".join(args), proc.stdout[-4000:]))


def main() -> None:
    facts = lab.ensure_up()
    root = os.path.join(facts["lab_dir"], "shop")
    conf = os.path.join(facts["lab_dir"], "supervisor", "supervisord.conf")
    results: dict = {"rate_rps": RATE, "paths": list(PATHS)}
    with tempfile.TemporaryDirectory() as tmp:
        repo = shop_repo.make(tmp, lab_repo=os.path.join(facts["lab_dir"], "git", "shop.git"),
                              versions={"v2": shop_repo.v2})
        v1, v2 = shop_repo.head(repo, "main"), shop_repo.head(repo, "v2")
        live_before = os.readlink(os.path.join(root, "current"))
        with open(os.path.join(root, "current", "REVISION"), encoding="utf-8") as fh:
            if json.load(fh)["commit"] != v1:
                raise SystemExit("the lab does not serve main: run make lab-up first")
        with Load(facts["edge_address"], facts["ca_bundle"]) as load:
            results["deploy"] = phase(load, "deploy v2 (role)", lambda: playbook(
                "launchready.ops.deploy", "-e", "release_version=v2", "-e", "release_repo=%s" % repo,
                "-e", "release_report=false"), v2)
            v2_release = os.readlink(os.path.join(root, "current"))
            results["rollback"] = phase(load, "rollback (role)", lambda: playbook(
                "launchready.ops.rollback", "-e", "release_report=false"), v1)

            def plain(target: str):
                def act() -> None:
                    subprocess.run(["ln", "-sfn", target, os.path.join(root, "current")], check=True, timeout=10)
                    subprocess.run(SUPERVISORCTL + ["-c", conf, "restart", "shop:*"], check=True, timeout=60,
                                   capture_output=True)
                return act

            results["baseline_deploy"] = phase(load, "deploy v2 (ln -sfn)", plain(v2_release), v2)
            results["baseline_rollback"] = phase(load, "rollback (ln -sfn)", plain(live_before), v1)
    # The baseline moved current by hand, outside the ledger: put the lab back in order.
    playbook("playbooks/lab.yml", "-e", "lab_state=up")
    results["targets"] = {"failed_requests": 0, "rollback_wall_s": 10}
    results["verdict"] = {
        "failed_requests_deploy_and_rollback": results["deploy"]["failed"] + results["rollback"]["failed"],
        "rollback_under_10s": results["rollback"]["wall_s"] < 10,
    }
    os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
    with open(os.path.join(ROOT, ".bench", "deploy.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
