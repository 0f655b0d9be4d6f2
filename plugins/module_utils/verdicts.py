# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many probe results, one finding: the worst result decides, the rest goes to evidence.

Shared by the check families that probe several addresses, responses or paths per target,
and the one place that says which status is worse than which (``STATUS_ORDER``): the
risk list, the root causes and every per-target verdict rank statuses with it.
"""

from __future__ import annotations

import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import findings as F

# Worst first: a definite problem outranks "could not tell", which outranks a warning.
STATUS_ORDER = (F.FAIL, F.ERROR, F.WARN, F.PASS, F.SKIP)
SEVERITY = {status: rank for rank, status in enumerate(STATUS_ORDER)}

_Item = t.TypeVar("_Item")


def worst(items: t.Iterable[_Item], status: t.Callable[[_Item], t.Any] = lambda item: item) -> _Item | None:
    """The first of the worst ``items`` (``status(item)`` ranked by STATUS_ORDER); None when empty."""
    return min(items, key=lambda item: SEVERITY[status(item)], default=None)


def worst_status(statuses: t.Iterable[str], default: str = F.ERROR) -> str:
    """The worst of ``statuses``; ``default`` when there is none (no result is never a pass)."""
    found = worst(statuses)
    return default if found is None else found


def address_count(status: str, statuses: t.Sequence[str]) -> str:
    """How many of several addresses share the deciding ``status``, for the end of a summary."""
    same = sum(1 for s in statuses if s == status)
    if same == len(statuses):
        return " (%s at all %d addresses)" % (status, len(statuses))
    return " (%s at %d of %d addresses)" % (status, same, len(statuses))


class Verdicts:
    """Collects (status, sentence, evidence) per address or response; the worst decides the finding."""

    def __init__(self) -> None:
        self.items: list = []

    def add(self, status: str, sentence: str, **evidence) -> None:
        self.items.append((status, sentence, evidence))

    def status(self) -> str:
        return worst_status(item[0] for item in self.items)

    def summary(self, if_empty: str) -> str:
        if not self.items:
            return if_empty
        deciding = self.status()
        sentences = list(dict.fromkeys(item[1] for item in self.items if item[0] == deciding))
        others = len(list(dict.fromkeys(item[1] for item in self.items if item[0] not in (deciding, F.PASS))))
        text = sentences[0]
        if len(sentences) > 1:
            text += " (and %d more like it)" % (len(sentences) - 1)
        if others and deciding != F.PASS:
            text += "; %d other problem(s) in the evidence" % others
        return text

    def evidence(self) -> list:
        return [dict(status=s, summary=text, **ev) for s, text, ev in self.items]

    def finding(self, spec: F.CheckSpec, target: str, if_empty: str, fix: str | None = None,
                passed: str | None = None, **extra) -> F.Finding:
        """The finding for ``target``; ``passed`` is the summary when everything passed."""
        status = self.status()
        summary = self.summary(if_empty)
        if status in (F.PASS, F.SKIP):
            fix = None  # make() shows no fix for a pass
            if passed and len(self.items) > 1:
                summary = passed
        return F.make(spec, status, target, summary,
                      evidence=dict(results=self.evidence(), **extra), fix=fix)
