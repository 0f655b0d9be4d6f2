"""tls_acme renews by itself: a short-lived certificate from pebble, renewed by the job tls_acme installs.

pebble (tests/support/acme_lab.py) issues certificates that live 20 days, inside tls_acme's
30-day renewal window.  The play issues one, installs the renewal job (a cron entry) and puts
nginx (edge_nginx) in front with it.  Then the job's command is run exactly as cron would run
it, with cron's bare environment: a new certificate is issued, nginx reloads and serves it, and
tls.auto_renew turns from "stale" to pass.

The job runs from the root-owned runtime tls_acme installs (its own venv and collection
copies), never from the controller's venv or collection path; a runtime someone else can
write is refused, and the refusal is what tls.auto_renew then reports (issue #12, item 4).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import pytest
import yaml
from cryptography import x509

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, checks_renewal, site
from tests.support import acme_lab, ansible_run, edge_app, procs

NGINX_IP = "127.0.0.171"
ZONE = "renew.edge.test"


def served(ca_file: str) -> x509.Certificate:
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((NGINX_IP, 443), timeout=3) as raw:
        with ctx.wrap_socket(raw, server_hostname=ZONE) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def _sha(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def on_disk(path: str) -> x509.Certificate:
    with open(path, "rb") as fh:
        return x509.load_pem_x509_certificates(fh.read())[0]


def auto_renew(cron: str):
    variables = {"launch_domain": ZONE, "launch_renewal_job": cron}
    (f,) = check_registry.run(site.from_vars(variables), check_registry.select(ids=[checks_renewal.AUTO_RENEW.id]))
    return f


@pytest.fixture(scope="module")
def renewal():
    acme = acme_lab.AcmeLab(zone=ZONE, validity_days=20).start()
    work = tempfile.mkdtemp(prefix="tls-renewal-")
    os.chmod(work, 0o755)
    app = edge_app.EdgeApp().start()
    tls = os.path.join(work, "tls")
    conf = os.path.join(work, "nginx", "nginx.conf")
    host_vars = {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "tls_acme_directory_url": acme.directory, "tls_acme_ca_bundle": acme.api_ca,
        "tls_acme_terms_agreed": True, "tls_acme_domains": [ZONE],
        "tls_acme_account_key_path": tls + "/account.key", "tls_acme_private_key_path": tls + "/privkey.pem",
        "tls_acme_csr_path": tls + "/request.csr", "tls_acme_cert_path": tls + "/cert.pem",
        "tls_acme_chain_path": tls + "/chain.pem", "tls_acme_fullchain_path": tls + "/fullchain.pem",
        "tls_acme_dns_server": acme.dns_server, "tls_acme_dns_port": acme.dns_port, "tls_acme_dns_zone": ZONE,
        "tls_acme_dns_key_name": acme.tsig["name"], "tls_acme_dns_key_secret": acme.tsig["secret"],
        "tls_acme_dns_key_algorithm": acme.tsig["algorithm"],
        "tls_acme_renew_scheduler": "cron", "tls_acme_renew_cron_file": tls + "/renew/cron",
        "tls_acme_runtime_dir": os.path.join(work, "runtime"),
        "tls_acme_reload_command": ["/usr/sbin/nginx", "-c", conf, "-s", "reload"],
        "edge_nginx_conf_path": conf, "edge_nginx_state_dir": os.path.join(work, "nginx"),
        "edge_nginx_pid_path": os.path.join(work, "nginx", "nginx.pid"),
        "edge_nginx_error_log": os.path.join(work, "log", "error.log"),
        "edge_nginx_access_log": os.path.join(work, "log", "access.log"),
        "edge_nginx_worker_processes": 1, "edge_nginx_listen_address": NGINX_IP,
        "edge_nginx_server_names": [ZONE], "edge_nginx_upstreams": [app.upstream], "edge_nginx_service": "",
    }
    inventory = os.path.join(work, "hosts.yml")
    with open(inventory, "w", encoding="utf-8") as fh:
        yaml.safe_dump({"all": {"hosts": {"edge": host_vars}}}, fh)
    playbook = os.path.join(work, "edge.yml")
    with open(playbook, "w", encoding="utf-8") as fh:
        yaml.safe_dump([{"name": "Certificate, renewal job and edge", "hosts": "edge", "gather_facts": False,
                         "roles": [{"role": "launchready.ops.tls_acme"}, {"role": "launchready.ops.edge_nginx"}]}], fh)
    server = None
    try:
        run = ansible_run.playbook("-i", inventory, playbook, timeout=300)
        assert run.returncode == 0, run.stdout[-5000:]
        server = procs.start("nginx-renewal", ["/usr/sbin/nginx", "-c", conf, "-g", "daemon off;"],
                             os.path.join(work, "nginx.out"), ready=lambda: procs.wait_port(NGINX_IP, 443, 0.2),
                             timeout=15)
        yield {"acme": acme, "tls": tls, "cron": tls + "/renew/cron", "work": work, "inventory": inventory,
               "playbook": playbook, "runtime": os.path.join(work, "runtime")}
    finally:
        if server:
            server.stop()
        app.stop()
        acme.stop()
        shutil.rmtree(work, ignore_errors=True)


def _run_job_as_cron_would(renewal) -> subprocess.CompletedProcess:
    with open(renewal["cron"], encoding="utf-8") as fh:
        entry = [line for line in fh.read().splitlines() if line and not line.startswith("#")]
    assert len(entry) == 1
    fields = shlex.split(entry[0])
    assert fields[5] == "root" and fields[6].endswith("/renew/renew.sh")
    return subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", "SHELL=/bin/sh", "/bin/sh", "-c",
                           " ".join(fields[6:])], capture_output=True, text=True, timeout=240, check=False)


def test_the_job_uses_nothing_of_the_controllers(renewal):
    controller = {os.path.realpath(sys.prefix), sys.prefix, ansible_run.ROOT, os.path.realpath(ansible_run.ROOT)}
    job_files = [renewal["cron"]] + [os.path.join(renewal["tls"], "renew", name)
                                     for name in ("renew.sh", "renew.yml", "vars.yml", "job.json")]
    for path in job_files:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        assert not [c for c in controller if c in text], "%s names a controller path" % path
    with open(os.path.join(renewal["tls"], "renew", "renew.sh"), encoding="utf-8") as fh:
        script = fh.read()
    assert "%s/venv/bin/ansible-playbook" % renewal["runtime"] in script
    assert "%s/collections" % renewal["runtime"] in script
    runtime = renewal["runtime"]
    for path in (runtime, runtime + "/venv/bin/ansible-playbook",
                 runtime + "/collections/ansible_collections/community/crypto/MANIFEST.json",
                 runtime + "/collections/ansible_collections/launchready/ops/roles/tls_acme/tasks/main.yml"):
        st = os.lstat(path)
        assert st.st_uid == 0 and not st.st_mode & 0o022, (path, oct(st.st_mode))


def test_the_job_renews_a_certificate_inside_the_window_and_reloads_nginx(renewal):
    first = served(renewal["acme"].api_ca)
    assert first.serial_number == on_disk(renewal["tls"] + "/cert.pem").serial_number
    life = first.not_valid_after_utc - first.not_valid_before_utc
    assert 19 <= life.days <= 20, life

    # Due (20 days < 30) and never run: the check calls it stale.
    stale = auto_renew(renewal["cron"])
    assert stale.status == "fail" and stale.summary.startswith("stale: the certificate has"), stale.summary

    # What cron would run, with cron's bare environment.
    job = _run_job_as_cron_would(renewal)
    log = open(os.path.join(renewal["tls"], "renew", "renew.log"), encoding="utf-8").read()
    assert job.returncode == 0, log[-4000:]
    with open(os.path.join(renewal["tls"], "renew", "last-run.json"), encoding="utf-8") as fh:
        assert json.load(fh)["rc"] == 0

    renewed = on_disk(renewal["tls"] + "/cert.pem")
    assert renewed.serial_number != first.serial_number
    assert "Reload what serves the certificate" in log
    # A reload is asynchronous (new workers start, old ones drain): give a loaded machine time.
    deadline = time.monotonic() + 30
    while served(renewal["acme"].api_ca).serial_number != renewed.serial_number and time.monotonic() < deadline:
        time.sleep(0.2)
    error_log = os.path.join(renewal["work"], "log", "error.log")
    tail = open(error_log, encoding="utf-8").read()[-3000:] if os.path.exists(error_log) else "(no error log)"
    assert served(renewal["acme"].api_ca).serial_number == renewed.serial_number, (
        "nginx does not serve the renewed certificate; renew log:\n%s\nnginx error log:\n%s" % (log[-3000:], tail))

    fresh = auto_renew(renewal["cron"])
    assert fresh.status == "pass", fresh.summary
    assert "last run ok" in fresh.summary and "renews when fewer than 30 days remain" in fresh.summary


@pytest.mark.parametrize("writable", ["runtime", "collection file", "job dir"])
def test_a_runtime_others_can_write_is_refused_and_reported(renewal, writable):
    runtime = renewal["runtime"]
    path = {"runtime": runtime,
            "collection file": runtime + "/collections/ansible_collections/launchready/ops/roles/tls_acme/tasks/main.yml",
            "job dir": os.path.join(renewal["tls"], "renew")}[writable]
    mode = os.stat(path).st_mode & 0o7777
    cert = _sha(renewal["tls"] + "/cert.pem")
    last_run = os.path.join(renewal["tls"], "renew", "last-run.json")
    before = open(last_run, encoding="utf-8").read() if os.path.exists(last_run) else None
    os.chmod(path, mode | 0o002)
    try:
        job = _run_job_as_cron_would(renewal)
        with open(last_run, encoding="utf-8") as fh:
            last = json.load(fh)
        f = auto_renew(renewal["cron"])
    finally:
        os.chmod(path, mode)
        if before is None:
            os.unlink(last_run)
        else:
            with open(last_run, "w", encoding="utf-8") as fh:
                fh.write(before)
    assert job.returncode == 126, job.stdout + job.stderr
    assert last["rc"] == 126 and path in last["error"] and "writable by group or others" in last["error"], last
    assert _sha(renewal["tls"] + "/cert.pem") == cert, "nothing ran"
    assert f.status == "fail" and "refused to run" in f.summary and path in f.summary, f.summary


def test_the_job_description_matches_the_cron_entry(renewal):
    with open(os.path.join(renewal["tls"], "renew", "job.json"), encoding="utf-8") as fh:
        job = json.load(fh)
    assert job["scheduler"] == "cron" and job["job"] == renewal["cron"] and job["renew_days"] == 30
    assert job["fullchain"] == renewal["tls"] + "/fullchain.pem"
    assert oct(os.stat(os.path.join(renewal["tls"], "renew", "vars.yml")).st_mode & 0o777) == "0o600"


def test_a_systemd_timer_is_rendered_and_read_where_systemd_would_run_it(renewal):
    units = os.path.join(renewal["work"], "systemd")
    os.makedirs(units)
    run = ansible_run.playbook("-i", renewal["inventory"], renewal["playbook"], "-e", "tls_acme_renew_scheduler=systemd",
                               "-e", "tls_acme_renew_systemd_dir=%s" % units, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:]
    name = "launchready-renew-renew-edge-test"
    with open(os.path.join(units, name + ".timer"), encoding="utf-8") as fh:
        timer = fh.read()
    with open(os.path.join(units, name + ".service"), encoding="utf-8") as fh:
        service = fh.read()
    assert "OnCalendar=*-*-* " in timer and "Persistent=true" in timer
    assert "ExecStart=%s/renew/renew.sh" % renewal["tls"] in service
    # No systemd runs here: the units are written, nothing is enabled.
    enable = run.stdout.split("Enable and start the renewal timer]")[1].split("TASK [")[0]
    assert "skipping: [edge]" in enable and "changed" not in enable
    f = auto_renew(os.path.join(units, name + ".timer"))
    assert f.status == "pass" and f.evidence["kind"] == "systemd timer", f.summary
