#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudflare_ruleset
short_description: Own a set of rules in a Cloudflare zone's phase entry point (WAF, rate limiting, cache rules)
version_added: 0.1.0
description:
  - Makes the rules whose C(ref) starts with V(launchready_) in the entry point ruleset of one phase of a
    Cloudflare zone exactly O(rules), in order, through the API v4
    (C(GET) and C(PUT /zones/{zone_id}/rulesets/phases/{phase}/entrypoint)).
  - Rules without such a ref (made in the dashboard or by other tools) are kept, with their ids.
  - Nothing is written when the owned rules already match (compared on ref, description, expression,
    action, action_parameters, ratelimit and enabled); a second run changes nothing.
  - The API base URL is an option (O(api_url)), so a staging proxy or a local test server can stand in
    for Cloudflare.
author:
  - launchready.ops developers (@launchready)
options:
  api_token:
    description:
      - A Cloudflare API token allowed to edit the phase (Zone WAF Edit for the firewall and rate
        limiting phases, Cache Rules Edit for cache rules; Zone Read to find the zone).
      - "Sent as C(Authorization: Bearer); never shown in output."
      - Taken from the environment variable E(CLOUDFLARE_API_TOKEN) when not given.
    type: str
    required: true
  zone_id:
    description: The zone's id, to save looking it up by O(zone).
    type: str
  phase:
    description: The phase whose entry point holds the rules.
    type: str
    required: true
    choices: [http_request_firewall_managed, http_request_firewall_custom, http_ratelimit, http_request_cache_settings]
  rules:
    description:
      - The rules, in the API's rule format (V(expression), V(action), V(action_parameters), V(ratelimit),
        V(description), V(enabled)); each needs a V(ref) starting with V(launchready_).
      - An empty list removes the owned rules.
    type: list
    elements: dict
    required: true
  description:
    description: Description of the entry point ruleset when it has to be created.
    type: str
    default: ""
extends_documentation_fragment:
  - launchready.ops.cloudflare
attributes:
  check_mode:
    support: full
    description: Reads the entry point and reports whether the rules would change; nothing is written.
  diff_mode:
    support: full
    description: Shows the owned rules before and after.
  platform:
    support: full
    platforms: posix
    description: Runs wherever the play runs; only needs HTTPS access to the API.
seealso:
  - module: launchready.ops.cloudflare_zone_settings
  - name: Cloudflare Ruleset Engine, phase entry points
    description: The endpoints this module calls.
    link: https://developers.cloudflare.com/ruleset-engine/rulesets-api/
"""

EXAMPLES = r"""
- name: Throttle login attempts (POST) per client
  launchready.ops.cloudflare_ruleset:
    api_token: "{{ vault_cloudflare_token }}"
    zone: example.com
    phase: http_ratelimit
    rules:
      - ref: launchready_rate_limit_login
        description: Throttle login attempts
        expression: (http.request.uri.path eq "/login" and http.request.method eq "POST")
        action: block
        ratelimit:
          characteristics: [cf.colo.id, ip.src]
          period: 10
          requests_per_period: 20
          mitigation_timeout: 10
"""

RETURN = r"""
zone_id:
  description: The Cloudflare id of the zone.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
rules:
  description: The owned rules after the run (in check mode, as they would be).
  returned: success
  type: list
  elements: dict
  sample:
    - {ref: launchready_waf_managed, expression: "true", action: execute, enabled: true,
       action_parameters: {id: efb7b8c949ac4650a09736fc376e9aee}}
"""

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_edge as CF
from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_runner

PHASES = ["http_request_firewall_managed", "http_request_firewall_custom", "http_ratelimit",
          "http_request_cache_settings"]

OPTIONS = dict(
    cloudflare_runner.ZONE_ID_OPTION,
    phase={"type": "str", "required": True, "choices": PHASES},
    rules={"type": "list", "elements": "dict", "required": True},
    description={"type": "str", "default": ""},
)


def wanted(params: dict) -> dict:
    try:
        CF.check_rules(params["rules"])
    except ValueError as exc:
        raise ValueError("rules: %s" % exc) from None
    return {"phase": params["phase"], "rules": params["rules"], "description": params["description"]}


def read(client, zone_id: str, want: dict) -> dict | None:
    return CF.get_entrypoint(client, zone_id, want["phase"])


def plan(params: dict, want: dict, current: dict | None) -> cloudflare_runner.Plan:
    result = CF.plan_ruleset(current, want["rules"])
    header = "%s %s" % (params["zone"], params["phase"])
    return cloudflare_runner.Plan(
        changed=result["changed"], returns={"rules": result["after"]}, details=(want, current),
        diff={"before": {"rules": result["before"]}, "after": {"rules": result["after"]},
              "before_header": header, "after_header": header})


def apply(client, zone_id: str, the_plan: cloudflare_runner.Plan) -> None:
    want, current = the_plan.details
    CF.apply_ruleset(client, zone_id, want["phase"], current, want["rules"], description=want["description"])


TASK = cloudflare_runner.ZoneTask(
    options=OPTIONS, wanted=wanted, read=read, plan=plan, apply=apply,
    where=lambda params: "Cloudflare zone %s, phase %s" % (params["zone"], params["phase"]),
)


def main():
    cloudflare_runner.run(TASK)


if __name__ == "__main__":
    main()
