#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: request_id_check
short_description: Judge logs.request_id from a sent request id and the log searches
version_added: 0.1.0
description:
  - C(pass) when the response carried X-Request-ID and a log line holds it with route, status and release;
    C(fail) when the response had no X-Request-ID or no log holds it; C(error) with the reason when the
    site did not answer or the logs could not be read; C(skip) when C(launch_log_paths) is not set.
author:
  - launchready.ops developers (@launchready)
options:
  site:
    description: The site's name (launch_domain), the findings' target.
    type: str
    required: true
  request:
    description: The RV(launchready.ops.request_id_send#module:request) result.
    type: dict
  searches:
    description:
      - One M(launchready.ops.log_search) result per log host (C({host, log_files, log_hits, error})).
      - Omitted or null when C(launch_log_paths) is not set; the check then skips.
    type: list
    elements: dict
attributes:
  check_mode:
    support: full
    description: Nothing changes in check mode; the same answer as a real run.
  diff_mode:
    support: none
    description: Nothing to show as a diff.
  idempotent:
    support: full
    description: Running it again with the same inputs changes nothing more.
"""

EXAMPLES = r"""
- name: Judge logs.request_id
  launchready.ops.request_id_check:
    site: shop.test
    request: "{{ sent.request }}"
    searches: "{{ searched.results }}"
"""

# Validated by the action plugin of the same name (plugin_utils/module_twin.py).
MODULE_SPEC = {"argument_spec": {
    "site": {"type": "str", "required": True},
    "request": {"type": "dict"},
    "searches": {"type": "list", "elements": "dict"},
}}

RETURN = r"""
findings:
  description: The logs.request_id finding.
  returned: success
  type: list
  elements: dict
verdict:
  description: The finding's status.
  returned: success
  type: str
request_id:
  description: The facts judged (C(null) when C(launch_log_paths) is not set).
  returned: success
  type: dict
"""
