"""The deploy.* checks (module_utils/checks_deploy.py) on release roots made in tmp dirs."""

from __future__ import annotations

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, checks_deploy
from ansible_collections.launchready.ops.plugins.module_utils import release as R
from tests.unit.test_release_root import make_release


def facts(root: R.Root, **kw) -> checks_deploy.DeployFacts:
    return checks_deploy.DeployFacts(domain="app1", root=root.path, releases=root.releases(), live=root.live(),
                                     previous_good=root.previous_good(), **kw)


def by_id(found):
    return {f.check: f for f in found}


def test_every_deploy_check_is_registered_next_to_its_spec():
    registered = check_registry.registered()
    for spec in (checks_deploy.LIVE_RELEASE, checks_deploy.ROLLBACK_READY, checks_deploy.REPEATABLE,
                 checks_deploy.MIGRATIONS_RERUN):
        assert registered[spec.id][0] is spec and spec.stage == "deploy"
    assert checks_deploy.IDS == ("deploy.live_release", "deploy.rollback_ready", "deploy.repeatable",
                                 "deploy.migrations_rerun")


def test_nothing_deployed_fails(tmp_path):
    root = R.Root(str(tmp_path / "app"))
    found = by_id(checks_deploy.evaluate(facts(root)))
    assert found["deploy.live_release"].status == "fail"
    assert found["deploy.rollback_ready"].status == "fail"
    assert found["deploy.repeatable"].status == "skip"


def test_served_commit_matches_the_ledger(tmp_path):
    root = R.Root(str(tmp_path / "app"))
    make_release(root, "r1", commit="a" * 40, switch=True)
    make_release(root, "r2", commit="b" * 40, switch=True)
    ok = by_id(checks_deploy.evaluate(facts(root, served={"release": "r2", "commit": "b" * 12},
                                            version_url="http://x/version")))
    assert ok["deploy.live_release"].status == "pass"
    assert ok["deploy.rollback_ready"].status == "pass" and "r2 -> r1" in ok["deploy.rollback_ready"].summary
    stale = by_id(checks_deploy.evaluate(facts(root, served={"release": "r1", "commit": "a" * 40},
                                               version_url="http://x/version")))
    assert stale["deploy.live_release"].status == "fail" and "aaaaaaaaaaaa" in stale["deploy.live_release"].summary
    down = by_id(checks_deploy.evaluate(facts(root, served_error="connection refused", version_url="http://x/v")))
    assert down["deploy.live_release"].status == "error"


def test_repeatable_and_migrations(tmp_path):
    root = R.Root(str(tmp_path / "app"))
    make_release(root, "r1", switch=True)
    found = by_id(checks_deploy.evaluate(facts(
        root, second_plan={"changes": []}, migrations={"first": {"changed": True}, "second": {"changed": False}})))
    assert found["deploy.repeatable"].status == "pass"
    assert found["deploy.migrations_rerun"].status == "pass"
    found = by_id(checks_deploy.evaluate(facts(
        root, second_plan={"changes": ["switch to r9"]}, migrations={"second": {"changed": True}})))
    assert found["deploy.repeatable"].status == "fail"
    assert found["deploy.migrations_rerun"].status == "fail"
