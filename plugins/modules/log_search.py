#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: log_search
short_description: Find the log lines of one request id on an app host (for logs.request_id)
version_added: 0.1.0
description:
  - Reads the end (8 MiB) of every file the globs O(paths) match and returns the lines holding O(request_id).
  - Reads only; never changes anything. Runs on the app host that writes the logs (or the controller when
    the logs are local).
  - A glob matching no file or a file it cannot read is reported in RV(error), not as a task failure, so
    the check can say why it could not judge.
author:
  - launchready.ops developers (@launchready)
options:
  paths:
    description: Log file globs (a value of C(launch_log_paths)).
    type: list
    elements: str
    required: true
  request_id:
    description: The request id to find (letters, digits, C(.), C(_), C(-); 8 to 128 characters).
    type: str
    required: true
  max_hits:
    description: At most this many lines are returned.
    type: int
    default: 5
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
- name: Find the request in the shop's logs
  launchready.ops.log_search:
    paths: [/var/log/shop/*.log]
    request_id: launchready-0123456789abcdef01234567
"""

RETURN = r"""
log_files:
  description: The files searched.
  returned: always
  type: list
  elements: str
log_hits:
  description: The lines holding the request id.
  returned: always
  type: list
  elements: str
error:
  description: Why the logs could not be read (no file matches, a file unreadable), or null.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.launchready.ops.plugins.module_utils import request_id_trace


def main() -> None:
    module = AnsibleModule(argument_spec={
        "paths": {"type": "list", "elements": "str", "required": True},
        "request_id": {"type": "str", "required": True},
        "max_hits": {"type": "int", "default": request_id_trace.MAX_HITS},
    }, supports_check_mode=True)
    p = module.params
    if not request_id_trace.ID_PATTERN.match(p["request_id"]):
        module.fail_json(msg="request_id must be 8 to 128 letters, digits, '.', '_' or '-', got %r" % p["request_id"])
    module.exit_json(changed=False, **request_id_trace.search_logs(p["paths"], p["request_id"], p["max_hits"]))


if __name__ == "__main__":
    main()
