# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""monitoring_provider: uptimerobot - the monitors and alert contacts of the Prometheus stack, hosted.

``desired`` turns what launchready.ops.monitoring_config built (one target per host, route and
address) into one UptimeRobot monitor per host and route, and each owner's email and Slack
webhook into alert contacts. ``plan`` reads the account once and lists only what differs;
``apply`` writes exactly that. Monitors are ours by name (``launchready <site> <host> <route>``):
a monitor of that site no longer wanted is deleted, nothing else ever is. Contacts are matched
by type and value and only added (they may serve other monitors). A Slack webhook URL is a
secret: the diff names the contact, never its value.
"""

from __future__ import annotations

import json
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import uptimerobot_api as api

NAME_PREFIX = "launchready"
# Fields compared with what getMonitors returns; a field the API leaves out is not compared.
COMPARED = ("url", "type", "interval", "http_method", "post_type", "post_value", "post_content_type")
NEW = "(new)"


def _monitor_name(site: str, host: str, route: str) -> str:
    return "%s %s %s %s" % (NAME_PREFIX, site, host, route)


def _contact_name(owner: str, kind: str) -> str:
    return "%s %s %s" % (NAME_PREFIX, owner, kind)


def desired(site: str, targets: list, probes: dict, interval: int, owners: list) -> tuple:
    """([monitor], [contact]): monitor = {friendly_name, fields..., contacts: [contact name]}."""
    contacts = []
    for owner in owners:
        if owner.get("email"):
            contacts.append({"friendly_name": _contact_name(owner["name"], "email"),
                             "type": api.CONTACT_TYPES["email"], "value": owner["email"]})
        if owner.get("slack_webhook_url"):
            contacts.append({"friendly_name": _contact_name(owner["name"], "slack"),
                             "type": api.CONTACT_TYPES["slack"], "value": owner["slack_webhook_url"]})
    monitors: dict = {}
    for target in targets:
        name = _monitor_name(site, target["host"], target["route"])
        if name in monitors:
            continue  # one probe per address at home; UptimeRobot resolves the name itself
        probe = probes.get(target["route"]) or {}
        method = str(probe.get("method") or "GET").upper()
        fields = {"friendly_name": name, "url": "https://%s%s" % (target["host"], target["path"]),
                  "type": api.MONITOR_HTTP, "interval": int(interval), "http_method": api.HTTP_METHODS[method]}
        if probe.get("body"):
            fields.update(post_type=api.POST_TYPE_RAW, post_value=probe["body"])
            content_type = {k.lower(): v for k, v in (probe.get("headers") or {}).items()}.get("content-type", "")
            if "json" in content_type:
                fields["post_content_type"] = api.POST_CONTENT_JSON
        fields["contacts"] = [c["friendly_name"] for c in contacts]
        monitors[name] = fields
    return list(monitors.values()), contacts


def _same(a: t.Any, b: t.Any) -> bool:
    return str(a) == str(b)


def plan(client: api.UptimeRobotClient, site: str, monitors: list, contacts: list) -> dict:
    """What to write: {contacts: [new contact], create: [monitor], edit: [(id, fields, changed)], delete: [...]}."""
    have_contacts = client.alert_contacts()
    ids = {}
    new_contacts = []
    for c in contacts:
        match = [e for e in have_contacts if _same(e.get("type"), c["type"]) and e.get("value") == c["value"]]
        if match:
            ids[c["friendly_name"]] = str(match[0]["id"])
        else:
            new_contacts.append(c)
            ids[c["friendly_name"]] = NEW
    mine_prefix = "%s %s " % (NAME_PREFIX, site)
    have = {m.get("friendly_name"): m for m in client.monitors()
            if str(m.get("friendly_name", "")).startswith(mine_prefix)}
    out: dict = {"contacts": new_contacts, "create": [], "edit": [], "delete": [], "ids": ids}
    for m in monitors:
        current = have.pop(m["friendly_name"], None)
        if current is None:
            out["create"].append(m)
            continue
        changed = [k for k in COMPARED if k in m and k in current and not _same(current[k], m[k])]
        wanted_ids = sorted(ids[n] for n in m["contacts"])
        current_ids = sorted(str(c.get("id")) for c in current.get("alert_contacts") or [])
        if wanted_ids != current_ids:
            changed.append("alert_contacts")
        if changed:
            out["edit"].append({"id": current["id"], "monitor": m, "changed": changed})
    out["delete"] = [{"id": m["id"], "friendly_name": name} for name, m in sorted(have.items())]
    return out


def changed(p: dict) -> bool:
    return bool(p["contacts"] or p["create"] or p["edit"] or p["delete"])


def _contacts_param(names: list, ids: dict) -> str:
    # id_threshold_recurrence, joined by "-" (threshold and recurrence 0: alert at once, once)
    return "-".join("%s_0_0" % ids[n] for n in names)


def _write_fields(m: dict, ids: dict, only: list | None = None) -> dict:
    fields = {k: v for k, v in m.items() if k != "contacts" and (only is None or k in only)}
    if only is None or "alert_contacts" in only:
        fields["alert_contacts"] = _contacts_param(m["contacts"], ids)
    return fields


def apply(client: api.UptimeRobotClient, p: dict) -> None:
    """Write the plan: contacts first (monitors name them by id), then monitors, then deletions."""
    ids = dict(p["ids"])
    for c in p["contacts"]:
        made = client.new_alert_contact({"type": c["type"], "value": c["value"], "friendly_name": c["friendly_name"]})
        if not made.get("id"):
            raise api.UptimeRobotError("newAlertContact: no id in the answer for %s" % c["friendly_name"])
        ids[c["friendly_name"]] = str(made["id"])
    for m in p["create"]:
        client.new_monitor(_write_fields(m, ids))
    for e in p["edit"]:
        client.edit_monitor(e["id"], _write_fields(e["monitor"], ids, e["changed"]))
    for d in p["delete"]:
        client.delete_monitor(d["id"])


def _shown(m: dict) -> dict:
    """A monitor as the diff shows it: no contact values, the body as is (it is the probe's, not a secret)."""
    return {k: v for k, v in m.items() if k != "friendly_name"}


def diff(p: dict, monitors: list) -> dict:
    """--diff: before and after of the monitors this run touches, and the contacts it adds (by name)."""
    touched = {m["friendly_name"] for m in p["create"]} | {e["monitor"]["friendly_name"] for e in p["edit"]}
    before = {"monitors": {e["monitor"]["friendly_name"]: "differs in %s" % ", ".join(e["changed"])
                           for e in p["edit"]}}
    before["monitors"].update({d["friendly_name"]: "present" for d in p["delete"]})
    after = {"monitors": {m["friendly_name"]: _shown(m) for m in monitors if m["friendly_name"] in touched},
             "new_alert_contacts": [c["friendly_name"] for c in p["contacts"]]}
    return {"before": json.dumps(before, indent=2, sort_keys=True) + "\n",
            "after": json.dumps(after, indent=2, sort_keys=True) + "\n"}
