#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: monitoring_config
short_description: Build the Prometheus, blackbox exporter and Alertmanager configurations of one site
version_added: 0.1.0
description:
  - Validates the site description (launch_* variables) and the monitoring settings against
    strict patterns (names, paths, URLs, label values, addresses) and fails naming the variable
    and the bad value.
  - Returns the configurations as data; the launchready.ops.monitoring role writes them with
    C(to_nice_yaml), so every value is quoted and nothing is spliced into a config as text.
  - Probe addresses come from C(launch_expected_addresses), else from resolving each public
    host through C(launch_resolvers) (with the site's timeout).
author:
  - launchready.ops developers (@launchready)
options:
  sites:
    description: The site descriptions (the launch_* variables of each site's inventory host); one stack watches them all.
    type: list
    elements: dict
    required: true
  settings:
    description:
      - The monitoring settings without the C(monitoring_) prefix (interval, alert_for, owners,
        smtp, probes, ...); see the role's argument specification.
      - Holds the SMTP password and Slack webhook URLs, so it is never logged.
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: Only computes; the same in check mode.
  diff_mode:
    support: none
    description: It writes nothing; the files it builds are written (and diffed) by the tasks that follow.
  idempotent:
    support: full
    description: The same inputs build the same configurations.
"""

EXAMPLES = r"""
- name: Build the stack's configurations
  launchready.ops.monitoring_config:
    sites:
      - "{{ hostvars['shop.test'] | dict2items | selectattr('key', 'match', '^launch_') | items2dict }}"
    settings:
      interval: 60
      owners: [{name: shop-ops, email: ops@shop.example}]
      smtp: {smarthost: "smtp.example:587", from: alerts@shop.example}
  register: monitoring_built
"""

RETURN = r"""
prometheus:
  description: prometheus.yml as data.
  returned: success
  type: dict
blackbox:
  description: The blackbox exporter's configuration (one module per host and route, one per DNS probe).
  returned: success
  type: dict
rules:
  description: The alert rules file as data; every rule has C(owner) and C(severity) labels.
  returned: success
  type: dict
rules_tests:
  description: A C(promtool test rules) fixture; its C(rule_files) entry is a placeholder the role replaces.
  returned: success
  type: dict
alertmanager:
  description: alertmanager.yml as data (holds secrets; the role writes it under no_log).
  returned: success
  type: dict
targets:
  description: The HTTP probes, one per host, route and address, with their labels and URL.
  returned: success
  type: list
  elements: dict
"""

# The options' spec: the action plugin of the same name validates the task's arguments with it.
MODULE_SPEC = {"argument_spec": {
    "sites": {"type": "list", "elements": "dict", "required": True},
    "settings": {"type": "dict", "required": True, "no_log": True},
}}
