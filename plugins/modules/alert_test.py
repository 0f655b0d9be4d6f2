#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: alert_test
short_description: Send a test alert through every owner's routes and report monitor.alert_delivery
version_added: 0.1.0
description:
  - Posts one alert per owner to Alertmanager (API v2) with the C(owner) label, so the owner's route
    takes it, and waits until Alertmanager's counters show the email and Slack notifications sent
    (or failed), with the time each took.
  - Only the given Alertmanager URL is contacted; each request has a timeout, each owner a total deadline.
  - Returns one C(monitor.alert_delivery) finding per owner and route.
author:
  - launchready.ops developers (@launchready)
options:
  alertmanager_url:
    description: Alertmanager's base URL, as seen from the monitoring host.
    type: str
    required: true
  routes:
    description: "C({owner: [email, slack_webhook_url]}): the routes each owner has (monitoring_config's C(routes_by_owner))."
    type: dict
    required: true
  site:
    description: The site label of the test alerts.
    type: str
    default: test
  deadline:
    description: Seconds to wait for each owner's notifications (at least group_wait plus a little).
    type: float
    default: 60
  timeout:
    description: Seconds each request may take.
    type: float
    default: 5
attributes:
  check_mode:
    support: partial
    description: It sends real notifications; in check mode it sends nothing and says so.
    details: In check mode no test alert is sent, so no monitor.alert_delivery finding is made.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
  idempotent:
    support: none
    description: Every run sends a new test alert.
"""

EXAMPLES = r"""
- name: Send a test alert through every route
  launchready.ops.alert_test:
    alertmanager_url: http://127.0.0.1:9093
    routes: {shop-ops: [email, slack_webhook_url]}
  register: alert_test
"""

RETURN = r"""
deliveries:
  description: One entry per owner and route.
  returned: success
  type: list
  elements: dict
  sample: [{owner: shop-ops, integration: email, delivered: true, seconds: 1.4}]
findings:
  description: The monitor.alert_delivery findings.
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.launchready.ops.plugins.module_utils import checks_monitoring as C


def main() -> None:
    module = AnsibleModule(argument_spec={
        "alertmanager_url": {"type": "str", "required": True},
        "routes": {"type": "dict", "required": True},
        "site": {"type": "str", "default": "test"},
        "deadline": {"type": "float", "default": 60.0},
        "timeout": {"type": "float", "default": 5.0},
    }, supports_check_mode=True)
    if module.check_mode:
        module.exit_json(changed=False, skipped=True, msg="check mode: no test alert sent", deliveries=[], findings=[])
    try:
        from ansible_collections.launchready.ops.plugins.module_utils import alert_delivery
    except ImportError as exc:  # requests missing on the monitoring host
        module.fail_json(msg="alert_test needs python3-requests on the monitoring host: %s" % exc)
    p = module.params
    deliveries = alert_delivery.send_and_wait(p["alertmanager_url"], p["routes"], deadline=p["deadline"],
                                              timeout=p["timeout"], site=p["site"])
    facts = C.MonitorFacts(domain=p["site"], deliveries=deliveries)
    findings = [f.to_dict() for f in C.evaluate(facts, [C.ALERT_DELIVERY.id])]
    module.exit_json(changed=True, deliveries=deliveries, findings=findings)


if __name__ == "__main__":
    main()
