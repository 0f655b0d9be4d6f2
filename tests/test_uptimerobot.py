"""monitoring_provider: uptimerobot - the monitoring role against a local https stand-in of UptimeRobot's API v2.

The stand-in (tests/support/uptimerobot_api.py, on 127.0.14.20) enforces the documented request shapes
and records every call: the first run creates, the second changes nothing and makes no write call,
check mode writes nothing, a bad key fails with a clear message that does not repeat the key.
"""

from __future__ import annotations

import json
import sys

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import uptimerobot_api as api
from tests.support import ansible_run
from tests.support.uptimerobot_api import UptimeRobotAPI

KEY = "u1234567-0123456789abcdef0123"
HOOK = "https://hooks.slack.test/services/T000/B000/secretsecretsecret"
ROUTES = {"homepage": "/", "checkout": "/api/checkout", "health": "/healthz", "chatbot": "/api/chat"}


@pytest.fixture
def robot():
    server = UptimeRobotAPI(keys=[KEY], address="127.0.14.20").start()
    yield server
    server.stop()


def _run(server, tmp_path, *args: str, key: str = KEY, **overrides):
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    site = dict(local, launch_domain="shop.test", launch_hosts=["shop.test", "www.shop.test"],
                launch_canonical_host="shop.test", launch_routes=ROUTES,
                launch_expected_addresses={"shop.test": ["127.0.14.21"], "www.shop.test": ["127.0.14.21"]})
    mon = dict(local, monitoring_provider="uptimerobot", monitoring_uptimerobot_api_key=key,
               monitoring_uptimerobot_api_url=server.url, monitoring_uptimerobot_ca_path=server.ca_file,
               monitoring_uptimerobot_timeout=5,
               monitoring_owners=[{"name": "shop-ops", "email": "ops@shop.test", "slack_webhook_url": HOOK}],
               monitoring_probes={"checkout": {"method": "POST", "body": '{"dry_run": true}',
                                               "headers": {"Content-Type": "application/json"}}})
    mon.update(overrides)
    inventory = {"all": {"children": {"sites": {"hosts": {"shop.test": site}},
                                      "monitoring": {"hosts": {"monitor-h13": mon}}}}}
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(inventory))
    return ansible_run.playbook("-i", str(path), "playbooks/monitoring.yml", *args, timeout=180)


def _changed(run) -> int:
    return sum(h.get("changed", 0) for h in ansible_run.recap(run.stdout).values())


def test_first_run_creates_second_changes_nothing(robot, tmp_path):
    check = _run(robot, tmp_path, "--check", "--diff")
    assert check.returncode == 0, check.stdout[-4000:]
    assert _changed(check) == 1, check.stdout[-4000:]
    assert robot.writes() == [] and not robot.monitors and not robot.contacts  # check mode wrote nothing
    assert "launchready shop.test www.shop.test checkout" in check.stdout  # the diff names the monitors ...
    assert "launchready shop-ops slack" in check.stdout
    assert HOOK not in check.stdout and KEY not in check.stdout  # ... never the webhook or the key

    first = _run(robot, tmp_path)
    assert first.returncode == 0, first.stdout[-4000:]
    assert _changed(first) == 1
    assert [c[0] for c in robot.writes()].count("newAlertContact") == 2
    assert [c[0] for c in robot.writes()].count("newMonitor") == 8  # 2 hosts x 4 routes
    assert {c["type"] for c in robot.contacts.values()} == {2, 11}
    checkout = next(m for m in robot.monitors.values() if m["friendly_name"].endswith("shop.test checkout")
                    and "www" not in m["friendly_name"])
    assert checkout["url"] == "https://shop.test/api/checkout" and checkout["http_method"] == 3
    assert checkout["post_value"] == '{"dry_run": true}' and checkout["post_content_type"] == 1
    assert checkout["interval"] == 60 and len(checkout["alert_contacts"]) == 2

    writes = len(robot.writes())
    again = _run(robot, tmp_path)
    assert again.returncode == 0, again.stdout[-4000:]
    assert _changed(again) == 0, again.stdout[-4000:]
    assert len(robot.writes()) == writes, robot.writes()[writes:]  # read only

    # A changed interval edits every monitor, and only the interval; a monitor no longer wanted goes.
    robot.monitors[next(iter(robot.monitors))]["friendly_name"] = "launchready shop.test shop.test version"
    changed = _run(robot, tmp_path, monitoring_interval=120)
    assert changed.returncode == 0, changed.stdout[-4000:]
    new = robot.writes()[writes:]
    assert sorted({c[0] for c in new}) == ["deleteMonitor", "editMonitor", "newMonitor"], new
    assert all(set(c[1]) == {"id", "interval"} for c in new if c[0] == "editMonitor"), new
    assert all(m["interval"] == 120 for m in robot.monitors.values())


def test_bad_key_fails_clearly_without_the_key(robot, tmp_path):
    wrong = "u9999999-wrongwrongwrongwrong"
    run = _run(robot, tmp_path, key=wrong)
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "getAlertContacts: invalid_parameter for api_key" in out, out[-3000:]
    assert "monitoring_uptimerobot_api_key" in out
    assert wrong not in out
    assert robot.writes() == []


def test_client_refuses_plain_http_and_names_a_timeout():
    with pytest.raises(api.UptimeRobotError, match="https://"):
        api.UptimeRobotClient(KEY, "http://127.0.14.20:9/v2")
    with pytest.raises(api.UptimeRobotError, match="no UptimeRobot API key"):
        api.UptimeRobotClient("", "https://127.0.14.20/v2")
