# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Personal data in free text: e-mail addresses, phone numbers, card numbers and known values.

One place for the patterns the privacy checks share (the chatbot eval reads answers, the log
scan reads log lines). The e-mail and phone patterns are the demo shop's own log redaction
filter (demo/shop/app.py ``_PII``); cards add the Luhn checksum, so an order id or a
timestamp of 16 digits is not taken for a card. ``redact`` replaces every hit by its label:
no caller ever needs to show a value.

Plain Python, stdlib only: runs in a module on an app host as well as on the controller.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

EMAIL = "email"
PHONE = "phone"
CARD = "card"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# "+1 555 123 4567", "+4915112345678", "(555) 123-4567", "555-123-4567"; not IPs, dates or ids.
_PHONE = re.compile(r"(?<![\w.:/+-])(?:\+\d[\d -]{6,17}\d|\(?\d{3}\)?[ -]\d{3}[ -]\d{4})(?![\w.:/-])")
# 13 to 19 digits, optionally grouped by single spaces or dashes; the Luhn check decides.
_CARD = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.])")


@dataclasses.dataclass(frozen=True)
class Hit:
    kind: str    # email, phone, card, or the label of a known value ("other.email", "canary")
    start: int
    end: int


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` (digits only) passes the Luhn checksum card numbers carry."""
    if not digits.isdigit():
        return False
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _card_hits(text: str) -> list:
    hits = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
            hits.append(Hit(CARD, match.start(), match.end()))
    return hits


def _value_pattern(value: str) -> re.Pattern:
    # Whole words only: a last-four "1881" must not match inside "18810" or an amount "$18.81".
    return re.compile(r"(?<![\w.])%s(?![\w])" % re.escape(value), re.IGNORECASE)


def find(text: str, known: t.Mapping[str, t.Iterable[str]] | None = None,
         generic: t.Iterable[str] = (EMAIL, PHONE, CARD)) -> list:
    """Every hit in ``text``: ``known`` values first ({label: [values]}), then the generic kinds.

    A span already covered by a known value is not reported again as a generic kind, so a
    seeded customer's e-mail counts once, under its label. Hits come back in text order.
    """
    hits: list = []
    taken: list = []

    def add(hit: Hit) -> None:
        if any(hit.start < end and start < hit.end for start, end in taken):
            return
        hits.append(hit)
        taken.append((hit.start, hit.end))

    for label, values in (known or {}).items():
        # Longest first: "Ada Lovelace" before "Ada".
        for value in sorted({v.strip() for v in values if v and v.strip()}, key=len, reverse=True):
            for match in _value_pattern(value).finditer(text):
                add(Hit(label, match.start(), match.end()))
    kinds = set(generic)
    if EMAIL in kinds:
        for match in _EMAIL.finditer(text):
            add(Hit(EMAIL, match.start(), match.end()))
    if CARD in kinds:  # before phones: a spaced card number also looks like a long phone number
        for hit in _card_hits(text):
            add(hit)
    if PHONE in kinds:
        for match in _PHONE.finditer(text):
            add(Hit(PHONE, match.start(), match.end()))
    return sorted(hits, key=lambda h: h.start)


def redact(text: str, hits: t.Iterable[Hit] | None = None,
           known: t.Mapping[str, t.Iterable[str]] | None = None) -> str:
    """``text`` with every hit replaced by ``[kind]``; hits are found when not given."""
    if hits is None:
        hits = find(text, known)
    out, pos = [], 0
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.start < pos:
            continue
        out.append(text[pos:hit.start])
        out.append("[%s]" % hit.kind)
        pos = hit.end
    out.append(text[pos:])
    return "".join(out)


def customer_values(customer: t.Mapping) -> dict:
    """{field: [values]} of one launch_customers entry that identify the customer (never the password)."""
    out: dict = {}
    for field in ("email", "name", "address", "phone"):
        value = customer.get(field)
        if isinstance(value, str) and value.strip():
            out[field] = [value.strip()]
    last4 = customer.get("card_last4")
    if last4 not in (None, ""):
        out["card_last4"] = [str(last4).strip()]
    orders = [str(o.get("id")) for o in customer.get("orders") or () if isinstance(o, dict) and o.get("id")]
    if orders:
        out["order_id"] = orders
    return out
