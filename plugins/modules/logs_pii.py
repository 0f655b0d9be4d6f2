#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: logs_pii
short_description: Find personal data in an app host's log files (privacy.logs_pii)
version_added: 0.2.0
description:
  - Reads the log files that O(paths) (globs) match on the host it runs on - the app's, the
    edge's and the chatbot's - and looks in every line for e-mail addresses, phone numbers,
    card numbers (13 to 19 digits passing the Luhn check) and the given customer values.
  - Returns the C(privacy.logs_pii) finding of the launch check catalog for this host, with
    file and line of each hit and the line redacted (C([email]), C([phone]), C([card]),
    C([customer email])...); no value found is ever returned.
  - Reads at most the last 64 MiB of each file; C(.gz) rotations are read too.
author:
  - launchready.ops developers (@launchready)
options:
  paths:
    description:
      - Globs of the log files to read (C(**) matches directories recursively).
      - An empty list returns a C(skip) finding.
    type: list
    elements: str
    required: true
  customer_values:
    description:
      - The seeded test customers' values to look for as well, by field (C(email), C(name), C(address),
        C(phone)), each a list of values.
      - The audit role builds it from C(launch_customers), without the passwords.
    type: dict
    default: {}
  target:
    description: Name of this host in the finding. Default the host name.
    type: str
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes.
  idempotent:
    support: full
    description: Reads only.
notes:
  - Runs on the app host (no Python packages needed there), for example with C(delegate_to) from
    the site's play; the audit role does this for every host of C(launch_log_paths).
seealso:
  - module: launchready.ops.chatbot_eval
  - module: launchready.ops.launch_report
"""

EXAMPLES = r"""
- name: Scan the shop's and the edge's logs
  launchready.ops.logs_pii:
    paths:
      - /var/log/shop/*.log
      - /var/log/nginx/access.log*
    customer_values:
      email: "{{ launch_customers | default([]) | map(attribute='email') | list }}"
  register: logs_pii
  delegate_to: app1.example
"""

RETURN = r"""
findings:
  description: The C(privacy.logs_pii) finding of this host, in the report format.
  returned: always
  type: list
  elements: dict
  sample:
    - check: privacy.logs_pii
      status: fail
      impact: blocker
      stage: audit
      target: app1.example
      summary: "3 log line(s) on app1.example hold personal data (email), first at /var/log/shop/app.log:12"
      evidence:
        hits:
          - file: /var/log/shop/app.log
            line: 12
            kinds: [email]
            text: "rid=... prompt=\"USER: my mail is [email]\""
      fix: Stop logging request bodies, prompts and query strings...
"""

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.launchready.ops.plugins.module_utils import logs_pii

# Also validated by the action plugin of the same name (plugin_utils/module_twin.py).
MODULE_SPEC = {"argument_spec": {
    "paths": {"type": "list", "elements": "str", "required": True},
    "customer_values": {"type": "dict", "default": {}, "no_log": True},
    "target": {"type": "str"},
}}


def main() -> None:
    module = AnsibleModule(supports_check_mode=True, **MODULE_SPEC)
    p = module.params
    target = p["target"] or socket.gethostname()
    if not p["paths"]:
        found = logs_pii.skipped(target, logs_pii.NO_PATHS)
    else:
        result = logs_pii.scan(p["paths"], logs_pii.known_values(p["customer_values"]))
        found = logs_pii.finding(target, p["paths"], result)
    module.exit_json(changed=False, findings=[found.to_dict()])


if __name__ == "__main__":
    main()
