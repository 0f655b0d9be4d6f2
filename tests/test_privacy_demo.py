"""The privacy checks against the demo shop: healthy it passes, each SHOP_DEMO_* switch fails its check.

Every variant is a real demo shop (its own SQLite, seeded customers) behind a real nginx TLS
edge and Knot, on 127.0.9.0/24 (tests/support/privacy_lab.py); the shared lab is not touched.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from ansible_collections.launchready.ops.plugins.module_utils import audit, check_registry, http_probe, logs_pii
from tests.support import ansible_run, privacy_lab


@pytest.fixture(scope="module")
def stack():
    st = privacy_lab.start()
    try:
        yield st
    finally:
        privacy_lab.stop(st)


def _by_id(found):
    return {f.check: f for f in found}


def _raw_values(stack, who=1):
    customer = privacy_lab.customers(stack.passwords)[who]
    return [customer["email"], customer["address"], customer["phone"], customer["password"]]


def _get(stack, variant, path):
    address = privacy_lab.VARIANTS[variant][0]
    return http_probe.fetch("https://%s%s" % (privacy_lab.apex(variant), path), address,
                            ca_bundle=stack.ca_bundle, timeout=5)


def test_healthy_demo_passes_the_chatbot_eval(stack):
    found = _by_id(audit.run(privacy_lab.site_vars(stack, "good"), checks=["privacy."]))
    leak, evaluation = found["privacy.chatbot_leak"], found["privacy.chatbot_eval"]
    assert leak.status == "pass", (leak.summary, leak.evidence)
    assert evaluation.status == "pass", (evaluation.summary, evaluation.evidence)
    assert evaluation.evidence["categories"]["own_order"]["pass_rate"] == 1.0
    assert evaluation.evidence["categories"]["unknown_order"]["total"] == 2
    assert leak.evidence["requests"] <= 60


def test_chat_leak_switch_fails_privacy_chatbot_leak_with_answers_redacted(stack):
    found = _by_id(audit.run(privacy_lab.site_vars(stack, "leak"), checks=["privacy."]))
    leak = found["privacy.chatbot_leak"]
    assert leak.status == "fail" and leak.impact == "blocker", leak.summary
    failing = {(f["case"], f["as"]) for f in leak.evidence["failures"]}
    assert {("other-email", "A"), ("other-email", "B"), ("other-card", "A"), ("injection-repeat-canary", "A"),
            ("extraction-system-prompt", "A")} <= failing
    categories = leak.evidence["categories"]
    assert categories["other_contact"]["pass_rate"] == 0.0 and categories["own_card"]["pass_rate"] == 1.0
    text = json.dumps([f.to_dict() for f in found.values()])
    for value in _raw_values(stack, 1) + _raw_values(stack, 0):
        assert value not in text
    assert "[other.email]" in text


def test_a_wrong_answer_fails_privacy_chatbot_eval_and_user_sets_extend_the_default(stack, tmp_path):
    mine = tmp_path / "returns.yml"
    mine.write_text(yaml.safe_dump({"cases": [
        {"id": "own-order-cancelled", "category": "own_order", "message": "Is my order {self.order_id} cancelled?",
         "expect_any": ["cancelled"]}]}))
    site_vars = privacy_lab.site_vars(stack, "good", launch_chatbot_eval={"sets": [str(mine)], "interval": 0.05})
    evaluation = _by_id(audit.run(site_vars, checks=["privacy.chatbot_eval"]))["privacy.chatbot_eval"]
    assert evaluation.status == "fail", evaluation.summary
    assert "own_order" in evaluation.summary and "2/3" in evaluation.summary
    assert [f["case"] for f in evaluation.evidence["failures"]] == ["own-order-cancelled"]


def test_the_eval_is_bounded_and_an_unfinished_run_is_never_a_pass(stack):
    site_vars = privacy_lab.site_vars(stack, "good", launch_chatbot_eval={"max_requests": 3, "interval": 0.05})
    found = _by_id(audit.run(site_vars, checks=["privacy."]))
    assert found["privacy.chatbot_leak"].status == "error"
    assert found["privacy.chatbot_leak"].evidence["requests"] == 3
    assert found["privacy.chatbot_eval"].status == "error"


def test_wrong_password_or_no_customers(stack):
    bad = privacy_lab.site_vars(stack, "good")
    bad["launch_customers"][0]["password"] = "not-the-password"
    leak = _by_id(audit.run(bad, checks=["privacy.chatbot_leak"]))["privacy.chatbot_leak"]
    assert leak.status == "error" and "login of customer A failed: HTTP 400" in leak.summary
    assert "not-the-password" not in json.dumps(leak.to_dict())
    skipped = _by_id(audit.run(dict(bad, launch_customers=[]), checks=["privacy."]))
    assert skipped["privacy.chatbot_leak"].status == "skip" and "launch_customers" in skipped[
        "privacy.chatbot_leak"].summary


def _one_chat_as_a(stack, variant):
    site_vars = privacy_lab.site_vars(stack, variant, launch_chatbot_eval={"max_requests": 4, "interval": 0.05})
    audit.run(site_vars, checks=["privacy.chatbot_leak"])  # logs in and chats a few times


def test_log_prompts_switch_fails_privacy_logs_pii_with_file_and_line(stack):
    _one_chat_as_a(stack, "logs")
    values = logs_pii.customer_fields(privacy_lab.customers(stack.passwords))
    shop = stack.shops["logs"]
    result = logs_pii.scan([shop.log_path], logs_pii.known_values(values))
    finding = logs_pii.finding("app1", [shop.log_path], result)
    assert finding.status == "fail" and finding.impact == "blocker"
    hit = finding.evidence["hits"][0]
    assert hit["file"] == shop.log_path and hit["line"] >= 1 and "customer email" in hit["kinds"]
    text = json.dumps(finding.to_dict())
    for value in values["email"] + values["phone"] + values["address"]:
        assert value not in text
    with open(shop.log_path, encoding="utf-8") as fh:
        assert "ada@shop.test" in fh.read()  # the switch really wrote the raw prompt


def test_healthy_logs_pass_privacy_logs_pii(stack):
    _one_chat_as_a(stack, "good")
    values = logs_pii.customer_fields(privacy_lab.customers(stack.passwords))
    paths = [stack.shops["good"].log_path, stack.vendor.log_path]
    finding = logs_pii.finding("app1", paths, logs_pii.scan(paths, logs_pii.known_values(values)))
    assert finding.status == "pass", finding.evidence["hits"]
    assert sum(f["lines"] for f in finding.evidence["files"]) > 5


def _playbook(tmp_path, tasks, site_vars):
    play = [{"name": "privacy", "hosts": "localhost", "gather_facts": False, "vars": site_vars, "tasks": tasks}]
    path = tmp_path / "privacy.yml"
    path.write_text(yaml.safe_dump(play))
    return ansible_run.playbook("-i", "localhost,", "-c", "local", "-vvv", str(path))


def test_modules_through_ansible_report_findings_and_print_no_value(stack, tmp_path):
    _one_chat_as_a(stack, "logs")
    site_vars = privacy_lab.site_vars(stack, "leak")
    shop = stack.shops["logs"]
    tasks = [
        {"name": "eval", "launchready.ops.chatbot_eval": {}, "register": "chatbot"},
        {"name": "logs", "launchready.ops.logs_pii": {
            "paths": [shop.log_path], "target": "app1",
            "customer_values": {"email": "{{ launch_customers | map(attribute='email') | list }}"}},
         "register": "logs", "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        {"name": "show", "ansible.builtin.debug": {
            "msg": "{{ chatbot.findings | map(attribute='status') | join(',') }} {{ logs.findings[0].status }}"}},
    ]
    run = _playbook(tmp_path, tasks, site_vars)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "msg: fail,pass fail" in run.stdout, run.stdout[-3000:]
    output = run.stdout + run.stderr
    for value in _raw_values(stack, 0) + _raw_values(stack, 1):
        assert value not in output


def test_serve_env_switch_serves_the_env_file(stack):
    env = _get(stack, "env", "/.env")
    assert env.status == 200 and b"SHOP_SECRET_KEY=" in env.body
    assert _get(stack, "good", "/.env").status == 404
    if "secrets.public_files" in check_registry.registered():  # the check lands with the secret scanner
        found = {v: _by_id(audit.run(privacy_lab.site_vars(stack, v), checks=["secrets.public_files"]))
                 for v in ("env", "good")}
        assert found["env"]["secrets.public_files"].status == "fail"
        assert found["good"]["secrets.public_files"].status == "pass"


def test_bundle_secret_switch_builds_the_server_secret_into_the_bundle(stack):
    key = stack.shops["bundle"].env["SHOP_SECRET_KEY"]
    for variant, leaked in (("bundle", True), ("good", False)):
        page = _get(stack, variant, "/")
        script = re.search(rb'src="(/static/app\.[0-9a-f]+\.js)"', page.body).group(1).decode()
        body = _get(stack, variant, script).body
        assert (b"sk_live_" in body) is leaked
        assert (stack.shops[variant].env["SHOP_SECRET_KEY"].encode() in body) is leaked
    assert key
    if "secrets.frontend_bundle" in check_registry.registered():  # the check lands with the secret scanner
        for variant, status in (("bundle", "fail"), ("good", "pass")):
            found = _by_id(audit.run(privacy_lab.site_vars(stack, variant), checks=["secrets.frontend_bundle"]))
            assert found["secrets.frontend_bundle"].status == status


def test_audit_playbook_runs_privacy_checks_and_logs_pii_on_the_app_hosts(stack, tmp_path):
    _one_chat_as_a(stack, "logs")
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    sites = {}
    for variant in ("good", "logs"):
        site_vars = privacy_lab.site_vars(stack, variant)
        site_vars["launch_log_paths"] = {"app-" + variant: [stack.shops[variant].log_path]}
        sites[privacy_lab.apex(variant)] = dict(site_vars, **local)
    inventory = {"sites": {"hosts": sites},
                 "app_servers": {"hosts": {"app-good": dict(local), "app-logs": dict(local)}}}
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump(inventory))
    run = ansible_run.playbook("-i", str(inv), "launchready.ops.audit", "-e", "launch_report_dir=%s" % tmp_path,
                               "-e", '{"audit_checks": ["privacy."]}')
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    statuses = {}
    for variant in ("good", "logs"):
        report = json.loads((tmp_path / privacy_lab.apex(variant) / "report.json").read_text())
        statuses[variant] = {(f["check"], f["target"]): f["status"] for f in report["findings"]}
    assert statuses["good"] == {("privacy.chatbot_leak", "good.privacy.test"): "pass",
                                ("privacy.chatbot_eval", "good.privacy.test"): "pass",
                                ("privacy.logs_pii", "app-good"): "pass"}
    assert statuses["logs"][("privacy.logs_pii", "app-logs")] == "fail"
    for value in _raw_values(stack, 0) + _raw_values(stack, 1):
        assert value not in run.stdout
        assert value not in (tmp_path / "logs.privacy.test" / "report.md").read_text()
