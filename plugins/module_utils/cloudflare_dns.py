# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Publish record sets to a Cloudflare zone: the provider's quirks around the shared runner.

Cloudflare stores one object per value.  Quirks handled here:

- TXT content is sent as quoted character-strings of at most 255 octets (what the
  API documents; it would split longer unquoted text itself, differently);
  stored content is compared as text whatever its quoting;
- MX priority is a field of its own, not part of the content;
- ``proxied`` exists only for A, AAAA and CNAME; ``ttl`` 1 means "automatic".

``read``, ``plan`` and ``apply`` are the steps of the shared module runner (``sync`` runs them
in a row): every change is worked out first (``dns_record_sets.plan``) and then, unless
in check mode, applied: deletes last, so a value moving between objects is never missing.  Plain Python: no Ansible imports.
"""

from __future__ import annotations

import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import dns_record_sets as R
from ansible_collections.launchready.ops.plugins.module_utils.cloudflare_api import CloudflareClient

PROXIABLE = ("A", "AAAA", "CNAME")
SUPPORTED_TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "CAA")
AUTO_TTL = 1


def _value_of(record: dict) -> str:
    rtype = record.get("type", "").upper()
    content = str(record.get("content", ""))
    if rtype == "MX":
        return R.normalize("MX", "%s %s" % (record.get("priority", 0), content))
    if rtype == "CAA" and isinstance(record.get("data"), dict):
        data = record["data"]
        return '%s %s "%s"' % (data.get("flags", 0), data.get("tag", ""), data.get("value", ""))
    return R.normalize(rtype, content)


def _body(want: R.Want, value: str) -> dict:
    body: dict = {"type": want.type, "name": want.name, "ttl": want.ttl if want.ttl is not None else AUTO_TTL}
    if want.type == "TXT":
        body["content"] = R.txt_quoted(value)
    elif want.type == "MX":
        priority, _sep, host = value.partition(" ")
        body.update(content=host, priority=int(priority))
    elif want.type == "CAA":
        flags, tag, rest = value.split(None, 2)
        body["data"] = {"flags": int(flags), "tag": tag, "value": rest.strip().strip('"')}
    else:
        body["content"] = value
    if want.type in PROXIABLE:
        body["proxied"] = bool(want.proxied)
    return body


def check_want(want: R.Want) -> None:
    """Raise ValueError for what Cloudflare would refuse, before any call."""
    if want.type not in SUPPORTED_TYPES:
        raise ValueError("record %s: type %s is not supported here (use one of %s)"
                         % (want.name, want.type, ", ".join(SUPPORTED_TYPES)))
    if want.proxied and want.type not in PROXIABLE:
        raise ValueError("record %s %s: only A, AAAA and CNAME records can be proxied" % (want.name, want.type))
    if want.ttl is not None and want.ttl != AUTO_TTL and not 30 <= want.ttl <= 86400:
        raise ValueError("record %s %s: ttl must be 1 (automatic) or 30 to 86400 seconds" % (want.name, want.type))
    for value in want.wanted:
        if want.type == "MX":
            parts = value.split()
            if len(parts) != 2 or not parts[0].isdigit():
                raise ValueError("record %s MX: %r must be 'PRIORITY HOST'" % (want.name, value))
        if want.type == "CAA" and len(value.split(None, 2)) != 3:
            raise ValueError("record %s CAA: %r must be 'FLAGS TAG \"VALUE\"'" % (want.name, value))


def read(client: CloudflareClient, zone_id: str, wants: t.Sequence) -> list:
    """[(want, [Existing])]: the records each wanted set's name and type holds now."""
    return [(want, [R.Existing(id=r["id"], value=_value_of(r), ttl=r.get("ttl"),
                               proxied=r.get("proxied") if want.type in PROXIABLE else None, raw=r)
                    for r in client.dns_records(zone_id, want.name, want.type)])
            for want in wants]


def plan(zone: str, current: list) -> tuple:
    """(plans, {changed, diff, changes, records}) for what ``read`` found; ``plans`` is what ``apply`` writes."""
    plans = [(want, existing, R.plan(want, existing)) for want, existing in current]
    diffs, changes, records = [], [], []
    for want, existing, result in plans:
        if result.changed:
            ttl = want.ttl if want.ttl is not None else AUTO_TTL
            before = [(e.value, e.ttl) for e in existing]
            after = [(e.value, e.ttl) for e in existing if not want.owns(e.value)] + [(v, ttl) for v in want.wanted]
            diffs.append(R.diff(want.name, want.type, before, after, where="Cloudflare zone %s" % zone))
        changes.extend({"action": "create", "name": want.name, "type": want.type, "value": v} for v in result.create)
        changes.extend({"action": "update", "name": want.name, "type": want.type, "id": e.id, "from": e.value,
                        "value": v} for e, v in result.update)
        changes.extend({"action": "delete", "name": want.name, "type": want.type, "id": e.id, "value": e.value}
                       for e in result.delete)
        records.append({"name": want.name, "type": want.type, "state": want.state, "values": result.after})
    return plans, {"changed": bool(changes), "diff": diffs, "changes": changes, "records": records}


def apply(client: CloudflareClient, zone_id: str, plans: list) -> None:
    """Write what ``plan`` worked out: creates and updates first, deletes last."""
    for want, _existing, result in plans:
        for value in result.create:
            client.create_dns_record(zone_id, _body(want, value))
        for item, value in result.update:
            client.replace_dns_record(zone_id, item.id, _body(want, value))
    for _want, _existing, result in plans:
        for item in result.delete:
            client.delete_dns_record(zone_id, item.id)


def sync(client: CloudflareClient, zone: str, wants: t.Sequence, check_mode: bool = False) -> dict:
    """Make the zone hold ``wants``; returns {changed, diff, changes, records, zone_id}."""
    for want in wants:
        check_want(want)
    zone_id = client.zone_id(zone)
    plans, result = plan(zone, read(client, zone_id, wants))
    if not check_mode:
        apply(client, zone_id, plans)
    return dict(result, zone_id=zone_id)
