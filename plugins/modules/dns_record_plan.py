#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dns_record_plan
short_description: Work out the full record sets to send to an RFC 2136 server, keeping values owned by others
version_added: 0.1.0
description:
  - Reads each named record set from the server that takes RFC 2136 updates (over TCP, with a
    timeout) and returns the complete set to write, in the record format of the
    launchready.ops.dns_records role (community.general.nsupdate replaces whole sets).
  - With C(value_prefix) in a record, only values starting with that prefix belong to the set; the other
    values found at the name are kept. That is how an SPF record is published beside
    site-verification TXT records at the same apex.
  - With C(--diff), shows each set that will change, before and after, in zone-file form.
  - Only reads. A server that does not answer fails the task, so that nothing is published on a
    guess.
  - Reports C(changed) when a set on the server differs from the wanted one, that is when the
    update that follows will change something.
author:
  - launchready.ops developers (@launchready)
options:
  server:
    description: Address of the server that takes the updates (the primary).
    type: str
    required: true
  port:
    description: Its port.
    type: int
    default: 53
  zone:
    description: The zone the records belong to; relative names are taken inside it.
    type: str
    required: true
  records:
    description:
      - The sets wanted. Each has C(record) (or C(name)), C(type), C(value) or C(values), and
        optionally C(ttl), C(state) (V(present) or V(absent)) and C(value_prefix).
      - TXT values are plain text; they are cut into strings of 255 octets for the update.
    type: list
    elements: dict
    required: true
  ttl:
    description: TTL of sets that do not give their own.
    type: int
    default: 3600
  timeout:
    description: Seconds each question may take.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    description: Only reads; runs and reports the same in check mode.
  diff_mode:
    support: full
    description: Returns a before/after diff of every set that will change.
  platform:
    support: full
    platforms: all
    description: Runs on the controller only.
notes:
  - Needs dnspython on the controller.
seealso:
  - module: community.general.nsupdate
"""

EXAMPLES = r"""
- name: Work out the apex TXT set with a new SPF record, keeping the other TXT records
  launchready.ops.dns_record_plan:
    server: 192.0.2.53
    zone: example.com
    records:
      - {record: "@", type: TXT, value: "v=spf1 ip4:198.51.100.25 -all", value_prefix: "v=spf1"}
  register: plan

- name: Publish the sets
  ansible.builtin.include_role:
    name: launchready.ops.dns_records
  vars:
    dns_records_server: 192.0.2.53
    dns_records_zone: example.com
    dns_records_records: "{{ plan.records }}"
"""

RETURN = r"""
records:
  description: The complete sets to write, in the launchready.ops.dns_records record format.
  returned: success
  type: list
  elements: dict
  sample:
    - {record: example.com., type: TXT, ttl: 3600, state: present,
       value: ["google-site-verification=abc", "v=spf1 ip4:198.51.100.25 -all"]}
changes:
  description: The sets that will change, with their values before and after (TXT as text).
  returned: success
  type: list
  elements: dict
"""

# The options' spec: the action plugin of the same name validates the task's arguments with it.
MODULE_SPEC = {"argument_spec": {
    "server": {"type": "str", "required": True},
    "port": {"type": "int", "default": 53},
    "zone": {"type": "str", "required": True},
    "records": {"type": "list", "elements": "dict", "required": True},
    "ttl": {"type": "int", "default": 3600},
    "timeout": {"type": "float", "default": 10.0},
}}
