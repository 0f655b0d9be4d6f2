#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_smoke
short_description: The deploy health gate - key routes of the site answer as they should
version_added: 0.2.0
description:
  - Requests the routes of C(launch_routes) (homepage, login, health, checkout, chatbot, version) on the
    canonical host, resolved through C(launch_resolvers), with SNI and Host set to the name - as a
    customer reaches the site - and fails with the evidence when one answers wrong.
  - With O(expect_commit), the version route must serve that commit (the new code is really live).
  - Runs as an action plugin on the controller.
author:
  - launchready.ops developers (@launchready)
options:
  site:
    description: The site description (C(launch_*) variables). Default the host's own C(launch_*) variables.
    type: dict
  checks:
    description:
      - One request per item - C(route) (a key of C(launch_routes)) or C(path), C(method), C(body) (sent
        as JSON), C(status) (accepted statuses) and C(contains) (text the answer must hold).
      - Routes the site does not have are skipped. Default homepage, login and health (GET, 200),
        checkout and chatbot (POST).
    type: list
    elements: dict
  base_url:
    description: Ask this origin (for example V(http://127.0.0.1:8081)) instead of the canonical host.
    type: str
  expect_commit:
    description: Commit the version route must serve.
    type: str
  retries:
    description: Tries per check before it counts as failed.
    type: int
    default: 3
  delay:
    description: Seconds between tries.
    type: float
    default: 1.0
attributes:
  check_mode:
    support: none
    description: Skipped in check mode (nothing was deployed to check).
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
seealso:
  - module: launchready.ops.release
"""

EXAMPLES = r"""
- name: Health gate after the switch
  launchready.ops.release_smoke:
    site: "{{ hostvars['shop.example'] }}"
    expect_commit: "{{ plan.commit }}"
"""

RETURN = r"""
ok:
  description: True when every check passed.
  returned: success
  type: bool
results:
  description: One entry per request, with route, url, address, status, elapsed_ms, ok and the problem.
  returned: success
  type: list
  elements: dict
failures:
  description: One sentence per failed check.
  returned: success
  type: list
  elements: str
skipped:
  description: Routes the site does not have.
  returned: success
  type: list
  elements: str
"""

# The options' spec: the action plugin of the same name validates the task's arguments with it.
MODULE_SPEC = {"argument_spec": {
    "site": {"type": "dict"},
    "checks": {"type": "list", "elements": "dict"},
    "base_url": {"type": "str"},
    "expect_commit": {"type": "str"},
    "retries": {"type": "int", "default": 3},
    "delay": {"type": "float", "default": 1.0},
}}
