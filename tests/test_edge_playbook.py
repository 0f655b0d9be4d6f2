"""The edge playbook against the healthy lab: every Stage 2 check in the report, none failing."""

from __future__ import annotations

import json

import pytest

from tests.support import ansible_run, catalog


@pytest.fixture(scope="module")
def edge_run(lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("edge-reports")
    run = ansible_run.playbook("-i", "inventories/lab", "launchready.ops.edge", "-e", "launch_report_dir=%s" % out)
    return run, out


def test_edge_playbook_reports_every_stage2_check_and_nothing_fails(edge_run):
    run, out = edge_run
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    report = json.loads((out / "shop.test" / "report.json").read_text())
    seen = {f["check"] for f in report["findings"]}
    assert catalog.ids("Stage 2") - seen == set()
    bad = [(f["check"], f["target"], f["summary"]) for f in report["findings"] if f["status"] in ("fail", "error")]
    assert not bad, "the healthy lab's edge must have no fail or error: %s" % bad
    statuses = {f["check"]: f["status"] for f in report["findings"]}
    assert statuses["edge.settings"] == "skip"  # the lab's edge is nginx
    assert statuses["edge.rate_limit"] == statuses["tls.auto_renew"] == statuses["cache.edge_hit"] == "pass"


def test_the_report_notes_the_never_cache_paths(edge_run):
    _run, out = edge_run
    markdown = (out / "shop.test" / "report.md").read_text()
    note = markdown.split("## Paths that must never be cached")[1]
    for path in ("/checkout", "/cart", "/account", "/login", "/api/chat"):
        assert "`%s`" % path in note
    assert "payment state" in note
    assert "Paths that must never be cached" in (out / "shop.test" / "report.html").read_text()


def test_edge_playbook_check_mode_writes_nothing(lab, tmp_path):
    run = ansible_run.playbook("-i", "inventories/lab", "launchready.ops.edge", "--check",
                               "-e", "launch_report_dir=%s" % tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert not (tmp_path / "shop.test").exists()
