# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where checks register, and the runner that executes them concurrently.

A check is a function ``fn(site, probes) -> list[Finding]`` registered with its
catalog spec.  Checks share network work through ``Probes.memo`` so that, say,
dns.resolves and dns.expected_origin ask the resolver once.
"""

from __future__ import annotations

import concurrent.futures
import threading
import traceback
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import findings as F

CheckFn = t.Callable[..., t.List[F.Finding]]

_REGISTRY: dict = {}  # check id -> (CheckSpec, fn)


def check(spec: F.CheckSpec) -> t.Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the implementation of ``spec.id``."""
    def wrap(fn: CheckFn) -> CheckFn:
        if spec.id in _REGISTRY and _REGISTRY[spec.id][1].__qualname__ != fn.__qualname__:
            raise ValueError("check id %s registered twice" % spec.id)
        _REGISTRY[spec.id] = (spec, fn)
        return fn
    return wrap


def registered() -> dict:
    return dict(_REGISTRY)


class _Failure:
    """A memoized exception, raised again for every caller of the same key."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


class Probes:
    """A per-run memo shared by all checks of one site; safe across threads.

    Concurrent callers of the same key wait for the first one instead of
    repeating the network call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict = {}
        self._pending: dict = {}

    def memo(self, key: t.Hashable, fn: t.Callable[[], t.Any]) -> t.Any:
        with self._lock:
            if key in self._values:
                return self._unwrap(self._values[key])
            event = self._pending.get(key)
            owner = event is None
            if owner:
                event = self._pending[key] = threading.Event()
        if not owner:
            event.wait()
            with self._lock:
                return self._unwrap(self._values[key])
        value: t.Any = _Failure(RuntimeError("interrupted"))
        try:
            value = fn()
        except Exception as exc:  # cache the failure too: every caller sees the same error
            value = _Failure(exc)
        finally:
            with self._lock:
                self._values[key] = value
                del self._pending[key]
            event.set()
        return self._unwrap(value)

    @staticmethod
    def _unwrap(value: t.Any) -> t.Any:
        if isinstance(value, _Failure):
            raise value.exc
        return value


def select(ids: t.Iterable[str] | None = None, prefixes: t.Iterable[str] | None = None) -> list:
    """The registered (spec, fn) pairs matching explicit ids or id prefixes ("dns.")."""
    ids = set(ids or ())
    prefixes = tuple(prefixes or ())
    chosen = []
    for check_id in sorted(_REGISTRY):
        if (not ids and not prefixes) or check_id in ids or (prefixes and check_id.startswith(prefixes)):
            chosen.append(_REGISTRY[check_id])
    unknown = ids - set(_REGISTRY)
    if unknown:
        raise ValueError("unknown check ids: %s" % ", ".join(sorted(unknown)))
    return chosen


def _run_one(spec: F.CheckSpec, fn: CheckFn, site: t.Any, probes: Probes) -> list:
    try:
        result = fn(site, probes)
    except Exception as exc:  # a bug or an unexpected fault must never read as a pass
        return [F.make(spec, F.ERROR, site.domain,
                       "the check could not finish: %s: %s" % (type(exc).__name__, exc),
                       evidence={"traceback": traceback.format_exc(limit=5)})]
    if not result:
        return [F.make(spec, F.ERROR, site.domain, "the check returned no finding")]
    return result


def run(site: t.Any, checks: list, workers: int = 16) -> list:
    """Run ``checks`` (from ``select``) for one site, concurrently; findings in check order.

    Burst checks (``CheckSpec.burst``: the rate-limit POST burst, load) start only when
    every other check of the site has finished, so a limiter they trip never answers the
    other checks' requests; they run one after another.
    """
    probes = Probes()
    polite = [(i, spec, fn) for i, (spec, fn) in enumerate(checks) if not spec.burst]
    bursts = [(i, spec, fn) for i, (spec, fn) in enumerate(checks) if spec.burst]
    results: dict = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {i: pool.submit(_run_one, spec, fn, site, probes) for i, spec, fn in polite}
        for i, fut in futures.items():
            results[i] = fut.result()
    for i, spec, fn in bursts:
        results[i] = _run_one(spec, fn, site, probes)
    out = []
    for i in range(len(checks)):
        out.extend(results[i])
    return out
