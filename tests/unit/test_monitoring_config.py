"""monitoring_config: strict inputs, owners on every rule, and the Stage 4 checks on its output."""

from __future__ import annotations

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry
from ansible_collections.launchready.ops.plugins.module_utils import checks_monitoring as C
from ansible_collections.launchready.ops.plugins.module_utils import monitoring_config as M

SITE = {"launch_domain": "shop.test", "launch_hosts": ["shop.test", "www.shop.test"],
        "launch_routes": {"homepage": "/", "checkout": "/api/checkout", "health": "/healthz", "chatbot": "/api/chat"},
        "launch_resolvers": ["127.0.0.53"], "launch_ca_bundle": "/etc/ssl/lab.pem"}
ADDRS = {"shop.test": ["127.0.0.10"], "www.shop.test": ["127.0.0.10"]}
SETTINGS = {"owners": [{"name": "shop-ops", "email": "ops@shop.test",
                        "slack_webhook_url": "https://hooks.slack.example/services/T0/B0/xyz"}],
            "smtp": {"smarthost": "smtp.shop.test:587", "from": "alerts@shop.test", "auth_username": "alerts",
                     "auth_password": "s3cret"}}


def build(**kw):
    return M.build(dict(SITE, **kw.pop("site", {})), dict(SETTINGS, **kw), addresses=ADDRS)


def test_every_rule_has_owner_and_severity_and_symptoms_are_inhibited():
    built = build(rule_owners={"CheckoutFailures": "shop-ops"})
    rules = built["rules"]["groups"][0]["rules"]
    assert {r["alert"] for r in rules} == set(M.ALERTS)
    assert all(r["labels"]["owner"] == "shop-ops" and r["labels"]["severity"] for r in rules)
    inhibit = built["alertmanager"]["inhibit_rules"][0]
    assert inhibit["source_matchers"] == ['alertname="SiteDown"'] and "RouteDown" in inhibit["target_matchers"][0]
    receiver = built["alertmanager"]["receivers"][0]
    assert receiver["email_configs"][0]["send_resolved"] and receiver["slack_configs"][0]["send_resolved"]


def test_probes_use_host_header_sni_and_the_ca_bundle():
    built = build()
    module = built["blackbox"]["modules"]["http_www_shop_test_homepage"]["http"]
    assert module["headers"]["Host"] == "www.shop.test"
    assert module["tls_config"] == {"server_name": "www.shop.test", "insecure_skip_verify": False,
                                    "ca_file": "/etc/ssl/lab.pem"}
    assert {t["url"] for t in built["targets"]} == {"https://127.0.0.10/", "https://127.0.0.10/api/checkout",
                                                    "https://127.0.0.10/healthz", "https://127.0.0.10/api/chat"}
    assert built["dns_targets"][0]["target"] == "127.0.0.53:53"


@pytest.mark.parametrize("override, var", [
    ({"owners": [{"name": 'ops"\n- x', "email": "ops@shop.test"}]}, "monitoring_owners[0].name"),
    ({"owners": [{"name": "ops", "slack_webhook_url": "http://hooks.example/x"}]}, "slack_webhook_url"),
    ({"owners": [{"name": "ops", "slack_webhook_url": "https://h.example/{{ x }}"}]}, "slack_webhook_url"),
    ({"owners": [{"name": "ops"}]}, "monitoring_owners[0]"),
    ({"owners": []}, "monitoring_owners"),
    ({"interval": 0}, "monitoring_interval"),
    ({"metrics_targets": ["127.0.0.1:8081/x"]}, "monitoring_metrics_targets[0]"),
    ({"rule_owners": {"SiteDown": "nobody"}}, "monitoring_rule_owners.SiteDown"),
    ({"smtp": {"smarthost": "smtp.shop.test", "from": "a@shop.test"}}, "monitoring_smtp.smarthost"),
    ({"probes": {"checkout": {"method": "DELETE"}}}, "monitoring_probes.checkout.method"),
    ({"probes": {"checkout": {"headers": {"X-A": "a\r\nb"}}}}, "monitoring_probes.checkout.headers.X-A"),
    ({"extra_rules": [{"alert": "bad name", "expr": "up == 0"}]}, "monitoring_extra_rules[0].alert"),
    ({"extra_routes": [{"receiver": "nobody", "matchers": ["a=b"]}]}, "monitoring_extra_routes[0].receiver"),
    ({"site": {"launch_routes": {"homepage": "/\"} or vector(1)"}}}, "launch_routes.homepage"),
])
def test_bad_inputs_are_refused_naming_the_variable(override, var):
    with pytest.raises(ValueError) as err:
        build(**override)
    assert var in str(err.value)
    assert "s3cret" not in str(err.value)


def test_catalog_checks_registered():
    registered = check_registry.registered()
    assert set(C.IDS) == {"monitor.uptime_targets", "monitor.alert_delivery", "monitor.cert_expiry_alert",
                          "logs.request_id"}
    assert all(i in registered for i in C.IDS)


def _facts(built=None, **kw):
    built = built or build()
    return C.MonitorFacts(domain="shop.test", hosts=SITE["launch_hosts"], routes=SITE["launch_routes"],
                          targets=built["targets"], interval=built["interval"], rules=built["rules"], **kw)


def by_id(found):
    return {f.check: f for f in found}


def test_checks_pass_on_the_built_stack_and_fail_on_gaps():
    found = by_id(C.evaluate(_facts()))
    assert found["monitor.uptime_targets"].status == "pass"
    assert found["monitor.cert_expiry_alert"].status == "pass"
    assert found["monitor.alert_delivery"].status == "skip"
    slow = build(interval=120)
    assert by_id(C.evaluate(_facts(slow)))["monitor.uptime_targets"].status == "fail"
    partial = dict(build(), targets=[t for t in build()["targets"] if t["route"] != "chatbot"])
    finding = by_id(C.evaluate(_facts(partial)))["monitor.uptime_targets"]
    assert finding.status == "fail" and "chatbot" in finding.summary
    kept = [r for r in build()["rules"]["groups"][0]["rules"] if r["alert"] != "CertExpiringSoon"]
    no_cert = dict(build(), rules={"groups": [{"rules": kept}]})
    assert by_id(C.evaluate(_facts(no_cert)))["monitor.cert_expiry_alert"].status == "fail"


def test_alert_delivery_and_request_id_verdicts():
    deliveries = [{"owner": "shop-ops", "integration": "email", "delivered": True, "seconds": 1.2},
                  {"owner": "shop-ops", "integration": "slack", "delivered": False, "error": "HTTP 404"}]
    found = [f for f in C.evaluate(_facts(deliveries=deliveries)) if f.check == "monitor.alert_delivery"]
    assert [f.status for f in found] == ["pass", "fail"] and "HTTP 404" in found[1].summary
    line = '{"release":"r1","request_id":"abc12345","route":"/","status":200}'
    ok = {"url": "https://shop.test/", "sent": "abc12345", "returned": "abc12345", "log_files": ["x"],
          "log_hits": [line]}
    assert by_id(C.evaluate(_facts(request_id=ok)))["logs.request_id"].status == "pass"
    missing = dict(ok, log_hits=[])
    assert by_id(C.evaluate(_facts(request_id=missing)))["logs.request_id"].status == "fail"
    bare = dict(ok, returned=None)
    assert by_id(C.evaluate(_facts(request_id=bare)))["logs.request_id"].status == "fail"
