# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One runner for the Cloudflare modules: check mode, --diff, changed and errors in one place.

Each module (cloudflare_dns_records, cloudflare_ruleset, cloudflare_zone_settings) only
describes its own options and four steps, as a ``ZoneTask``:

- ``wanted(params)``: the desired state from the options; ValueError for a bad option, whose
  message names the option (no call is made before it passes);
- ``read(client, zone_id, wanted)``: what the zone holds now;
- ``plan(params, wanted, current)``: a ``Plan``: changed, the return values, the --diff;
- ``apply(client, zone_id, plan)``: write the plan (never called in check mode or when
  nothing changes); may return return values to update (what the API answered).

The runner builds the AnsibleModule (connection options, the token from
CLOUDFLARE_API_TOKEN, check mode), finds the zone, and maps every CloudflareError to one
fail_json sentence that says what to do (``cloudflare_edge.explain``), never with the token.
The Ansible side of the Cloudflare code lives here; the API code it calls has no Ansible imports.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.launchready.ops.plugins.module_utils import cloudflare_api
from ansible_collections.launchready.ops.plugins.module_utils.cloudflare_edge import explain

API_TOKEN_OPTION = {
    "api_token": {"type": "str", "required": True, "no_log": True, "fallback": (env_fallback, ["CLOUDFLARE_API_TOKEN"])},
}
# For modules that can skip the zone lookup.
ZONE_ID_OPTION = {"zone_id": {"type": "str"}}


@dataclasses.dataclass
class Plan:
    """What a run changes: ``returns`` are the module's return values besides changed and diff;
    ``diff`` is shown with --diff when there is a change; ``details`` is for ``apply`` only."""

    changed: bool
    returns: dict
    diff: t.Any = None
    details: t.Any = None


@dataclasses.dataclass
class ZoneTask:
    """One Cloudflare module: its own options and steps (see the module header)."""

    options: dict
    wanted: t.Callable[[dict], t.Any]
    read: t.Callable[[t.Any, str, t.Any], t.Any]
    plan: t.Callable[[dict, t.Any, t.Any], Plan]
    apply: t.Callable[[t.Any, str, Plan], t.Optional[dict]]
    # What failed, for the error message: "Cloudflare zone example.com, phase http_ratelimit".
    where: t.Callable[[dict], str] = lambda params: "Cloudflare zone %s" % params["zone"]


def argument_spec(task: ZoneTask) -> dict:
    return dict(cloudflare_api.CONNECTION_ARGUMENT_SPEC, **API_TOKEN_OPTION, **task.options)


def run(task: ZoneTask) -> None:
    """The whole module: parse the options, read, plan, apply unless in check mode, exit or fail."""
    module = AnsibleModule(argument_spec=argument_spec(task), supports_check_mode=True)
    if not cloudflare_api.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"))
    params = module.params
    try:
        wanted = task.wanted(params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    try:
        client = cloudflare_api.client_from_params(params)
        zone_id = params.get("zone_id") or client.zone_id(params["zone"])
        plan = task.plan(params, wanted, task.read(client, zone_id, wanted))
        if plan.changed and not module.check_mode:
            plan.returns.update(task.apply(client, zone_id, plan) or {})
    except cloudflare_api.CloudflareError as exc:
        module.fail_json(msg="%s: %s" % (task.where(params), explain(exc)), status=exc.status, errors=exc.errors)
    result = dict(plan.returns, changed=plan.changed, zone_id=zone_id)
    if module._diff and plan.changed and plan.diff:
        result["diff"] = plan.diff
    module.exit_json(**result)
