# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One parallel map for every check family and probe: results in input order.

The worker count is the caller's (a DNS fan-out is cheap, a browser is not); how many
sockets may really be open at once is the controller-wide budget's job (probe_budget.py),
not the pool size's.  A single item runs in the caller's thread: no pool for nothing.
"""

from __future__ import annotations

import concurrent.futures
import typing as t

_In = t.TypeVar("_In")
_Out = t.TypeVar("_Out")


def each(fn: t.Callable[[_In], _Out], items: t.Iterable[_In], workers: int) -> list:
    """``[fn(x) for x in items]``, at most ``workers`` at a time; an exception propagates."""
    items = list(items)
    if len(items) <= 1:
        return [fn(x) for x in items]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(fn, items))


def each_by(fn: t.Callable[[_In], _Out], keys: t.Sequence[_In], workers: int) -> dict:
    """``{k: fn(k)}`` in the order of ``keys``, at most ``workers`` at a time."""
    values = each(fn, keys, workers)
    return {k: values[i] for i, k in enumerate(keys)}


def each_guarded(fn: t.Callable[[_In], _Out], items: t.Iterable[_In], workers: int) -> list:
    """Like ``each``, but an exception comes back as that item's value: one bad target must not
    hide the others."""
    def guarded(item: _In) -> t.Any:
        try:
            return fn(item)
        except Exception as exc:
            return exc
    return each(guarded, items, workers)
