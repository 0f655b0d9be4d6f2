#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudflare_zone_settings
short_description: Make Cloudflare zone settings (SSL mode, Always Use HTTPS, minimum TLS, HSTS) what they should be
version_added: 0.1.0
description:
  - Reads each given setting of a Cloudflare zone through the API v4 and changes only those that differ
    (C(PATCH /zones/{zone_id}/settings/{name})); a second run changes nothing.
  - Object-valued settings such as V(security_header) are compared and sent on the keys given only.
  - The API base URL is an option (O(api_url)), so a staging proxy or a local test server can stand in
    for Cloudflare.
author:
  - launchready.ops developers (@launchready)
options:
  api_token:
    description:
      - A Cloudflare API token with the Zone Settings Edit permission (Zone Read to find the zone).
      - "Sent as C(Authorization: Bearer); never shown in output."
      - Taken from the environment variable E(CLOUDFLARE_API_TOKEN) when not given.
    type: str
    required: true
  zone_id:
    description: The zone's id, to save looking it up by O(zone).
    type: str
  settings:
    description:
      - Setting name to value, for example C(ssl) V(strict), C(always_use_https) V(on), C(min_tls_version) V(1.2).
    type: dict
    required: true
extends_documentation_fragment:
  - launchready.ops.cloudflare
attributes:
  check_mode:
    support: full
    description: Reads the settings and reports what would change; nothing is written.
  diff_mode:
    support: full
    description: Shows the settings before and after.
  platform:
    support: full
    platforms: posix
    description: Runs wherever the play runs; only needs HTTPS access to the API.
seealso:
  - module: launchready.ops.cloudflare_ruleset
  - module: launchready.ops.cloudflare_dns_records
  - name: Cloudflare API, zone settings
    description: The endpoints this module calls.
    link: https://developers.cloudflare.com/api/resources/zones/subresources/settings/
"""

EXAMPLES = r"""
- name: Full (strict) TLS to the origin, https only, TLS 1.2 or newer, HSTS
  launchready.ops.cloudflare_zone_settings:
    api_token: "{{ vault_cloudflare_token }}"
    zone: example.com
    settings:
      ssl: strict
      always_use_https: "on"
      min_tls_version: "1.2"
      security_header:
        strict_transport_security:
          enabled: true
          max_age: 31536000
          include_subdomains: true
          nosniff: true
"""

RETURN = r"""
zone_id:
  description: The Cloudflare id of the zone.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
settings:
  description: The given settings after the run (in check mode, as they would be).
  returned: success
  type: dict
  sample: {ssl: strict, always_use_https: "on", min_tls_version: "1.2"}
written:
  description: Names of the settings that were (in check mode, would be) changed.
  returned: success
  type: list
  elements: str
  sample: [ssl]
"""

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_edge as CF
from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_runner

OPTIONS = dict(cloudflare_runner.ZONE_ID_OPTION, settings={"type": "dict", "required": True})


def plan(params: dict, want: dict, current: dict) -> cloudflare_runner.Plan:
    result = CF.plan_settings(want, current)
    header = "%s settings" % params["zone"]
    return cloudflare_runner.Plan(
        changed=result["changed"], returns={"settings": result["after"], "written": result["written"]},
        details=want, diff={"before": result["before"], "after": result["after"],
                            "before_header": header, "after_header": header})


def apply(client, zone_id: str, the_plan: cloudflare_runner.Plan) -> dict:
    answered = CF.apply_settings(client, zone_id, the_plan.details, the_plan.returns["written"])
    return {"settings": dict(the_plan.returns["settings"], **answered)}


TASK = cloudflare_runner.ZoneTask(
    options=OPTIONS, wanted=lambda params: params["settings"], read=CF.read_settings, plan=plan, apply=apply,
)


def main():
    cloudflare_runner.run(TASK)


if __name__ == "__main__":
    main()
