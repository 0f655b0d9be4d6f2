"""The env-file logic (module_utils/app_env.py) and the secrets.env_* checks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from ansible_collections.launchready.ops.plugins.module_utils import app_env as E

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_scan_finds_required_and_optional_names(tmp_path):
    (tmp_path / "app.py").write_text(
        'import os\nDB = os.environ["APP_DB"]\nKEY = os.getenv("APP_KEY")\n'
        'PORT = os.environ.get("APP_PORT", "80")\nLEVEL = os.getenv("APP_LEVEL", "info")\n')
    (tmp_path / "web.js").write_text("const a = process.env.STRIPE_KEY;\nconst b = process.env.OPT || 'x';\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text("process.env.NOT_OURS\n")
    found = E.scan([str(tmp_path)])
    assert sorted(found["required"]) == ["APP_DB", "APP_KEY", "STRIPE_KEY"]
    assert found["required"]["APP_DB"] == ["app.py:2"]
    assert sorted(found["optional"]) == ["APP_LEVEL", "APP_PORT"]


def test_the_demo_shop_declares_what_it_reads():
    found = E.scan([os.path.join(ROOT, "demo", "shop")])
    assert {"SHOP_DB", "SHOP_SECRET_KEY", "SHOP_VENDOR_URL", "SHOP_VENDOR_API_KEY"} <= set(found["required"])


def test_render_and_parse_round_trip_any_value():
    values = {"B": 'quote " and \\ and $HOME', "A": "line1\nline2", "N": 5}
    text = E.render(values, header="written by test")
    assert text.splitlines()[0] == "# written by test"
    assert text.splitlines()[1].startswith("A=")
    assert E.parse(text) == {"A": "line1\nline2", "B": 'quote " and \\ and $HOME', "N": "5"}


def test_name_diff_never_shows_values():
    before = {"KEEP": "s3cret-old", "DROP": "gone-value"}
    after = {"KEEP": "s3cret-new", "ADD": "brand-new"}
    old, new = E.name_diff(before, after)
    assert "s3cret" not in old + new and "gone-value" not in old and "brand-new" not in new
    assert "KEEP=<changed>" in new and "ADD=<added>" in new and "DROP" in old and "DROP" not in new


def test_env_complete_lists_missing_names():
    found = {"required": {"SHOP_DB": ["app.py:3"], "SHOP_SECRET_KEY": ["app.py:4"]}}
    bad = E.env_complete("app1", "staging", ["SHOP_VENDOR_URL"], found, {"SHOP_DB": "x", "SHOP_SECRET_KEY": ""})
    assert bad.status == "fail" and bad.check == "secrets.env_complete" and bad.impact == "blocker"
    assert bad.evidence["missing"] == ["SHOP_SECRET_KEY", "SHOP_VENDOR_URL"]
    assert "SHOP_SECRET_KEY, SHOP_VENDOR_URL" in bad.summary
    good = E.env_complete("app1", "staging", [], found, {"SHOP_DB": "x", "SHOP_SECRET_KEY": "y"})
    assert good.status == "pass"


def test_env_separation_reports_names_never_values():
    shared = E.env_separation("app1", {"production": {"KEY": "same-value", "DB_PW": "p1"},
                                       "staging": {"OTHER_NAME": "same-value", "DB_PW": "p2"}})
    assert shared.status == "fail" and "KEY" in shared.summary
    assert "same-value" not in repr(shared.to_dict())
    assert shared.evidence["shared"][0]["staging"] == ["OTHER_NAME"]
    assert E.env_separation("app1", {"production": {"K": "a"}, "staging": {"K": "b"}}).status == "pass"
    assert E.env_separation("app1", {"production": {"K": "a"}}).status == "skip"


def test_the_example_inventory_vault_opens_with_its_documented_id_and_password():
    import yaml
    from ansible.parsing.vault import VaultLib, VaultSecret
    path = os.path.join(ROOT, "inventories", "example", "group_vars", "app_servers", "vault.yml")
    text = open(path, "rb").read()
    assert text.startswith(b"$ANSIBLE_VAULT;1.2;AES256;launchready")
    secret = VaultSecret(b"launchready-example")
    data = yaml.safe_load(VaultLib([("launchready", secret)]).decrypt(text))
    envs = data["vault_app_env_secrets_by_environment"]
    assert sorted(envs) == ["production", "staging"]
    assert E.env_separation("example", envs).status == "pass"


# --- fingerprints of secret values (issue #12 item 12) ---------------------------------------------

def _fingerprint_in_another_run(value: str) -> str:
    code = ("import sys; from ansible_collections.launchready.ops.plugins.module_utils import app_env; "
            "print(app_env.fingerprint(sys.argv[1]))")
    return subprocess.run([sys.executable, "-c", code, value], check=True, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout.strip()


def test_fingerprints_match_within_a_run_and_differ_across_runs():
    value = "hunter2"
    assert E.fingerprint(value) == E.fingerprint(value) != E.fingerprint("hunter3")
    assert E.fingerprint(value).startswith("hmac-sha256:")
    other_run = _fingerprint_in_another_run(value)
    assert other_run.startswith("hmac-sha256:") and other_run != E.fingerprint(value)
    key = b"k" * 32
    assert E.fingerprint(value, key) == E.fingerprint(value, key) != E.fingerprint(value)


def test_a_report_gives_no_hash_to_test_guesses_against():
    weak = "password123"
    shared = E.env_separation("app1", {"production": {"DB_PW": weak}, "staging": {"DB_PW": weak}})
    assert shared.status == "fail"
    text = json.dumps(shared.to_dict())
    digest = hashlib.sha256(weak.encode()).hexdigest()
    assert not any(digest[i:i + 8] in text for i in range(0, len(digest) - 8)), "an unsalted SHA-256 of the value"
    assert weak not in text
    assert shared.evidence["shared"][0]["fingerprint"] == E.fingerprint(weak)
