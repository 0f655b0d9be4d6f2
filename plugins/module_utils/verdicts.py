# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many probe results, one finding: the worst result decides, the rest goes to evidence.

Shared by the check families that probe several addresses, responses or paths per target.
"""

from __future__ import annotations

from ansible_collections.launchready.ops.plugins.module_utils import findings as F

# Worst first: a definite problem outranks "could not tell", which outranks a warning.
SEVERITY = {F.FAIL: 0, F.ERROR: 1, F.WARN: 2, F.PASS: 3, F.SKIP: 4}


class Verdicts:
    """Collects (status, sentence, evidence) per address or response; the worst decides the finding."""

    def __init__(self) -> None:
        self.items: list = []

    def add(self, status: str, sentence: str, **evidence) -> None:
        self.items.append((status, sentence, evidence))

    def status(self) -> str:
        return min((item[0] for item in self.items), key=SEVERITY.__getitem__, default=F.ERROR)

    def summary(self, if_empty: str) -> str:
        if not self.items:
            return if_empty
        worst = self.status()
        sentences = list(dict.fromkeys(item[1] for item in self.items if item[0] == worst))
        others = len(list(dict.fromkeys(item[1] for item in self.items if item[0] not in (worst, F.PASS))))
        text = sentences[0]
        if len(sentences) > 1:
            text += " (and %d more like it)" % (len(sentences) - 1)
        if others and worst != F.PASS:
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
