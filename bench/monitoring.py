"""make bench: time from the shop going down to each alert delivered, beside its physical floor.

Its own stack on 127.0.12.x (tests/support/monitoring_lab.py) with scrape/eval 1 s, for 2 s,
group_wait 1 s. Floor = scrape interval + for + group_wait; the target is floor + 30 s. Also the
stack's memory (RSS of Prometheus, the blackbox exporter and Alertmanager). Results go to stdout
and to .bench/monitoring.json.
"""

from __future__ import annotations

import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "build", "collections")]

from tests.support import monitoring_lab as ML  # noqa: E402


def rss_mb(pid: int) -> float:
    with open("/proc/%d/status" % pid, encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    lab = ML.MonitoringLab().start()
    try:
        run = lab.run_role(monitoring_reload="none")
        if run.returncode != 0:
            sys.exit("the monitoring role failed:\n" + run.stdout[-3000:])
        lab.start_stack()
        lab.wait_for(lambda: lab.query('probe_success{job="launch_http",route="homepage"} == 1'), 30)
        time.sleep(3)
        floor = ML.INTERVAL + ML.ALERT_FOR + ML.GROUP_WAIT
        since = time.time()
        lab.stop_one("shop")
        fired = lab.wait_delivered("[FIRING] SiteDown", since, timeout=60)
        back = time.time()
        lab.start_shop()
        resolved = lab.wait_delivered("[RESOLVED] SiteDown", back, timeout=60)
        memory = {name: round(rss_mb(lab.servers[name].pid), 1) for name in ("prometheus", "blackbox", "alertmanager")}
        result = {"floor_s": floor, "target_s": floor + 30, "memory_mb": memory,
                  "memory_total_mb": round(sum(memory.values()), 1)}
        for kind, got, t0 in (("firing", fired, since), ("resolved", resolved, back)):
            for route, (received, _title, _text) in got.items():
                seconds = round(received - t0, 2)
                result["%s_%s_s" % (kind, route)] = seconds
                result["%s_%s_ratio" % (kind, route)] = round(seconds / floor, 2)
        print(json.dumps(result, indent=2))
        os.makedirs(os.path.join(ROOT, ".bench"), exist_ok=True)
        with open(os.path.join(ROOT, ".bench", "monitoring.json"), "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
