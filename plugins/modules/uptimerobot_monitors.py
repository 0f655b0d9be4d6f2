#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: uptimerobot_monitors
short_description: The site's uptime monitors and alert contacts on UptimeRobot (monitoring_provider uptimerobot)
version_added: 0.1.0
description:
  - One HTTP(S) monitor per public host and route the Prometheus stack would probe (homepage, checkout,
    API health, chatbot health; method and body from O(probes)), every O(interval) seconds, alerting
    every owner's email and Slack webhook as UptimeRobot alert contacts.
  - Reads the account first (getAlertContacts, getMonitors) and writes only what differs (newAlertContact,
    newMonitor, editMonitor, deleteMonitor); a second run makes no write call.
  - Monitors are this collection's by name (C(launchready SITE HOST ROUTE)); one of the site's no longer wanted
    is deleted, no other monitor is touched. Contacts are matched by type and value and never deleted.
  - Talks to O(api_url) over https only, with a timeout, the CA given (or OpenSSL's store), and no proxy or
    credentials from the environment. The API key and the Slack webhook URLs are never logged or shown.
author:
  - launchready.ops developers (@launchready)
options:
  api_key:
    description: The account's Main API key (from the vault).
    type: str
    required: true
  api_url:
    description: The API's base URL (a test server's, or a proxy's).
    type: str
    default: https://api.uptimerobot.com/v2
  timeout:
    description: Seconds each API call may take.
    type: float
    default: 30
  validate_certs:
    description: Check the API's certificate (against O(ca_path), or OpenSSL's store).
    type: bool
    default: true
  ca_path:
    description: A PEM file of the CAs to trust for the API (only those).
    type: path
  site:
    description: The site's name (launch_domain); part of every monitor's name.
    type: str
    required: true
  targets:
    description: The probe targets C({host, route, path}) launchready.ops.monitoring_config built.
    type: list
    elements: dict
    required: true
  probes:
    description: C(monitoring_probes) - per route C({method, body, headers}) for routes a GET cannot check.
    type: dict
    default: {}
  interval:
    description: Seconds between checks.
    type: int
    default: 60
  owners:
    description: C(monitoring_owners) - who gets the alerts.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The owner's name.
        type: str
        required: true
      email:
        description: Where email alerts go.
        type: str
      slack_webhook_url:
        description: The owner's Slack incoming webhook (a secret, from the vault).
        type: str
      slack_channel:
        description: Not used by UptimeRobot (the webhook names its channel).
        type: str
attributes:
  check_mode:
    support: full
    description: Reads the account and reports what would be written; writes nothing.
  diff_mode:
    support: full
    description: The monitors created or changed, the contacts added by name (never their values).
  idempotent:
    support: full
    description: Running it again with the same inputs changes nothing more.
"""

EXAMPLES = r"""
- name: Monitors on UptimeRobot
  launchready.ops.uptimerobot_monitors:
    api_key: "{{ vault_uptimerobot_api_key }}"
    site: shop.example
    targets: "{{ monitoring_built.targets }}"
    probes: "{{ monitoring_probes }}"
    interval: 60
    owners: "{{ monitoring_owners }}"
"""

RETURN = r"""
created:
  description: Names of the monitors created (or that would be).
  returned: success
  type: list
  elements: str
edited:
  description: Names of the monitors changed, with the fields that differed.
  returned: success
  type: list
  elements: dict
deleted:
  description: Names of the site's monitors deleted.
  returned: success
  type: list
  elements: str
contacts_added:
  description: Names of the alert contacts added.
  returned: success
  type: list
  elements: str
calls:
  description: The API methods called, in order.
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.launchready.ops.plugins.module_utils import uptimerobot_api as api
from ansible_collections.launchready.ops.plugins.module_utils import uptimerobot_monitors as um


def main() -> None:
    module = AnsibleModule(argument_spec={
        "api_key": {"type": "str", "required": True, "no_log": True},
        "api_url": {"type": "str", "default": api.DEFAULT_API_URL},
        "timeout": {"type": "float", "default": 30},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "site": {"type": "str", "required": True},
        "targets": {"type": "list", "elements": "dict", "required": True},
        "probes": {"type": "dict", "default": {}},
        "interval": {"type": "int", "default": 60},
        "owners": {"type": "list", "elements": "dict", "required": True, "options": {
            "name": {"type": "str", "required": True},
            "email": {"type": "str"},
            "slack_webhook_url": {"type": "str", "no_log": True},
            "slack_channel": {"type": "str"},
        }},
    }, supports_check_mode=True)
    if not api.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"))
    p = module.params
    if not 30 <= p["interval"] <= 86400:
        module.fail_json(msg="interval must be 30 to 86400 seconds, got %d" % p["interval"])
    monitors, contacts = um.desired(p["site"], p["targets"], p["probes"], p["interval"], p["owners"])
    try:
        client = api.UptimeRobotClient(p["api_key"], p["api_url"], timeout=p["timeout"],
                                       verify=p["ca_path"] if p["ca_path"] else p["validate_certs"])
        plan = um.plan(client, p["site"], monitors, contacts)
        if um.changed(plan) and not module.check_mode:
            um.apply(client, plan)
    except api.UptimeRobotError as exc:
        module.fail_json(msg=str(exc))
    result = {
        "changed": um.changed(plan),
        "created": [m["friendly_name"] for m in plan["create"]],
        "edited": [{"name": e["monitor"]["friendly_name"], "changed": e["changed"]} for e in plan["edit"]],
        "deleted": [d["friendly_name"] for d in plan["delete"]],
        "contacts_added": [c["friendly_name"] for c in plan["contacts"]],
        "calls": client.calls,
    }
    if module._diff:
        result["diff"] = um.diff(plan, monitors)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
