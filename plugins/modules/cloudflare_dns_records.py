#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudflare_dns_records
short_description: Publish DNS record sets to a Cloudflare zone, with check mode and --diff
version_added: 0.1.0
description:
  - Makes each given record set (name and type) of a Cloudflare zone hold exactly the given values, or
    removes it, through the Cloudflare API v4.
  - With O(records[].value_prefix), only the values starting with that prefix belong to the set; other
    records at the same name and type are left alone. That is how an SPF record is published at an apex
    that also holds site-verification TXT records.
  - TXT values are given as plain text; they are sent as quoted strings of at most 255 octets and
    compared as text, however they are stored.
  - The API base URL is an option (O(api_url)), so a staging proxy or a local test server can stand in
    for Cloudflare. community.general.cloudflare_dns has the URL built in.
author:
  - launchready.ops developers (@launchready)
options:
  api_token:
    description:
      - A Cloudflare API token with the Zone.DNS Edit permission (Zone.Zone Read to find the zone).
      - "Sent as C(Authorization: Bearer); never shown in output."
      - Taken from the environment variable E(CLOUDFLARE_API_TOKEN) when not given.
    type: str
    required: true
  records:
    description: The record sets to publish or remove.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the set, V(@) for the zone apex, relative to the zone (V(www)), or fully qualified
            (V(www.example.com), a final dot is allowed).
        type: str
        required: true
      type:
        description: Record type.
        type: str
        required: true
        choices: [A, AAAA, CNAME, MX, TXT, NS, CAA]
      values:
        description:
          - The values the set must hold. MX values are V(PRIORITY HOST), CAA values V(FLAGS TAG "VALUE").
          - Required with O(records[].state=present).
        type: list
        elements: str
        default: []
      ttl:
        description: TTL in seconds (30 to 86400), or V(1) for automatic.
        type: int
        default: 1
      proxied:
        description: Serve A, AAAA and CNAME records through Cloudflare's proxy.
        type: bool
        default: false
      value_prefix:
        description:
          - Only values starting with this text (case-insensitive) belong to the set; others at the same
            name and type are neither changed nor removed.
          - For example V(v=spf1) for an SPF record, V(v=DMARC1) for a DMARC record.
        type: str
      state:
        description: V(present) makes the set hold O(records[].values); V(absent) removes the values the set owns.
        type: str
        choices: [present, absent]
        default: present
extends_documentation_fragment:
  - launchready.ops.cloudflare
attributes:
  check_mode:
    support: full
    description: Reads the zone and reports what would change; nothing is created, changed or deleted.
  diff_mode:
    support: full
    description: Shows each changed record set before and after, in zone-file form.
  platform:
    support: full
    platforms: posix
    description: Runs wherever the play runs; only needs HTTPS access to the API.
notes:
  - Every change is worked out before the first write; new and updated records are written before
    records are deleted, so a value never disappears while it moves.
seealso:
  - module: community.general.cloudflare_dns
  - name: Cloudflare API, DNS records
    description: The endpoints this module calls.
    link: https://developers.cloudflare.com/api/resources/dns/subresources/records/
"""

EXAMPLES = r"""
- name: Publish SPF, DMARC and a DKIM key, leaving other apex TXT records alone
  launchready.ops.cloudflare_dns_records:
    api_token: "{{ vault_cloudflare_token }}"
    zone: example.com
    records:
      - name: "@"
        type: TXT
        values: ["v=spf1 ip4:198.51.100.25 -all"]
        value_prefix: v=spf1
      - name: _dmarc
        type: TXT
        values: ["v=DMARC1; p=reject; rua=mailto:dmarc@example.com"]
        value_prefix: v=DMARC1
      - name: s2026._domainkey
        type: TXT
        values: ["v=DKIM1; k=rsa; p=MIIBIjANBgkqh..."]

- name: Remove an old DKIM selector
  launchready.ops.cloudflare_dns_records:
    api_token: "{{ vault_cloudflare_token }}"
    zone: example.com
    records:
      - {name: s2025._domainkey, type: TXT, state: absent}
"""

RETURN = r"""
changes:
  description: Every create, update and delete, made or (in check mode) to be made.
  returned: always
  type: list
  elements: dict
  sample:
    - {action: create, name: _dmarc.example.com, type: TXT, value: "v=DMARC1; p=reject"}
records:
  description: Each set after the run (in check mode, as it would be), values as text.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: example.com, type: TXT, state: present, values: ["google-site-verification=abc", "v=spf1 -all"]}
zone_id:
  description: The Cloudflare id of the zone.
  returned: always
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
"""

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_dns, cloudflare_runner
from ansible_collections.launchready.ops.plugins.module_utils import dns_record_sets as R

OPTIONS = {
    "records": {"type": "list", "elements": "dict", "required": True, "options": {
        "name": {"type": "str", "required": True},
        "type": {"type": "str", "required": True, "choices": list(cloudflare_dns.SUPPORTED_TYPES)},
        "values": {"type": "list", "elements": "str", "default": []},
        "ttl": {"type": "int", "default": 1},
        "proxied": {"type": "bool", "default": False},
        "value_prefix": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }},
}


def wanted(params: dict) -> list:
    try:
        wants = [R.want_from_dict(item, params["zone"]) for item in params["records"]]
    except ValueError as exc:
        raise ValueError("records: %s" % exc) from None
    for want in wants:
        cloudflare_dns.check_want(want)
    return wants


def plan(params: dict, wants: list, current: list) -> cloudflare_runner.Plan:
    plans, result = cloudflare_dns.plan(params["zone"], current)
    return cloudflare_runner.Plan(changed=result["changed"], diff=result["diff"], details=plans,
                                  returns={"changes": result["changes"], "records": result["records"]})


TASK = cloudflare_runner.ZoneTask(
    options=OPTIONS, wanted=wanted, read=cloudflare_dns.read, plan=plan,
    apply=lambda client, zone_id, the_plan: cloudflare_dns.apply(client, zone_id, the_plan.details),
)


def main():
    cloudflare_runner.run(TASK)


if __name__ == "__main__":
    main()
