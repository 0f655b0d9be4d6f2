# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloudflare zone settings and rulesets as desired state, on the shared v4 client (``cloudflare_api``).

Used by the ``cloudflare_zone_settings`` and ``cloudflare_ruleset`` modules (the
edge_cloudflare role, through ``cloudflare_runner``) and by the edge.settings check.  For
settings and for a phase's rules, ``read_*``/``get_*`` read the current state, ``plan_*`` works
out what differs and ``apply_*`` writes only that: a second run writes nothing, and the runner
never applies in check mode.  ``explain`` turns a CloudflareError into a sentence that says
what to do (a refused token, rate limiting, a fault on Cloudflare's side).  Plain Python:
no Ansible imports; the token is only ever in the client's Authorization header.
"""

from __future__ import annotations

import copy
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils.cloudflare_api import CloudflareError

# Managed rulesets of the Web Application Firewall (Cloudflare docs, "Managed rulesets").
CLOUDFLARE_MANAGED_RULESET = "efb7b8c949ac4650a09736fc376e9aee"
CLOUDFLARE_FREE_MANAGED_RULESET = "77454fe2d30c4220b5701f6fdfb893ba"

PHASE_WAF = "http_request_firewall_managed"
PHASE_RATE_LIMIT = "http_ratelimit"
PHASE_CACHE = "http_request_cache_settings"

# Rules the collection owns carry a ref with this prefix; every other rule of an entry point is kept.
REF_PREFIX = "launchready_"

# What a rule is compared on (ids, versions and timestamps are Cloudflare's).
RULE_FIELDS = ("ref", "description", "expression", "action", "action_parameters", "ratelimit", "enabled")


def explain(exc: CloudflareError) -> str:
    """The error with what to do about it; the client's messages never hold the token."""
    text = str(exc)
    if exc.status in (401, 403):
        return "%s. Cloudflare refused the API token: check that it is the right one, not expired, and allowed Zone " \
               "Read, Zone Settings Edit, DNS Edit, Zone WAF Edit and Cache Rules Edit on this zone" % text
    if exc.status == 429:
        return "%s. Cloudflare is rate-limiting this token's API calls: wait a few minutes and run again " \
               "(what was already written stays; the next run writes only what still differs)" % text
    if exc.status >= 500:
        return "%s. The failure is on Cloudflare's side: run again later (check https://www.cloudflarestatus.com); " \
               "the next run writes only what still differs" % text
    return text


# --- zone settings -----------------------------------------------------------------------------------

def get_setting(client: t.Any, zone_id: str, name: str) -> t.Any:
    return (client.request("GET", "/zones/%s/settings/%s" % (zone_id, name)).get("result") or {}).get("value")


def patch_setting(client: t.Any, zone_id: str, name: str, value: t.Any) -> t.Any:
    envelope = client.request("PATCH", "/zones/%s/settings/%s" % (zone_id, name), body={"value": value})
    return (envelope.get("result") or {}).get("value")


def _differs(want: t.Any, have: t.Any) -> bool:
    """True when ``want`` is not contained in ``have`` (dicts compared on want's keys only)."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return True
        return any(_differs(v, have.get(k)) for k, v in want.items())
    return want != have


def _merged(have: t.Any, want: t.Any) -> t.Any:
    if isinstance(want, dict) and isinstance(have, dict):
        out = copy.deepcopy(have)
        for key, value in want.items():
            out[key] = _merged(out.get(key), value)
        return out
    return copy.deepcopy(want)


def read_settings(client: t.Any, zone_id: str, names: t.Iterable) -> dict:
    """{name: value} of the zone settings ``names``, as the API holds them now."""
    return {name: get_setting(client, zone_id, name) for name in sorted(names)}


def plan_settings(want: dict, current: dict) -> dict:
    """{changed, before, after, written}: ``after`` is what the settings become (in check mode, would)."""
    before, after, written = {}, {}, []
    for name in sorted(want):
        before[name] = copy.deepcopy(current.get(name))
        if _differs(want[name], current.get(name)):
            written.append(name)
            after[name] = _merged(current.get(name), want[name])
        else:
            after[name] = current.get(name)
    return {"changed": bool(written), "before": before, "after": after, "written": written}


def apply_settings(client: t.Any, zone_id: str, want: dict, written: t.Iterable) -> dict:
    """PATCH the settings ``written`` to their ``want`` value: {name: the value the API answered}."""
    return {name: patch_setting(client, zone_id, name, want[name]) for name in written}


# --- rulesets ----------------------------------------------------------------------------------------

def get_entrypoint(client: t.Any, zone_id: str, phase: str) -> dict | None:
    """The zone's entry point ruleset of ``phase``, or None when the phase has none yet."""
    try:
        return client.request("GET", "/zones/%s/rulesets/phases/%s/entrypoint" % (zone_id, phase)).get("result")
    except CloudflareError as exc:
        if exc.status == 404:
            return None
        raise


def _view(rule: dict) -> dict:
    view = {k: rule[k] for k in RULE_FIELDS if k in rule}
    view.setdefault("enabled", True)
    return view


def check_rules(rules: list) -> None:
    """ValueError unless every rule has a ref the collection owns (so a later run can find it)."""
    for rule in rules:
        if not str(rule.get("ref", "")).startswith(REF_PREFIX):
            raise ValueError("every rule needs a ref starting with %r, got %r" % (REF_PREFIX, rule.get("ref")))


def plan_ruleset(current: dict | None, rules: list) -> dict:
    """{changed, before, after}: the owned rules of the entry point ``current`` against ``rules``."""
    existing = (current or {}).get("rules") or []
    before = [_view(r) for r in existing if str(r.get("ref", "")).startswith(REF_PREFIX)]
    after = [_view(r) for r in rules]
    return {"changed": before != after, "before": before, "after": after}


def apply_ruleset(client: t.Any, zone_id: str, phase: str, current: dict | None, rules: list,
                  description: str = "") -> None:
    """PUT the entry point: the rules of others first, with their ids, then ``rules``."""
    existing = (current or {}).get("rules") or []
    ours = [r for r in existing if str(r.get("ref", "")).startswith(REF_PREFIX)]
    others = [r for r in existing if not str(r.get("ref", "")).startswith(REF_PREFIX)]
    ids = {r.get("ref"): r.get("id") for r in ours}
    keep = [dict(_view(r), id=r["id"]) if r.get("id") else _view(r) for r in others]
    # Our rules keep their ids too: Cloudflare then updates them in place.
    mine = [dict(_view(r), id=ids[r["ref"]]) if ids.get(r["ref"]) else _view(r) for r in rules]
    body: dict = {"rules": keep + mine}
    if description and not current:
        body["description"] = description
    client.request("PUT", "/zones/%s/rulesets/phases/%s/entrypoint" % (zone_id, phase), body=body)


def waf_managed(ruleset: dict | None) -> list:
    """Ids of the managed rulesets an http_request_firewall_managed entry point deploys (enabled rules)."""
    rules = (ruleset or {}).get("rules") or []
    return [(r.get("action_parameters") or {}).get("id") for r in rules
            if r.get("action") == "execute" and r.get("enabled", True)]
