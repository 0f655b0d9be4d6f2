# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""May a shared cache store this response and serve it again? The rules of RFC 9111, as a cache applies them.

``shared_storability(status, headers)`` answers for a shared cache (the edge, a CDN, a
proxy) and names the rule that decided, so a finding can say *why*:

- ``no-store`` and unqualified ``private`` forbid storing (RFC 9111 3, 5.2.2.5, 5.2.2.7);
- a non-final (1xx) status is never stored (RFC 9111 3);
- ``no-cache`` lets a cache store the response but never reuse it without asking the origin
  (RFC 9111 5.2.2.4): not served from the cache as is;
- explicit freshness decides next, for a shared cache in this order: ``s-maxage``,
  ``max-age``, ``Expires`` minus ``Date`` (RFC 9111 4.2.1); zero, past or invalid means
  stale at once (5.3);
- without explicit freshness only ``public`` or a heuristically cacheable status lets a
  cache store it, with a freshness lifetime of its own choosing (RFC 9111 4.2.2, RFC 9110
  15.1): 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501.  A 429, 500 or 503
  without Cache-Control or Expires is never stored.

Plain Python, stdlib only: no Ansible imports.
"""

from __future__ import annotations

import dataclasses
import email.utils
import time
import typing as t

# RFC 9110 15.1: the statuses "heuristically cacheable" by default.
HEURISTIC_STATUSES = frozenset((200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501))

# Answers that mean "come back later", not "this is the page": never judged as the page's caching.
NOT_A_PAGE_STATUSES = frozenset((429, 503))


@dataclasses.dataclass(frozen=True)
class Storability:
    """What a shared cache may do with one response, and the rule that decided."""

    storable: bool   # a shared cache may keep it
    reusable: bool   # ... and answer the next visitor from it without asking the origin
    rule: str        # "no-store", "private", "non-final", "no-cache", "s-maxage", "max-age", "expires",
    #                  "public", "heuristic", "not-heuristic"
    why: str         # the sentence for a summary

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def directives(header_values: t.Iterable[str]) -> dict:
    """Cache-Control directives from every header line, names lower-cased: {name: argument or True}."""
    out: dict = {}
    for value in header_values:
        for part in value.split(","):
            name, sep, arg = part.strip().partition("=")
            name = name.strip().lower()
            if name and name not in out:  # RFC 9111 4.2.1: the first of a duplicated directive counts
                out[name] = arg.strip().strip('"') if sep else True
    return out


def _seconds(value: t.Any) -> int | None:
    if value is True or value is None:
        return None
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if number >= 0 else None


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed and parsed.tzinfo else None


def _explicit(rule: str, lifetime: int, shown: str) -> Storability:
    if lifetime > 0:
        return Storability(True, True, rule, "%s: a shared cache may store it and reuse it for %d s" % (shown, lifetime))
    return Storability(True, False, rule, "%s: a cache may store it but must ask the origin before every reuse"
                       % shown)


def shared_storability(status: int | None, headers: t.Sequence[tuple], now: float | None = None) -> Storability:
    """The RFC 9111 verdict of a shared cache on a response to GET (``headers``: [(name, value)])."""
    def values(name: str) -> list:
        return [v for k, v in headers if k.lower() == name]

    cc = directives(values("cache-control"))
    if "no-store" in cc:
        return Storability(False, False, "no-store", "Cache-Control: no-store forbids storing it (RFC 9111 5.2.2.5)")
    if cc.get("private") is True:
        return Storability(False, False, "private",
                           "Cache-Control: private forbids a shared cache to store it (RFC 9111 5.2.2.7)")
    if status is None or status < 200:
        return Storability(False, False, "non-final", "status %s is not a final response: never stored" % status)
    if cc.get("no-cache") is True:
        return Storability(True, False, "no-cache", "Cache-Control: no-cache: a cache may store it but must ask the "
                           "origin before every reuse (RFC 9111 5.2.2.4)")
    s_maxage = _seconds(cc.get("s-maxage"))
    if s_maxage is not None:
        return _explicit("s-maxage", s_maxage, "s-maxage=%d" % s_maxage)
    max_age = _seconds(cc.get("max-age"))
    if max_age is not None:
        return _explicit("max-age", max_age, "max-age=%d" % max_age)
    expires = values("expires")
    if expires:
        expiry = _http_date(expires[0])
        base = _http_date((values("date") or [None])[0])
        base = base if base is not None else (time.time() if now is None else now)
        lifetime = 0 if expiry is None else max(0, int(expiry - base))
        shown = "Expires: %s%s" % (expires[0], "" if expiry is not None else " (invalid: already stale)")
        return _explicit("expires", lifetime, shown)
    if "public" in cc:
        return Storability(True, True, "public", "Cache-Control: public without a lifetime: a shared cache may store "
                           "it and choose a lifetime itself (RFC 9111 4.2.2)")
    if status in HEURISTIC_STATUSES:
        return Storability(True, True, "heuristic", "status %d is heuristically cacheable and nothing forbids "
                           "storing it: without Cache-Control or Expires a shared cache may keep it for a lifetime "
                           "it chooses (RFC 9111 4.2.2, RFC 9110 15.1)" % status)
    return Storability(False, False, "not-heuristic", "status %d is not heuristically cacheable and the response "
                       "has no explicit freshness (Cache-Control max-age, s-maxage or public, Expires): a cache "
                       "must not store it (RFC 9111 3)" % status)
