"""The secret scanner and the gate's library, on a real git repository built by the test.

The fixture (tests/support/secret_fixtures.py) plants secrets in the working tree, only in history (added then
deleted), on a second branch, in a minified bundle, in a source map and in deploy config, beside a Stripe
publishable key and two allowlisted fixtures (inline marker, baseline).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import app_env
from ansible_collections.launchready.ops.plugins.module_utils import secret_gate as G
from ansible_collections.launchready.ops.plugins.module_utils import secret_rules as R
from ansible_collections.launchready.ops.plugins.module_utils import secret_scan as S
from tests.support import ansible_run, secret_fixtures


@pytest.fixture(scope="module")
def fixture_repo(tmp_path_factory):
    return secret_fixtures.make(str(tmp_path_factory.mktemp("secrets") / "app"))


@pytest.fixture(scope="module")
def gate(fixture_repo):
    return G.run(fixture_repo.path)


def _found_labels(repo, result) -> set:
    """Labels of planted values the scan found: a hit's fingerprint equals the value's under the run's key."""
    key = result["scanner"].key
    fps = {h.fingerprint for hits in result["hits"].values() for h in hits}
    return {label for label, value in repo.planted.items() if R.fingerprint(key, value) in fps}


def test_every_planted_secret_is_found_where_it_is(fixture_repo, gate):
    files = {h.kind: h for h in gate["hits"]["files"]}
    history = gate["hits"]["history"]
    kinds_in_history = {h.kind for h in history}
    # working tree, bundle, map (source by source) and deploy config
    assert files["stripe-secret-key"].path == "config/settings.py" and files["stripe-secret-key"].line == 1
    assert files["anthropic-api-key"].path == "dist/app.min.js" and files["anthropic-api-key"].line == 1
    assert files["anthropic-api-key"].column > 100000, "found in the middle of the one-line bundle"
    assert files["github-token"].path == "dist/app.min.js.map -> src/config.js" and files["github-token"].line == 2
    assert files["openai-api-key"].path == "dist/app.min.js.map -> src/ai.js"
    assert files["database-url-password"].path == "inventories/production/group_vars/all.yml"
    assert files["generic-secret"].path == "deploy/production.env"
    assert files["private-key"].path == "deploy/id_ed25519"
    # only in history (deleted) and only on the second branch
    old = [h for h in history if h.path == "deploy/old.env"]
    assert {h.kind for h in old} == {"aws-access-key-id", "aws-secret-access-key"}
    assert all(not h.in_head and len(h.commit) == 40 and h.author_date for h in old)
    branch = [h for h in history if h.kind == "sendgrid-api-key"]
    assert branch and branch[0].path == "src/mail.js" and not branch[0].in_head
    assert {"stripe-secret-key", "anthropic-api-key", "github-token", "openai-api-key"} <= kinds_in_history
    found = _found_labels(fixture_repo, gate)
    # the private key's fingerprint covers its body's first lines, not the one planted line
    assert found == set(fixture_repo.planted) - {"private_key"}
    assert len(gate["hits"]["files"]) == 7 and len(history) == 10


def test_publishable_and_allowlisted_values_are_not_reported(fixture_repo, gate):
    key = gate["scanner"].key
    fps = {h.fingerprint for hits in gate["hits"].values() for h in hits}
    for label, value in fixture_repo.not_secrets.items():
        assert R.fingerprint(key, value) not in fps, label
    paths = {h.path for hits in gate["hits"].values() for h in hits}
    assert not paths & {"src/checkout.js", ".env.example", "tests/fixtures/fake_keys.py", "docs/example.md",
                        ".launchready-secrets.json"}


def test_allowlisted_hits_are_seen_when_asked_and_say_why(fixture_repo):
    key, entries = S.load_baseline(fixture_repo.baseline)
    scan = S.Scanner(key=key, baseline=entries, keep_allowlisted=True)
    hits = {h.path: h for h in scan.scan_paths([fixture_repo.path])}
    assert hits["tests/fixtures/fake_keys.py"].allowlisted == "marker"
    assert hits["docs/example.md"].allowlisted == "baseline"


def test_a_marker_on_another_line_or_far_away_allowlists_nothing():
    scan = S.Scanner()
    secret = "sk_live_" + "Ab3dEf6hIj9lMn2pQr5tUv8x"
    assert scan.scan_text("# launchready: allow-secret\nKEY='%s'\n" % secret, "a.py")
    far = "x" * 500
    assert scan.scan_text("var a='%s';%s/* launchready: allow-secret */" % (secret, far), "b.min.js")


def test_no_value_in_any_output(fixture_repo, gate, tmp_path):
    paths = G.write_outputs(gate, str(tmp_path / "out"))
    texts = {name: open(p, encoding="utf-8").read() for name, p in paths.items()}
    texts["findings"] = json.dumps([f.to_dict() for f in gate["findings"]])
    for name, text in texts.items():
        for label, value in list(fixture_repo.planted.items()) + list(fixture_repo.not_secrets.items()):
            assert value not in text, "%s leaked into %s" % (label, name)
    for p in paths.values():
        assert os.stat(p).st_mode & 0o777 == 0o600


def test_sarif_is_valid_2_1_0_with_locations(gate):
    sarif = G.to_sarif(gate)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {"stripe-secret-key", "aws-access-key-id", "sendgrid-api-key"} <= rule_ids
    for result in run["results"]:
        assert result["ruleId"] in rule_ids and result["locations"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert result["partialFingerprints"]["launchready/secret"].startswith("hmac:")
    rules = {r["id"]: r["properties"]["source"] for r in run["tool"]["driver"]["rules"]}
    assert rules["stripe-secret-key"] == "detect-secrets:StripeDetector"


def test_fingerprints_depend_on_the_key():
    assert R.fingerprint(b"k" * 32, "v") == R.fingerprint(b"k" * 32, "v")
    assert R.fingerprint(b"k" * 32, "v") != R.fingerprint(b"j" * 32, "v")
    assert S.Scanner().key != S.Scanner().key, "a random key per run"
    assert len(R.fingerprint(R.new_key(), "v")) == len("hmac:") + 16


def test_public_prefix_exposure_reports_the_name(tmp_path):
    (tmp_path / "next.config.js").write_text("const k = process.env.NEXT_PUBLIC_STRIPE_SECRET_KEY;\n"
                                             "const ok = process.env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY;\n")
    hits = S.Scanner().scan_paths([str(tmp_path)])
    assert [(h.kind, h.line) for h in hits] == [("public-prefix-exposure", 1)]


# --- env completeness and separation -------------------------------------------------------------

@pytest.fixture()
def env_app(tmp_path):
    app = tmp_path / "app"
    (app / "web").mkdir(parents=True)
    (app / "settings.py").write_text('SECRET_KEY = env("DJANGO_SECRET_KEY")\n')
    (app / "web" / "pay.ts").write_text("const key = import.meta.env.VITE_STRIPE_PK;\n"
                                        "const hook = process.env['STRIPE_WEBHOOK_SECRET'];\n")
    subprocess.run(["git", "init", "-q", str(app)], check=True)
    return app


def _envs(shared: bool = False, drop: str = "") -> dict:
    prod = {"DJANGO_SECRET_KEY": "prod-Zq81hd71jx0a", "VITE_STRIPE_PK": "pk_live_x",
            "STRIPE_WEBHOOK_SECRET": "whsec_prod_8aj1mm2k", "LOG_LEVEL": "info"}
    staging = {"DJANGO_SECRET_KEY": "stag-9sk2jd0a1", "VITE_STRIPE_PK": "pk_test_x",
               "STRIPE_WEBHOOK_SECRET": prod["STRIPE_WEBHOOK_SECRET"] if shared else "whsec_stag_1k2k",
               "LOG_LEVEL": "info"}
    prod.pop(drop, None)
    return {"production": prod, "staging": staging}


def _by_check(result) -> dict:
    out: dict = {}
    for f in result["findings"]:
        out.setdefault(f.check, []).append(f)
    return out


def test_a_variable_the_code_reads_but_production_lacks_fails_naming_it(env_app):
    found = _by_check(G.run(str(env_app), environments=_envs(drop="STRIPE_WEBHOOK_SECRET")))
    prod = [f for f in found["secrets.env_complete"] if f.evidence["environment"] == "production"][0]
    assert prod.status == "fail" and prod.evidence["missing"] == ["STRIPE_WEBHOOK_SECRET"]
    assert "STRIPE_WEBHOOK_SECRET" in prod.summary
    stag = [f for f in found["secrets.env_complete"] if f.evidence["environment"] == "staging"][0]
    assert stag.status == "pass"


def test_every_variable_defined_passes(env_app):
    found = _by_check(G.run(str(env_app), environments=_envs()))
    assert [f.status for f in found["secrets.env_complete"]] == ["pass", "pass"]
    assert found["secrets.env_separation"][0].status == "pass", "a shared LOG_LEVEL is no secret"


def test_a_secret_shared_by_production_and_staging_fails_naming_only_the_variable(env_app, tmp_path):
    result = G.run(str(env_app), environments=_envs(shared=True))
    sep = _by_check(result)["secrets.env_separation"][0]
    assert sep.status == "fail" and "STRIPE_WEBHOOK_SECRET" in sep.summary
    assert [s["production"] for s in sep.evidence["shared"]] == ["STRIPE_WEBHOOK_SECRET"]
    text = json.dumps(G.to_json(result)) + json.dumps(G.to_sarif(result))
    assert "whsec_prod_8aj1mm2k" not in text


def test_env_files_of_every_format_are_read(tmp_path):
    (tmp_path / "p.env").write_text('export A="1"\nB=2\n')
    (tmp_path / "p.json").write_text('{"A": "1"}')
    (tmp_path / "p.yml").write_text("A: 1\nB:\n")
    assert G.read_env_file(str(tmp_path / "p.env")) == {"A": "1", "B": "2"}
    assert G.read_env_file(str(tmp_path / "p.json")) == {"A": "1"}
    assert G.read_env_file(str(tmp_path / "p.yml")) == {"A": 1, "B": ""}
    assert app_env.missing(["A", "B"], G.read_env_file(str(tmp_path / "p.yml"))) == ["B"]


# --- the command line ------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ansible_collections.launchready.ops.plugins.plugin_utils.secret_gate_cli",
                           *args], capture_output=True, text=True, env=ansible_run.env(), timeout=120, check=False)


def test_cli_exit_codes_and_outputs(fixture_repo, tmp_path):
    out = tmp_path / "out"
    proc = _cli(fixture_repo.path, "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "FAIL  secrets.repo_files" in proc.stdout and "secrets gate: FAIL" in proc.stdout
    assert sorted(os.listdir(out)) == ["junit.xml", "secrets.json", "secrets.sarif"]
    junit = (out / "junit.xml").read_text()
    assert "<failure" in junit and "secrets.repo_history" in junit
    for value in list(fixture_repo.planted.values()) + list(fixture_repo.not_secrets.values()):
        assert value not in proc.stdout + proc.stderr
        for name in os.listdir(out):
            assert value not in (out / name).read_text()
    assert _cli("/nonexistent/repo").returncode == 2
