"""logs.request_id gathers its own facts: a fresh X-Request-ID sent through the edge, then found in the app's log.

Real parts on 127.0.14.x: Knot for rid.test, the demo shop (its JSON request log on stdout, kept in a file),
and nginx in front: one edge that passes X-Request-ID through, one that drops it from the response.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry
from ansible_collections.launchready.ops.plugins.module_utils import checks_monitoring as C
from ansible_collections.launchready.ops.plugins.module_utils import request_id_trace as R
from ansible_collections.launchready.ops.plugins.module_utils import site as site_mod
from tests.support import ansible_run, http_lab, procs
from tests.support.knot import zone

# Beside the second lab of tests/test_lab_monitoring.py (127.0.14.2, .10, .53, .54).
KNOT = "127.0.14.153"
SHOP, SHOP_PORT = "127.0.14.101", 8081
GOOD_EDGE, DROPPING_EDGE, REPLACING_EDGE = "127.0.14.110", "127.0.14.111", "127.0.14.112"
GOOD, DROPPING, REPLACING = "rid.test", "dropped.rid.test", "replaced.rid.test"


@pytest.fixture(scope="module")
def stack():
    lab = http_lab.Stack(prefix="h13-request-id-")
    shop = None
    try:
        lab.knot(KNOT, {GOOD: zone(GOOD, "@ A %s\ndropped A %s\nreplaced A %s"
                                   % (GOOD_EDGE, DROPPING_EDGE, REPLACING_EDGE))})
        db = os.path.join(lab.workdir, "shop.db")
        subprocess.run([sys.executable, os.path.join(ansible_run.ROOT, "demo", "shop", "migrate.py"), "--db", db],
                       check=True, capture_output=True, timeout=30)
        env = dict(os.environ, SHOP_DB=db, SHOP_SECRET_KEY="h13-test-secret", SHOP_HOST=SHOP,
                   SHOP_PORT=str(SHOP_PORT), SHOP_VENDOR_URL="http://%s:9/v1/chat" % SHOP,
                   SHOP_VENDOR_API_KEY="vk_test_h13", PYTHONUNBUFFERED="1", SHOP_RELEASE="r-h13")
        lab.shop_log = os.path.join(lab.workdir, "shop.log")
        shop = procs.start("shop", [sys.executable, os.path.join(ansible_run.ROOT, "demo", "shop", "app.py")],
                           lab.shop_log, ready=lambda: procs.wait_port(SHOP, SHOP_PORT, timeout=0.2), timeout=20,
                           env=env, cwd=lab.workdir)
        proxy = "location / { proxy_pass http://%s:%d; proxy_set_header Host $host; proxy_read_timeout 5s; %s }"
        lab.nginx([
            http_lab.server(GOOD_EDGE + ":443", [GOOD], proxy % (SHOP, SHOP_PORT, ""),
                            tls=lab.cert(GOOD, [GOOD])),
            http_lab.server(DROPPING_EDGE + ":443", [DROPPING], proxy % (SHOP, SHOP_PORT,
                            "proxy_hide_header X-Request-ID;"), tls=lab.cert(DROPPING, [DROPPING])),
            # nginx's own id for every request, whatever the client sent: the shop keeps and returns it.
            http_lab.server(REPLACING_EDGE + ":443", [REPLACING], proxy % (SHOP, SHOP_PORT,
                            "proxy_set_header X-Request-ID $request_id;"), tls=lab.cert(REPLACING, [REPLACING])),
        ], [(GOOD_EDGE, 443), (DROPPING_EDGE, 443), (REPLACING_EDGE, 443)])
        yield lab
    finally:
        if shop is not None:
            shop.stop()
        lab.stop()


def _vars(lab, host: str = GOOD, **extra) -> dict:
    out = {"launch_domain": GOOD, "launch_hosts": [host], "launch_canonical_host": host,
           "launch_resolvers": [KNOT], "launch_ca_bundle": lab.ca_bundle, "launch_timeout": 3,
           "launch_routes": {"homepage": "/", "health": "/healthz"}}
    out.update(extra)
    return out


def _judge(lab, host: str, log_paths: list | None) -> tuple:
    """The logs.request_id finding as the role gathers it, with the logs searched in process."""
    sent = R.send(site_mod.from_vars(_vars(lab, host)), check_registry.Probes())
    searches = None if log_paths is None else [R.search_logs(log_paths, sent["returned"] or sent["sent"])]
    found = C.evaluate(C.MonitorFacts(domain=GOOD, request_id=R.facts(sent, searches)), [C.REQUEST_ID.id])
    assert len(found) == 1
    return found[0], sent


def test_healthy_shop_passes_through_the_role(stack, tmp_path):
    """The monitoring role's request_id.yml, end to end: send, search the log on the (local) app host, judge."""
    site = dict(_vars(stack, launch_log_paths={"app": [os.path.join(stack.workdir, "shop*.log")]}),
                ansible_connection="local", ansible_python_interpreter=sys.executable)
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {"all": {"children": {"sites": {"hosts": {GOOD: site}},
                                      "app": {"hosts": {"app-h13": local}},
                                      "monitoring": {"hosts": {"monitor-h13": local}}}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(
        "- hosts: monitoring\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: launchready.ops.monitoring\n"
        "        tasks_from: request_id.yml\n      vars:\n        monitoring_request_id_site: %s\n"
        "    - ansible.builtin.debug:\n        msg: \"FINDING={{ monitoring_request_id_result.findings[0] | to_json | b64encode }}\"\n"
        % GOOD)
    run = ansible_run.playbook("-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.yml"), "--check",
                               timeout=180)
    assert run.returncode == 0, run.stdout[-3000:]
    line = next(x for x in run.stdout.splitlines() if "FINDING=" in x)
    finding = json.loads(base64.b64decode(line.split("FINDING=", 1)[1].split('"')[0]))
    assert finding["status"] == "pass", finding
    assert finding["evidence"]["echoed"] is True
    assert '"route":"/healthz"' in finding["evidence"]["log_hits"][0]


def test_edge_dropping_the_header_fails(stack):
    finding, sent = _judge(stack, DROPPING, [stack.shop_log])
    assert sent["status"] == 200 and sent["returned"] is None
    assert finding.status == "fail", finding
    assert "without X-Request-ID" in finding.summary


def test_edge_replacing_the_id_warns(stack):
    finding, sent = _judge(stack, REPLACING, [stack.shop_log])
    assert sent["returned"] and sent["returned"] != sent["sent"], sent
    assert finding.status == "warn", finding
    assert "replaced the %s that was sent" % sent["sent"] in finding.summary


def test_log_without_the_request_fails(stack):
    other = stack.file("other.log", b'{"request_id":"someone-else-1","route":"/","status":200,"release":"r"}\n')
    finding, sent = _judge(stack, GOOD, [other])
    assert sent["echoed"], sent
    assert finding.status == "fail", finding
    assert "no log under %s holds it" % other in finding.summary


def test_unreadable_logs_are_an_error_with_the_reason(stack):
    missing = os.path.join(stack.workdir, "nowhere", "*.log")
    finding, _sent = _judge(stack, GOOD, [missing])
    assert finding.status == "error", finding
    assert "no log file matches %s" % missing in finding.summary


def test_no_log_paths_skips_with_the_reason(stack):
    finding, _sent = _judge(stack, GOOD, None)
    assert finding.status == "skip"
    assert "launch_log_paths" in finding.summary
