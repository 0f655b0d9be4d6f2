#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: request_id_send
short_description: Send one request with a fresh X-Request-ID to the site (the facts of logs.request_id)
version_added: 0.1.0
description:
  - GETs the canonical host's health route (else its homepage) once, through the audit's HTTP probe
    (C(launch_resolvers), SNI and Host set to the name, C(launch_ca_bundle), the site's timeout), with a
    fresh C(X-Request-ID), and returns what the response carried back.
  - Runs on the controller, as a customer reaches the site. Pair it with M(launchready.ops.log_search)
    and M(launchready.ops.request_id_check).
author:
  - launchready.ops developers (@launchready)
options:
  site:
    description: The site description (the launch_* variables of the site's inventory host).
    type: dict
    required: true
attributes:
  check_mode:
    support: full
    description: A GET of the health route changes nothing; it is sent in check mode too.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
  idempotent:
    support: full
    description: Running it again with the same inputs changes nothing more.
"""

EXAMPLES = r"""
- name: Send a request id
  launchready.ops.request_id_send:
    site: "{{ hostvars['shop.test'] | dict2items | selectattr('key', 'match', '^launch_') | items2dict }}"
  register: sent
"""

# Validated by the action plugin of the same name (plugin_utils/module_twin.py).
MODULE_SPEC = {"argument_spec": {
    "site": {"type": "dict", "required": True},
}}

RETURN = r"""
request:
  description: C({url, address, sent, returned, echoed, status, error}); C(error) says why no answer came.
  returned: success
  type: dict
  sample: {url: "https://shop.test/healthz", address: 127.0.0.10, sent: launchready-0a1b2c3d4e5f60718293a4b5,
           returned: launchready-0a1b2c3d4e5f60718293a4b5, echoed: true, status: 200, error: null}
log_hosts:
  description: C(launch_log_paths) as C([{host, paths}]), groups expanded to their hosts; null when it is not set.
  returned: success
  type: list
  elements: dict
"""
