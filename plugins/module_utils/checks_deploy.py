# -*- coding: utf-8 -*-
# Copyright: launchready.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy.* checks of Stage 3 (production deployment), as the catalog in checks.md defines them.

They judge one app host from what its release root holds (``release.Root``) and what the
app's version endpoint served; ``DeployFacts`` carries both. The release_info module
gathers the facts on the host and runs ``evaluate``; the deploy role adds the facts only
a deploy run knows (whether a second plan would change anything, whether migrations
re-ran clean).
"""

from __future__ import annotations

import dataclasses

from ansible_collections.launchready.ops.plugins.module_utils import check_registry
from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils.check_registry import check


@dataclasses.dataclass
class DeployFacts:
    """What the deploy checks of one host look at. ``domain`` is the finding target (the host)."""

    domain: str
    root: str
    releases: list                    # release.Root.releases()
    live: str | None                  # the release ``current`` points at
    previous_good: str | None
    served: dict | None = None        # JSON of the version endpoint, when it was asked
    served_error: str | None = None   # why the version endpoint gave nothing usable
    version_url: str | None = None
    second_plan: dict | None = None   # {"changes": [...]} of a plan run right after a deploy
    migrations: dict | None = None    # {"first": {...}, "second": {"changed": bool, ...}}

    def record(self, name: str | None) -> dict | None:
        return next((r for r in self.releases if r["release"] == name), None)


# --- deploy.live_release ------------------------------------------------------------------------

LIVE_RELEASE = F.CheckSpec(
    id="deploy.live_release", impact=F.HIGH, stage="deploy",
    title="The release the app serves is the one the release ledger says is live",
    fix="Restart the app from the current release (the deploy's restart hook), or deploy again; if the app "
        "has no version endpoint, add one that returns its commit and set launch_routes.version.",
    why="Nobody should ever wonder which commit customers are running.")


@check(LIVE_RELEASE)
def live_release(facts: DeployFacts, probes) -> list:
    ev = {"root": facts.root, "live": facts.live, "version_url": facts.version_url}
    live = facts.record(facts.live)
    if live is None:
        return [F.make(LIVE_RELEASE, F.FAIL, facts.domain, "no live release under %s: nothing was deployed "
                       "here, or current points at an incomplete release" % facts.root, evidence=ev)]
    ev["ledger_commit"] = live.get("commit")
    if facts.served is None:
        if not facts.version_url:
            return [F.make(LIVE_RELEASE, F.SKIP, facts.domain, "live release %s (%s); no version endpoint "
                           "configured to compare with" % (live["release"], (live.get("commit") or "?")[:12]),
                           evidence=ev)]
        ev["error"] = facts.served_error
        return [F.make(LIVE_RELEASE, F.ERROR, facts.domain, "could not read the served version from %s: %s"
                       % (facts.version_url, facts.served_error), evidence=ev)]
    served_commit = str(facts.served.get("commit") or "")
    served_release = str(facts.served.get("release") or "")
    ev["served"] = {"release": served_release, "commit": served_commit}
    commit = live.get("commit") or ""
    if served_commit and commit and (commit.startswith(served_commit) or served_commit.startswith(commit)):
        return [F.make(LIVE_RELEASE, F.PASS, facts.domain, "serves the live release %s (commit %s)"
                       % (live["release"], commit[:12]), evidence=ev)]
    if served_release and served_release == live["release"] and not served_commit:
        return [F.make(LIVE_RELEASE, F.PASS, facts.domain, "serves the live release %s" % live["release"],
                       evidence=ev)]
    return [F.make(LIVE_RELEASE, F.FAIL, facts.domain, "serves release %s commit %s, but the ledger's live "
                   "release is %s commit %s" % (served_release or "?", served_commit[:12] or "?",
                                                live["release"], commit[:12] or "?"), evidence=ev)]


# --- deploy.rollback_ready ----------------------------------------------------------------------

ROLLBACK_READY = F.CheckSpec(
    id="deploy.rollback_ready", impact=F.HIGH, stage="deploy",
    title="A previous complete release is on disk and rollback is one switch away",
    fix="Deploy through launchready.ops.deploy so each release stays on disk, and keep release_keep >= 2; "
        "then `ansible-playbook launchready.ops.rollback` switches back in one step.",
    why="Without a previous good release on disk, rollback becomes a rebuild under pressure.")


@check(ROLLBACK_READY)
def rollback_ready(facts: DeployFacts, probes) -> list:
    ev = {"root": facts.root, "live": facts.live, "previous_good": facts.previous_good}
    if facts.live is None:
        return [F.make(ROLLBACK_READY, F.FAIL, facts.domain, "no live release under %s" % facts.root, evidence=ev)]
    prev = facts.record(facts.previous_good)
    if prev is None or not prev.get("complete"):
        return [F.make(ROLLBACK_READY, F.FAIL, facts.domain, "no previous good release on disk: rollback from %s "
                       "has nowhere to go" % facts.live, evidence=ev)]
    ev["previous_commit"] = prev.get("commit")
    return [F.make(ROLLBACK_READY, F.PASS, facts.domain, "rollback would switch %s -> %s (commit %s) in one step"
                   % (facts.live, prev["release"], (prev.get("commit") or "?")[:12]), evidence=ev)]


# --- deploy.repeatable --------------------------------------------------------------------------

REPEATABLE = F.CheckSpec(
    id="deploy.repeatable", impact=F.MEDIUM, stage="deploy",
    title="A second run of the deploy changes nothing",
    fix="Make the build, env and restart hooks report a change only when they changed something (changed_when).",
    why="A deploy that changes something every run hides real drift and restarts for nothing.")


@check(REPEATABLE)
def repeatable(facts: DeployFacts, probes) -> list:
    if facts.second_plan is None:
        return [F.make(REPEATABLE, F.SKIP, facts.domain, "only judged right after a deploy")]
    changes = list(facts.second_plan.get("changes") or [])
    ev = dict(facts.second_plan)
    if changes:
        return [F.make(REPEATABLE, F.FAIL, facts.domain, "a second deploy of the same ref would change: %s"
                       % ", ".join(changes), evidence=ev)]
    return [F.make(REPEATABLE, F.PASS, facts.domain, "a second deploy of the same ref changes nothing", evidence=ev)]


# --- deploy.migrations_rerun --------------------------------------------------------------------

MIGRATIONS_RERUN = F.CheckSpec(
    id="deploy.migrations_rerun", impact=F.HIGH, stage="deploy",
    title="Running the migrations twice is a no-op",
    fix="Guard every migration (CREATE ... IF NOT EXISTS, a schema_migrations table) so a second run changes "
        "neither schema nor data.",
    why="A migration that is not safe to re-run turns a retried deploy into data damage.")


@check(MIGRATIONS_RERUN)
def migrations_rerun(facts: DeployFacts, probes) -> list:
    if facts.migrations is None:
        return [F.make(MIGRATIONS_RERUN, F.SKIP, facts.domain, "only judged during a deploy with a migrate hook")]
    second = facts.migrations.get("second") or {}
    ev = dict(facts.migrations)
    if "changed" not in second:
        return [F.make(MIGRATIONS_RERUN, F.ERROR, facts.domain, "the second migration run reported nothing",
                       evidence=ev)]
    if second["changed"]:
        return [F.make(MIGRATIONS_RERUN, F.FAIL, facts.domain, "running the migrations again changed the "
                       "database", evidence=ev)]
    return [F.make(MIGRATIONS_RERUN, F.PASS, facts.domain, "running the migrations again changed nothing",
                   evidence=ev)]


IDS = tuple(spec.id for spec in (LIVE_RELEASE, ROLLBACK_READY, REPEATABLE, MIGRATIONS_RERUN))


def evaluate(facts: DeployFacts, ids: list | None = None) -> list:
    """Findings of the deploy checks (all, or IDS) for one host."""
    return check_registry.run(facts, check_registry.select(ids=ids or IDS), workers=1)
