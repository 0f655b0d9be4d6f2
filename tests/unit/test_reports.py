"""Report renderers: the JSON contract, the ranked Markdown/HTML, JUnit and merging."""

from __future__ import annotations

import json
import os
import re
from xml.etree import ElementTree as ET

import yaml

from ansible_collections.launchready.ops.plugins.module_utils import findings as F
from ansible_collections.launchready.ops.plugins.module_utils.version import VERSION
from ansible_collections.launchready.ops.plugins.plugin_utils import reports

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _items():
    return [
        F.Finding("tls.cert_expiry", F.FAIL, F.HIGH, "audit", "www.shop.test",
                  "certificate expires in 3 days (2026-12-02)", {"days_left": 3}, "Renew it."),
        F.Finding("dns.resolves", F.PASS, F.BLOCKER, "audit", "shop.test", "resolves", {}, ""),
        F.Finding("http.hsts", F.WARN, F.MEDIUM, "audit", "shop.test", "<short> & \"hsts\"", {}, "Raise max-age."),
        F.Finding("dns.caa", F.ERROR, F.MEDIUM, "audit", "shop.test", "timeout", {}, "x"),
        F.Finding("dns.expected_origin", F.SKIP, F.BLOCKER, "audit", "shop.test", "not configured", {}, ""),
    ]


def test_version_matches_galaxy_yml():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as fh:
        assert yaml.safe_load(fh)["version"] == VERSION


def test_json_has_the_contract_shape(tmp_path):
    report = reports.build("shop.test", _items(), generated="2026-11-29T12:00:00Z")
    paths = reports.write(str(tmp_path), report)
    data = json.loads(open(paths["report.json"]).read())
    assert set(data) == {"site", "generated", "version", "findings", "risks"}
    assert [r["check"] for r in data["risks"]] == ["tls.cert_expiry", "dns.caa", "http.hsts"]
    for n, r in enumerate(data["risks"], 1):
        assert set(r) == {"rank", "check", "status", "impact", "targets", "summary", "fix", "blocks"}
        assert r["rank"] == n
    assert data["site"] == "shop.test" and data["generated"] == "2026-11-29T12:00:00Z"
    assert re.fullmatch(r"\d+\.\d+\.\d+", data["version"])
    for f in data["findings"]:
        assert set(f) == {"check", "status", "impact", "stage", "target", "summary", "evidence", "fix"}
    assert sorted(os.listdir(tmp_path)) == sorted(reports.REPORT_FILES)


def test_markdown_lists_risks_ranked_then_the_checklist():
    md = reports.render_markdown(reports.build("shop.test", _items()))
    risks = md.split("## Risks")[1].split("## Launch checklist")[0]
    order = re.findall(r"`([a-z]+\.[a-z_]+)`", risks)
    assert order == ["tls.cert_expiry", "dns.caa", "http.hsts"]
    assert "**Launch verdict: FAIL**" in md
    assert "- [x] **PASS** `dns.resolves`" in md
    assert "- [ ] **FAIL** `tls.cert_expiry`" in md


def test_html_escapes_and_puts_risks_first():
    page = reports.render_html(reports.build("shop.test", _items()))
    assert "&lt;short&gt; &amp; &quot;hsts&quot;" in page
    assert "<short>" not in page
    assert page.index("Risks, most important first") < page.index("Launch checklist")
    assert page.index("tls.cert_expiry") < page.index("http.hsts")


def test_junit_maps_statuses():
    root = ET.fromstring(reports.render_junit(reports.build("shop.test", _items())))
    suite = root.find("testsuite")
    assert suite.get("tests") == "5" and suite.get("failures") == "1" and suite.get("errors") == "1"
    assert suite.get("skipped") == "1"
    by_name = {c.get("name"): c for c in suite.iter("testcase")}
    assert by_name["tls.cert_expiry www.shop.test"].find("failure") is not None
    assert by_name["dns.caa shop.test"].find("error") is not None
    assert by_name["dns.resolves shop.test"].find("failure") is None


def test_merge_replaces_only_the_checks_that_ran():
    old = reports.build("shop.test", _items())
    new = reports.build("shop.test", [F.Finding("tls.cert_expiry", F.PASS, F.HIGH, "audit", "www.shop.test", "ok")])
    merged = reports.merge(old, new)
    by_check = {f["check"]: f for f in merged["findings"]}
    assert by_check["tls.cert_expiry"]["status"] == "pass"
    assert by_check["http.hsts"]["status"] == "warn"
    assert len(merged["findings"]) == 5
    other_site = reports.build("other.test", [])
    assert reports.merge(other_site, new) is new


def test_summary_lines_are_ranked():
    lines = reports.summary_lines(reports.build("shop.test", _items()))
    assert lines[0].startswith("shop.test: launch verdict FAIL")
    assert "tls.cert_expiry" in lines[1] and "http.hsts" in lines[3]


def test_a_new_run_key_for_fingerprints_is_not_a_change_but_a_new_status_is():
    spec = F.CheckSpec(id="secrets.env_separation", impact=F.HIGH, stage="deploy", title="t", fix="f")

    def report(status: str, fingerprint: str) -> dict:
        return reports.build("shop.test", [F.make(spec, status, "app1", "s", evidence={
            "shared": [{"name": "SHOP_SECRET_KEY", "fingerprint": fingerprint}]})])

    first = report(F.FAIL, "hmac-sha256:0123456789ab")
    assert reports.same(first, report(F.FAIL, "hmac-sha256:ba9876543210"))
    assert not reports.same(first, report(F.PASS, "hmac-sha256:0123456789ab"))
    assert not reports.same(None, first)
