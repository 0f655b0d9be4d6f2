"""Stage 4 end to end: the monitoring role configures a real stack that alerts a named owner.

Its own instances on 127.0.12.x (tests/support/monitoring_lab.py), short intervals (1 s scrape and
evaluation, for 2 s, group_wait 1 s). Tests run in file order and share the stack: the refused
configurations come before the outage, which proves the stack kept alerting after them.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest
import requests

from tests.support import ansible_run
from tests.support import monitoring_lab as ML


@pytest.fixture(scope="module")
def mon():
    lab = ML.MonitoringLab().start()
    try:
        first = lab.run_role(monitoring_reload="none")
        assert first.returncode == 0, first.stdout[-3000:]
        lab.start_stack()
        yield lab
    finally:
        lab.stop()


def _changed(run) -> int:
    return sum(h.get("changed", 0) for h in ansible_run.recap(run.stdout).values())


def _digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_second_run_and_check_mode_change_nothing(mon):
    again = mon.run_role()
    assert again.returncode == 0, again.stdout[-3000:]
    assert _changed(again) == 0, again.stdout[-3000:]
    check = mon.run_role("--check", "--diff", monitoring_interval=2)
    assert check.returncode == 0, check.stdout[-3000:]
    assert _changed(check) >= 1  # it says what would change ...
    assert "scrape_interval: 1s" in open(os.path.join(mon.config_dir, "prometheus.yml")).read()  # ... and writes nothing


def test_every_probe_succeeds_and_rules_carry_owners(mon):
    def all_up() -> list | None:
        r = mon.query('probe_success{job="launch_http"}')
        return r if len(r) >= 4 and all(x["value"][1] == "1" for x in r) else None
    found = mon.wait_for(all_up, 20)
    assert found, mon.query('probe_success{job="launch_http"}')
    assert {x["metric"]["route"] for x in found} == {"homepage", "checkout", "health", "chatbot"}
    assert mon.query('up{job="launch_app"} == 1')
    rules = requests.get("http://%s:%d/api/v1/rules" % (ML.STACK, ML.PROM_PORT), timeout=5).json()
    for group in rules["data"]["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["owner"] == ML.OWNER and rule["labels"]["severity"]


def test_near_expiry_certificate_alerts_its_owner(mon):
    got = mon.wait_delivered("[FIRING] CertExpiringSoon", since=0, timeout=40)
    assert set(got) == {"email", "slack"}, got
    assert "owner: %s" % ML.OWNER in got["slack"][2]
    assert "(owner %s)" % ML.OWNER in got["email"][1]


def test_broken_rules_refused_before_reload(mon):
    live = os.path.join(mon.config_dir, "launchready.rules.yml")
    before = _digest(live)
    run = mon.run_role(monitoring_extra_rules=[{"alert": "Broken", "expr": "sum(rate(http_requests_total[5m]"}])
    assert run.returncode != 0
    assert "unclosed left parenthesis" in run.stdout, run.stdout[-2000:]
    assert _digest(live) == before
    assert requests.get("http://%s:%d/-/healthy" % (ML.STACK, ML.PROM_PORT), timeout=5).ok


def test_broken_alertmanager_config_refused_before_reload(mon):
    live = os.path.join(mon.config_dir, "alertmanager.yml")
    before = _digest(live)
    run = mon.run_role(monitoring_extra_routes=[{"receiver": ML.OWNER, "matchers": ['owner=~"(']}])
    assert run.returncode != 0, run.stdout[-2000:]
    assert _digest(live) == before
    status = requests.get("http://%s:%d/api/v2/status" % (ML.STACK, ML.AM_PORT), timeout=5).json()
    assert 'owner=~"(' not in status["config"]["original"]


def test_shop_down_alerts_owner_by_email_and_slack_then_resolves(mon):
    since = time.time()
    mon.stop_one("shop")
    fired = mon.wait_delivered("[FIRING] SiteDown", since, timeout=40)
    assert set(fired) == {"email", "slack"}, fired
    assert "owner: %s" % ML.OWNER in fired["slack"][2]
    assert "(owner %s)" % ML.OWNER in fired["email"][1]
    floor = ML.INTERVAL + ML.ALERT_FOR + ML.GROUP_WAIT
    for where, (received, _title, _text) in fired.items():
        assert received - since <= floor + 30, (where, received - since)
    # The symptoms (RouteDown, AppMetricsDown) are inhibited by SiteDown: no page storm.
    assert not [h for h in mon.hooks() if h[0] >= since and h[1].startswith("[FIRING] RouteDown")]
    back = time.time()
    mon.start_shop()
    resolved = mon.wait_delivered("[RESOLVED] SiteDown", back, timeout=40)
    assert set(resolved) == {"email", "slack"}, resolved


def test_5xx_burst_alerts(mon):
    since = time.time()
    mon.stop_one("vendor")
    try:
        statuses = mon.burst("/api/chat", {"message": "hello"}, seconds=6)
        assert statuses.count(502) >= 20, statuses
        got = mon.wait_delivered("[FIRING] HighErrorRatio", since, timeout=30)
        assert set(got) == {"email", "slack"}, got
    finally:
        mon.start_vendor()


def test_failed_checkouts_alert(mon):
    since = time.time()
    statuses = mon.burst("/api/checkout", {"items": [{"sku": "no-such-thing"}]}, seconds=6)
    assert statuses.count(400) >= 20, statuses
    got = mon.wait_delivered("[FIRING] CheckoutFailures", since, timeout=30)
    assert set(got) == {"email", "slack"}, got


def test_alert_test_playbook_reports_delivery_per_route(mon):
    mon.write_inventory()
    run = ansible_run.playbook("-i", mon.inventory, "playbooks/alert_test.yml", timeout=180)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "pass: test alert delivered to shop-ops by email" in run.stdout
    assert "pass: test alert delivered to shop-ops by slack" in run.stdout


def test_status_page_renders_every_panel_with_data_and_the_last_deploy(mon, tmp_path):
    import json
    import shutil
    import subprocess

    from ansible_collections.launchready.ops.plugins.module_utils import status_page as S

    ledger = tmp_path / "releases.log"
    now = time.time()
    records = [{"release": "20261203T100000Z-aaaaaaaaaaaa", "commit": "a" * 40, "user": "founder", "state": "good",
                "finished": now - 300},
               {"release": "20261203T120000Z-bbbbbbbbbbbb", "commit": "b" * 40, "user": "ci", "state": "live",
                "finished": now - 60}]
    ledger.write_text("".join(json.dumps(r) + "\n" for r in records))
    data = S.build("http://%s:%d" % (ML.STACK, ML.PROM_PORT), "shop.test", S.read_ledger(str(ledger)),
                   window=600, step=2)
    assert data["uptime"] and data["errors"] and data["p95"] and data["up"]
    page = tmp_path / "status.html"
    page.write_text(S.render(data))
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("chromium not installed")
    out = os.path.join(ansible_run.ROOT, "tests", "output")
    os.makedirs(out, exist_ok=True)
    common = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--user-data-dir=%s" % (tmp_path / "profile")]
    # Chromium writes dconf and config files under HOME: keep them in the test's own directory (TMPDIR
    # stays short: Chromium's socket paths must fit in a sockaddr_un).
    browser_env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"),
                       XDG_CACHE_HOME=str(tmp_path / ".cache"))
    dom = subprocess.run(common + ["--dump-dom", page.as_uri()], check=False, capture_output=True, text=True,
                         timeout=60, env=browser_env).stdout
    for panel in ("panel-uptime", "panel-availability", "panel-errors", "panel-latency", "panel-alerts",
                  "panel-deploys"):
        assert 'id="%s"' % panel in dom
    import re
    charts = re.findall(r'<svg class="chart"[^>]*data-points="(\d+)"', dom)
    assert charts and all(int(n) > 0 for n in charts), charts
    assert "20261203T120000Z-bbbbbbbbbbbb by ci" in dom
    assert 'class="deploy-marker"' in dom
    shot = os.path.join(out, "status_page.png")
    subprocess.run(common + ["--screenshot=%s" % shot, "--window-size=760,1100", page.as_uri()],
                   capture_output=True, timeout=60, check=False, env=browser_env)
    assert os.path.getsize(shot) > 1000
