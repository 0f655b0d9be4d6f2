"""The embedded lab is a real, healthy launch target: idempotent up, answering services, clean down."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import time
import uuid

import dns.message
import dns.query
import dns.rdatatype
import pytest
import urllib3

from tests.support import lab as lab_support

# Shares the one lab with every other test marked "lab" (lab_support serialises the
# playbook runs of parallel workers). Only the down/up test disturbs the others.
pytestmark = pytest.mark.lab

HOST = "shop.test"


@pytest.fixture(scope="module")
def lab() -> dict:
    return lab_support.ensure_up()


def https(lab: dict, method: str, path: str, host: str = HOST, **kw) -> urllib3.BaseHTTPResponse:
    """A request to the edge's address with SNI, Host and certificate checks for HOST."""
    pool = urllib3.HTTPSConnectionPool(
        lab["edge_address"], 443, server_hostname=host, assert_hostname=host,
        cert_reqs="CERT_REQUIRED", ca_certs=lab["ca_bundle"], timeout=urllib3.Timeout(total=10), retries=False)
    headers = {"Host": host, **kw.pop("headers", {})}
    try:
        return pool.request(method, path, headers=headers, redirect=False, **kw)
    finally:
        pool.close()


def query(server: str, name: str, rdtype: str) -> list[str]:
    response = dns.query.udp(dns.message.make_query(name, rdtype), server, timeout=3)
    return sorted(rr.to_text() for rrset in response.answer for rr in rrset
                  if rrset.rdtype == dns.rdatatype.from_text(rdtype))


def port_open(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- (a) idempotence --------------------------------------------------------------------------

def test_second_up_changes_nothing(lab: dict) -> None:
    run = lab_support.up()
    assert run.recap[lab_support.LAB_HOST]["failed"] == 0
    assert run.recap[lab_support.LAB_HOST]["changed"] == 0, "changed on a second up: %s" % run.changed_tasks()
    assert lab["tsig"]["secret"] not in run.output, "the TSIG secret was printed"


DNS_RECORDS_PLAY = """
- name: Publish records with the dns_records role
  hosts: lab
  gather_facts: false
  tasks:
    - name: Run dns_records
      ansible.builtin.include_role:
        name: launchready.ops.dns_records
"""


def test_dns_records_role_is_idempotent_and_honest_in_check_mode(lab: dict, tmp_path) -> None:
    name = "t%s.shop.test" % uuid.uuid4().hex[:8]
    playbook = tmp_path / "dns_records.yml"
    playbook.write_text(DNS_RECORDS_PLAY)
    base = {"dns_records_server": "127.0.0.53", "dns_records_zone": "shop.test",
            "dns_records_key_name": lab["tsig"]["name"], "dns_records_key_secret": lab["tsig"]["secret"],
            "dns_records_records": [{"record": name, "type": "TXT", "value": ["hello world"], "ttl": 60}]}

    def run(state: str, *extra: str) -> int:
        extra_vars = tmp_path / ("vars-%s.json" % state)
        extra_vars.write_text(json.dumps(dict(base, dns_records_state=state)))
        proc = subprocess.run(["ansible-playbook", "-i", lab["inventory"], str(playbook), "-e", "@%s" % extra_vars,
                               *extra], check=False, cwd=lab_support.REPO, env=lab_support.ansible_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert lab["tsig"]["secret"] not in proc.stdout
        return lab_support.parse_recap(proc.stdout)[lab_support.LAB_HOST]["changed"]

    assert run("present", "--check") == 1
    assert query("127.0.0.53", name + ".", "TXT") == []
    assert run("present") == 1
    assert query("127.0.0.54", name + ".", "TXT") == ['"hello world"']
    assert run("present") == 0
    assert run("absent") == 1
    assert query("127.0.0.53", name + ".", "TXT") == []


# --- (b) the services answer ------------------------------------------------------------------

@pytest.mark.parametrize("server", ["127.0.0.53", "127.0.0.54"])
def test_dns(lab: dict, server: str) -> None:
    assert query(server, "shop.test.", "A") == ["127.0.0.10"]
    assert query(server, "www.shop.test.", "A") == ["127.0.0.10"]
    assert query(server, "shop.test.", "NS") == ["ns1.shop.test.", "ns2.shop.test."]
    assert query(server, "ns1.shop.test.", "A") == ["127.0.0.53"]
    assert query(server, "ns2.shop.test.", "A") == ["127.0.0.54"]
    assert query(server, "shop.test.", "CAA") == ['0 issue "pebble.test"']
    assert query(server, "shop.test.", "MX") == ["10 mail.shop.test."]
    assert query(server, "mail.shop.test.", "A") == ["127.0.0.12"]
    assert query(server, "_acme-challenge.shop.test.", "TXT") == []  # challenge records cleaned up


def test_site_vars_are_resolved(lab: dict) -> None:
    site = lab["site"]
    assert site["launch_domain"] == "shop.test"
    assert site["launch_ca_bundle"] == lab["ca_bundle"] and os.path.isabs(lab["ca_bundle"])
    assert os.path.isfile(site["launch_ca_bundle"])
    assert site["launch_report_dir"] == os.path.join(os.path.dirname(lab["lab_dir"]), "reports")
    assert site["launch_resolvers"] == ["127.0.0.53", "127.0.0.54"]


def test_storefront_over_https(lab: dict) -> None:
    resp = https(lab, "GET", "/")
    assert resp.status == 200
    hsts = resp.headers["Strict-Transport-Security"]
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 31536000 and "includeSubDomains" in hsts, hsts
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])
    bundle = re.search(r'src="(/static/app\.[0-9a-f]{12}\.js)"', resp.data.decode())
    assert bundle, "storefront does not load the built bundle"
    asset = https(lab, "GET", bundle.group(1))
    assert asset.status == 200
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_redirects(lab: dict) -> None:
    www = https(lab, "GET", "/cart?x=1", host="www.shop.test")
    assert (www.status, www.headers["Location"]) == (301, "https://shop.test/cart?x=1")
    assert "Strict-Transport-Security" in www.headers
    plain = urllib3.HTTPConnectionPool(lab["edge_address"], 80, timeout=5, retries=False)
    resp = plain.request("GET", "/login", headers={"Host": "www.shop.test"}, redirect=False)
    assert (resp.status, resp.headers["Location"]) == (301, "https://www.shop.test/login")


def test_healthz_and_never_cache(lab: dict) -> None:
    assert https(lab, "GET", "/healthz").status == 200
    login = https(lab, "GET", "/login")
    assert login.status == 200 and login.headers["Cache-Control"] == "private, no-store"


def test_checkout_stores_the_order(lab: dict) -> None:
    email = "jane.doe.%s@example.com" % uuid.uuid4().hex[:6]
    resp = https(lab, "POST", "/api/checkout", body=json.dumps({"items": [{"sku": "mug", "qty": 2}], "email": email}),
                 headers={"Content-Type": "application/json"})
    assert resp.status == 201, resp.data
    order_id = json.loads(resp.data)["order_id"]
    db = sqlite3.connect("file:%s?mode=ro" % lab["db"], uri=True, timeout=5)
    try:
        row = db.execute("SELECT request_id, total_cents FROM orders WHERE id = ?", (order_id,)).fetchone()
    finally:
        db.close()
    assert row == (resp.headers["X-Request-ID"], 2800)
    with open(lab["logs"]["shop"], encoding="utf-8") as fh:
        assert email not in fh.read(), "the shop logged a customer's e-mail address"


def test_chat_answers_from_the_vendor(lab: dict) -> None:
    resp = https(lab, "POST", "/api/chat", body=json.dumps({"message": "Where is my order?"}),
                 headers={"Content-Type": "application/json"})
    assert resp.status == 200, resp.data
    answer = json.loads(resp.data)
    assert answer["source"] == "vendor" and answer["reply"]
    assert resp.headers["Cache-Control"] == "private, no-store"


def _json_line(line: str) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def test_request_id_is_returned_and_logged(lab: dict) -> None:
    rid = https(lab, "GET", "/version").headers["X-Request-ID"]
    deadline = time.monotonic() + 5
    while True:
        with open(lab["logs"]["nginx_access"], encoding="utf-8") as fh:
            edge = '"request_id":"%s"' % rid in fh.read()  # edge_nginx logs one JSON object a line
        with open(lab["logs"]["shop"], encoding="utf-8") as fh:
            app = any(_json_line(line).get("request_id") == rid for line in fh)  # one JSON object per request
        if (edge and app) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert edge, "request id not in the nginx access log"
    assert app, "request id not in the shop's log"


# --- (c) down, then up again ------------------------------------------------------------------

def test_down_stops_everything_then_up_restarts(lab: dict) -> None:
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        pytest.skip("stops the lab other workers are using: run it without -n")
    before = lab_support.pids()
    assert all(before.values()), before
    lab_support.down()
    deadline = time.monotonic() + 10
    while any(lab_support.alive(pid) for pid in before.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [name for name, pid in before.items() if lab_support.alive(pid)] == []
    assert [path for path in lab["pid_files"].values() if os.path.exists(path)] == []
    assert [p for p in lab_support.ports() if port_open(*p)] == []

    run = lab_support.up()
    assert run.recap[lab_support.LAB_HOST]["failed"] == 0
    after = lab_support.pids()
    assert all(after.values()) and set(after.values()).isdisjoint(before.values())
    # pebble restarted with a new root: the bundle and the site certificate followed it.
    assert https(lab, "GET", "/healthz").status == 200
    assert query("127.0.0.54", "shop.test.", "CAA") == ['0 issue "pebble.test"']
