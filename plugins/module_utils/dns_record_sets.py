# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record sets to publish, compared with what a DNS provider holds: one runner for every provider.

A wanted set is (name, type, values, ttl, state) plus an optional ``value_prefix``:
with it, only the values starting with that prefix belong to the set, and other
values at the same name and type are left alone.  That is how an SPF record is
published at an apex that also holds site-verification TXT records, and a
DMARC record beside unrelated TXT at _dmarc.

Two provider shapes use it:

- providers that replace a whole record set at once (RFC 2136 through
  community.general.nsupdate): ``merge`` gives the full set to write, foreign
  values included;
- providers that store one object per value (the Cloudflare API): ``plan``
  pairs wanted values with existing objects and says which to create, update
  and delete.

TXT values are handled as their text (the character-strings joined);
``txt_strings``/``txt_quoted`` cut them into 255-octet strings for the wire.
``diff`` renders before/after in zone-file form for Ansible's --diff.

Plain Python: no Ansible imports.
"""

from __future__ import annotations

import dataclasses
import typing as t

PRESENT = "present"
ABSENT = "absent"
MAX_STRING = 255


def fqdn(name: str, zone: str) -> str:
    """``name`` ("@", "www", "www.example.com" or "www.example.com.") as a lower-case name without the final dot."""
    zone = zone.strip().rstrip(".").lower()
    name = str(name).strip()
    if name in ("", "@"):
        return zone
    if name.endswith("."):
        return name[:-1].lower()
    lowered = name.lower()
    if lowered == zone or lowered.endswith("." + zone):
        return lowered
    return "%s.%s" % (lowered, zone)


def txt_strings(text: str) -> list:
    """``text`` cut into character-strings of at most 255 octets (UTF-8), never inside a character."""
    data = text.encode("utf-8")
    if not data:
        return [""]
    out, start = [], 0
    while start < len(data):
        end = min(start + MAX_STRING, len(data))
        while end < len(data) and end > start and (data[end] & 0xC0) == 0x80:
            end -= 1  # do not split a multi-byte character
        out.append(data[start:end].decode("utf-8"))
        start = end
    return out


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def txt_quoted(text: str) -> str:
    """The zone-file form of a TXT value: quoted character-strings of at most 255 octets."""
    return " ".join('"%s"' % _escape(part) for part in txt_strings(text))


def txt_inner(text: str) -> str:
    """``txt_quoted`` without its outer quotes: the form community.general.nsupdate quotes itself
    and community.general.dig returns."""
    return txt_quoted(text)[1:-1]


def txt_text(value: str) -> str:
    """The text of a TXT value given either as plain text or as quoted character-strings."""
    value = value.strip()
    if not value.startswith('"'):
        return value
    parts, i, current, inside = [], 0, [], False
    while i < len(value):
        ch = value[i]
        if inside:
            if ch == "\\" and i + 1 < len(value):
                nxt = value[i + 1]
                if nxt.isdigit() and value[i + 1:i + 4].isdigit():
                    current.append(chr(int(value[i + 1:i + 4])))
                    i += 4
                    continue
                current.append(nxt)
                i += 2
                continue
            if ch == '"':
                parts.append("".join(current))
                current, inside = [], False
            else:
                current.append(ch)
        elif ch == '"':
            inside = True
        elif not ch.isspace():
            return value  # not a list of quoted strings after all: take it literally
        i += 1
    if inside:
        return value
    return "".join(parts)


def normalize(rtype: str, value: str) -> str:
    """A value in the form used to compare: TXT as its text, names lower-case without the final dot."""
    rtype = rtype.upper()
    if rtype in ("TXT", "SPF"):
        return txt_text(value)
    value = " ".join(str(value).split())
    if rtype in ("CNAME", "NS", "PTR"):
        return value.rstrip(".").lower()
    if rtype == "MX":
        parts = value.split()
        if len(parts) == 2:
            return "%s %s" % (int(parts[0]), parts[1].rstrip(".").lower())
    if rtype == "AAAA":
        return value.lower()
    return value


@dataclasses.dataclass
class Want:
    """A record set to publish (or remove)."""

    name: str  # fully qualified, no final dot
    type: str
    values: list = dataclasses.field(default_factory=list)
    ttl: int | None = None
    state: str = PRESENT
    value_prefix: str | None = None
    proxied: bool | None = None

    def owns(self, value: str) -> bool:
        """Whether ``value`` (normalized) belongs to this set rather than to someone else at the same name."""
        if not self.value_prefix:
            return True
        return value.lower().startswith(self.value_prefix.lower())

    @property
    def wanted(self) -> list:
        """The normalized values to publish, without duplicates, in the given order."""
        if self.state == ABSENT:
            return []
        out = []
        for value in self.values:
            value = normalize(self.type, value)
            if value not in out:
                out.append(value)
        return out


def want_from_dict(item: dict, zone: str, default_ttl: int | None = None) -> Want:
    """A Want from a module/role option: {name|record, type, values|value, ttl, state, value_prefix, proxied}."""
    name = item.get("name", item.get("record"))
    if name is None:
        raise ValueError("every record needs a name")
    rtype = str(item.get("type") or "").upper()
    if not rtype:
        raise ValueError("record %s needs a type" % name)
    values = item.get("values", item.get("value"))
    if values is None:
        values = []
    elif isinstance(values, (str, int)):
        values = [values]
    state = item.get("state") or PRESENT
    if state not in (PRESENT, ABSENT):
        raise ValueError("record %s %s: state must be present or absent, got %r" % (name, rtype, state))
    if state == PRESENT and not values:
        raise ValueError("record %s %s: state present needs at least one value" % (name, rtype))
    ttl = item.get("ttl")
    return Want(name=fqdn(name, zone), type=rtype, values=[str(v) for v in values],
                ttl=int(ttl) if ttl is not None else default_ttl, state=state,
                value_prefix=item.get("value_prefix") or None, proxied=item.get("proxied"))


def merge(want: Want, current: t.Iterable) -> dict:
    """For a provider that writes whole sets: the complete set after publishing ``want``.

    ``current`` are the normalized values at (name, type) now.  Returns
    {"before": [...], "after": [...], "foreign": [...], "changed": bool}; after
    keeps every foreign value (not owned by ``want``) first, then the wanted ones.
    """
    before = list(current)
    foreign = [v for v in before if not want.owns(v)]
    after = foreign + [v for v in want.wanted if v not in foreign]
    return {"before": before, "after": after, "foreign": foreign, "changed": sorted(before) != sorted(after)}


@dataclasses.dataclass
class Existing:
    """One stored record of a per-value provider."""

    id: str
    value: str  # normalized
    ttl: int | None = None
    proxied: bool | None = None
    raw: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Plan:
    want: Want
    keep: list = dataclasses.field(default_factory=list)  # Existing
    create: list = dataclasses.field(default_factory=list)  # values
    update: list = dataclasses.field(default_factory=list)  # (Existing, value)
    delete: list = dataclasses.field(default_factory=list)  # Existing
    before: list = dataclasses.field(default_factory=list)  # normalized values, all of them
    after: list = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.create or self.update or self.delete)


def plan(want: Want, existing: t.Sequence) -> Plan:
    """For a provider that stores one object per value: what to keep, create, update and delete.

    Owned objects whose value is wanted are kept (or updated when the TTL or
    the proxied flag differ); a wanted value without an object reuses an
    owned object that is no longer wanted (one update instead of a delete and
    a create), else is created; owned objects left over are deleted.  Objects
    not owned by ``want`` are never touched.
    """
    result = Plan(want=want, before=[e.value for e in existing])
    owned = [e for e in existing if want.owns(e.value)]
    foreign = [e for e in existing if not want.owns(e.value)]
    wanted = want.wanted
    spare = []
    matched: dict = {}
    for item in owned:
        if item.value in wanted and item.value not in matched:
            matched[item.value] = item
        else:
            spare.append(item)
    for value in wanted:
        item = matched.get(value)
        if item is None:
            if spare:
                result.update.append((spare.pop(0), value))
            else:
                result.create.append(value)
        elif _differs(want, item):
            result.update.append((item, value))
        else:
            result.keep.append(item)
    result.delete = spare
    result.after = [e.value for e in foreign] + wanted
    return result


def _differs(want: Want, item: Existing) -> bool:
    if want.ttl is not None and item.ttl is not None and int(item.ttl) != int(want.ttl):
        return True
    if want.proxied is not None and item.proxied is not None and bool(item.proxied) != bool(want.proxied):
        return True
    return False


def render(name: str, rtype: str, rows: t.Iterable) -> str:
    """Zone-file lines of (value, ttl) rows, sorted (for --diff)."""
    lines = []
    for value, ttl in sorted(rows, key=lambda row: (row[0], row[1] or 0)):
        shown = txt_quoted(value) if rtype.upper() in ("TXT", "SPF") else value
        lines.append("%s.\t%s\tIN\t%s\t%s" % (name, "" if ttl is None else ttl, rtype.upper(), shown))
    return "".join(line + "\n" for line in lines)


def diff(name: str, rtype: str, before: t.Iterable, after: t.Iterable, where: str = "") -> dict:
    """One Ansible diff entry for a record set; ``before`` and ``after`` are (value, ttl) rows."""
    label = "%s %s%s" % (name, rtype.upper(), " (%s)" % where if where else "")
    return {"before_header": label, "after_header": label,
            "before": render(name, rtype, before), "after": render(name, rtype, after)}
