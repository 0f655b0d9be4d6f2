"""The audit playbook end to end against the healthy lab, and its input validation."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.support import ansible_run, catalog


@pytest.fixture(scope="module")
def audit_run(lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    run = ansible_run.playbook("-i", "inventories/lab", "launchready.ops.audit", "-e", "launch_report_dir=%s" % out)
    return run, out


def test_audit_of_the_healthy_lab_writes_every_report(audit_run):
    run, out = audit_run
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    site_dir = out / "shop.test"
    assert sorted(os.listdir(site_dir)) == ["junit.xml", "report.html", "report.json", "report.md"]
    assert "launch verdict" in run.stdout and str(site_dir / "report.md") in run.stdout


def test_report_lists_every_stage1_dns_http_tls_check_and_no_fail(audit_run):
    out = audit_run[1]
    report = json.loads((out / "shop.test" / "report.json").read_text())
    seen = {f["check"] for f in report["findings"]}
    missing = catalog.ids("Stage 1", ("dns.", "http.", "tls.")) - seen
    assert not missing, "checks missing from the report: %s" % sorted(missing)
    bad = [(f["check"], f["target"], f["summary"]) for f in report["findings"] if f["status"] in ("fail", "error")]
    assert not bad, "the healthy lab must have no fail or error: %s" % bad


def test_check_mode_writes_nothing(lab, tmp_path):
    run = ansible_run.playbook("-i", "inventories/lab", "launchready.ops.audit", "--check",
                               "-e", "launch_report_dir=%s" % tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert not (tmp_path / "shop.test").exists()


def _inventory(tmp_path, site_vars: dict) -> str:
    inv = {"sites": {"hosts": {"broken.test": dict(site_vars, ansible_connection="local")}}}
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inv))
    return str(path)


@pytest.mark.parametrize("site_vars,needle", [
    ({}, "launch_domain"),
    ({"launch_domain": "broken.test", "launch_hosts": {"a": 1}}, "launch_hosts"),
    ({"launch_domain": "broken.test", "launch_resolvers": ["not-an-ip"]}, "launch_resolvers"),
])
def test_bad_site_variables_stop_with_the_variable_named(tmp_path, site_vars, needle):
    run = ansible_run.playbook("-i", _inventory(tmp_path, site_vars), "launchready.ops.audit",
                               "-e", "launch_report_dir=%s" % tmp_path)
    assert run.returncode != 0
    assert needle in run.stdout + run.stderr
    assert not (tmp_path / "broken.test").exists()
