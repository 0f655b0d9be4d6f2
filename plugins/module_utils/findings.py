# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The findings model shared by every check, report and playbook.

Plain Python: no Ansible imports, so it runs the same in a module, an action
plugin or a pytest process.
"""

from __future__ import annotations

import dataclasses
import typing as t

PASS = "pass"
WARN = "warn"
FAIL = "fail"
ERROR = "error"
SKIP = "skip"
STATUSES = (PASS, WARN, FAIL, ERROR, SKIP)

BLOCKER = "blocker"
HIGH = "high"
MEDIUM = "medium"
LOW = "low"
IMPACTS = (BLOCKER, HIGH, MEDIUM, LOW)

# Ranking order of stages, from checks.md.
STAGES = ("audit", "edge", "deploy", "observability", "load", "email", "handover")

# Statuses that belong on the risk list (everything that is not verified good
# or not applicable).
RISK_STATUSES = (FAIL, ERROR, WARN)


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    """What the catalog says about a check id."""

    id: str
    impact: str
    stage: str
    title: str  # what the check verifies, short: the catalog's "verifies" column
    fix: str
    # Why the check exists: what a customer or the business loses when it fails (and so why it
    # has its impact). Shown beside the fix in report.md/html; not a field of report.json's findings.
    why: str = ""
    # A burst probe (a POST burst, a load test) would disturb the other checks of the site
    # (a rate limiter then answers them 429): the runner starts it only after all others ended.
    burst: bool = False

    def __post_init__(self) -> None:
        if self.impact not in IMPACTS:
            raise ValueError("check %s: unknown impact %r" % (self.id, self.impact))
        if self.stage not in STAGES:
            raise ValueError("check %s: unknown stage %r" % (self.id, self.stage))
        if self.why:  # the catalog's own spec; a throwaway spec (tests) never hides its reason
            _CATALOG.setdefault(self.id, self)


# check id -> CheckSpec, for every spec defined in this process (the report looks up ``why`` here).
_CATALOG: dict = {}


def why_of(check_id: str) -> str:
    """Why the check ``check_id`` exists, or "" when its spec is not loaded in this process."""
    spec = _CATALOG.get(check_id)
    return spec.why if spec else ""


@dataclasses.dataclass
class Finding:
    check: str
    status: str
    impact: str
    stage: str
    target: str
    summary: str
    evidence: dict = dataclasses.field(default_factory=dict)
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError("finding %s: unknown status %r" % (self.check, self.status))
        if self.impact not in IMPACTS:
            raise ValueError("finding %s: unknown impact %r" % (self.check, self.impact))

    def to_dict(self) -> dict:
        return {
            "check": self.check,
            "status": self.status,
            "impact": self.impact,
            "stage": self.stage,
            "target": self.target,
            "summary": self.summary,
            "evidence": self.evidence,
            "fix": self.fix,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})


def make(spec: CheckSpec, status: str, target: str, summary: str,
         evidence: dict | None = None, fix: str | None = None) -> Finding:
    """Build a finding for ``spec``; the fix text is shown only when it is not a pass."""
    if fix is None:
        fix = "" if status in (PASS, SKIP) else spec.fix
    return Finding(check=spec.id, status=status, impact=spec.impact, stage=spec.stage,
                   target=target, summary=summary, evidence=evidence or {}, fix=fix)


def risk_order(impact: str, stage: str, check: str) -> tuple:
    """The ranking key of checks.md: impact, then stage, then id.

    An error on a blocker ranks with the blockers: impact comes first, so an error keeps the
    impact of its check.
    """
    return (IMPACTS.index(impact), STAGES.index(stage) if stage in STAGES else len(STAGES), check)


def _rank_key(finding: Finding) -> tuple:
    # Imported here: verdicts builds on this module, and owns the one status order.
    from ansible_collections.launchready.ops.plugins.module_utils.verdicts import SEVERITY
    return risk_order(finding.impact, finding.stage, finding.check) + (SEVERITY[finding.status], finding.target)


def risk_list(findings: t.Iterable[Finding]) -> list[Finding]:
    """Failing findings (fail, error, warn) ranked by impact, then stage, then id, one per target.

    The report's ``risks`` (one per root cause, echoes folded) come from ``root_cause.risks``.
    """
    return sorted((f for f in findings if f.status in RISK_STATUSES), key=_rank_key)


def checklist(findings: t.Iterable[Finding]) -> list[Finding]:
    """Every finding, in catalog order (stage, then id, then target)."""
    def key(f: Finding) -> tuple:
        stage = STAGES.index(f.stage) if f.stage in STAGES else len(STAGES)
        return (stage, f.check, f.target)
    return sorted(findings, key=key)


def overall(findings: t.Iterable[Finding]) -> str:
    """The launch verdict: fail if any fail or error, warn if any warn, else pass."""
    statuses = {f.status for f in findings}
    if FAIL in statuses or ERROR in statuses:
        return FAIL
    if WARN in statuses:
        return WARN
    return PASS


def counts(findings: t.Iterable[Finding]) -> dict:
    result = {s: 0 for s in STATUSES}
    for f in findings:
        result[f.status] += 1
    return result
