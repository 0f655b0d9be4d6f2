"""The edge roles end to end: edge_nginx against a real nginx, edge_cloudflare against the local v4 API.

edge_nginx: nginx on 127.0.0.180 (its own state dir), proxying to a shop-shaped upstream;
the role's output serves what the Stage 2 checks want, a second run changes nothing, and a
configuration that fails `nginx -t` never reaches nginx.

edge_cloudflare: tests/support/cloudflare_api.py (the documented request and response
shapes, recorded calls) stands in for api.cloudflare.com; a second run and check mode make no
write call; 403, 429 and 5xx stop the play with a clear message and never print the token.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time

import pytest
import yaml

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, checks_edge, site
from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from tests.support import ansible_run, cloudflare_api, edge_app, pki, procs

NGINX_IP = "127.0.0.180"
SETTINGS_CHECK = checks_edge.SETTINGS.id
HOST = "role.edge.test"
TOKEN = "cf-role-token-0d9e8f7a6b5c"


def _playbook(path: str, role: str, hosts: str = "localhost", extra_vars: dict | None = None) -> None:
    play = [{"name": "Apply %s" % role, "hosts": hosts, "gather_facts": False,
             "vars": extra_vars or {}, "roles": [{"role": "launchready.ops.%s" % role}]}]
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(play, fh, sort_keys=False)


def _inventory(path: str, host: str, host_vars: dict) -> str:
    inv = {"all": {"hosts": {host: dict(host_vars, ansible_connection="local",
                                        ansible_python_interpreter=ansible_run.sys.executable)}}}
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(inv, fh)
    return path


def _sha(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _children(pid: int) -> set:
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid), encoding="ascii") as fh:
            return {int(p) for p in fh.read().split()}
    except OSError:
        return set()


# --- edge_nginx ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nginx_edge():
    work = tempfile.mkdtemp(prefix="edge-nginx-role-")
    os.chmod(work, 0o755)
    app = edge_app.EdgeApp().start()
    ca = pki.TestCA("edge role")
    crt, key = ca.write(os.path.join(work, "tls"), "site", ca.issue([HOST, "www." + HOST]))
    bundle = ca.write_bundle(os.path.join(work, "ca.pem"))
    conf = os.path.join(work, "nginx", "nginx.conf")
    role_vars = {
        "edge_nginx_conf_path": conf, "edge_nginx_state_dir": os.path.join(work, "nginx"),
        "edge_nginx_pid_path": os.path.join(work, "nginx", "nginx.pid"),
        "edge_nginx_error_log": os.path.join(work, "log", "error.log"),
        "edge_nginx_access_log": os.path.join(work, "log", "access.log"),
        "edge_nginx_worker_processes": 1, "edge_nginx_listen_address": NGINX_IP,
        "edge_nginx_server_names": [HOST, "www." + HOST], "edge_nginx_certificate": crt,
        "edge_nginx_certificate_key": key, "edge_nginx_upstreams": [app.upstream],
        "edge_nginx_rate_limit_burst": 5, "edge_nginx_cache_max_size": "32m", "edge_nginx_service": "",
    }
    inventory = _inventory(os.path.join(work, "hosts.yml"), "edge", role_vars)
    playbook = os.path.join(work, "edge.yml")
    _playbook(playbook, "edge_nginx", hosts="edge")
    first = ansible_run.playbook("-i", inventory, playbook)
    server = None
    try:
        assert first.returncode == 0, first.stdout[-4000:]
        server = procs.start("edge-nginx-role", ["/usr/sbin/nginx", "-c", conf, "-g", "daemon off;"],
                             os.path.join(work, "nginx.out"),
                             ready=lambda: procs.wait_port(NGINX_IP, 443, 0.2) and procs.wait_port(NGINX_IP, 80, 0.2),
                             timeout=15)
        yield {"work": work, "conf": conf, "inventory": inventory, "playbook": playbook, "bundle": bundle,
               "server": server, "first": first, "app": app, "vars": role_vars}
    finally:
        if server:
            server.stop()
        app.stop()
        shutil.rmtree(work, ignore_errors=True)


def _get(edge, path, host=HOST, scheme="https", method="GET", headers=None):
    return P.fetch("%s://%s%s" % (scheme, host, path), NGINX_IP, method=method, headers=headers,
                   ca_bundle=edge["bundle"], timeout=3)


def test_edge_nginx_serves_what_the_stage2_checks_want(nginx_edge):
    assert ansible_run.recap(nginx_edge["first"].stdout)["edge"]["changed"] >= 1
    plain = _get(nginx_edge, "/login", scheme="http", host="www." + HOST)
    assert (plain.status, plain.location) == (301, "https://www.%s/login" % HOST)
    variant = _get(nginx_edge, "/x?y=1", host="www." + HOST)
    assert (variant.status, variant.location) == (301, "https://%s/x?y=1" % HOST)
    home = _get(nginx_edge, "/", headers={"X-Request-ID": "req-from-the-client-1"})
    assert home.status == 200 and home.header("X-Request-ID") == "req-from-the-client-1"
    assert home.header("Strict-Transport-Security") == "max-age=63072000; includeSubDomains"
    assert home.header("X-Content-Type-Options") == "nosniff"
    assert _get(nginx_edge, "/checkout").header_all("Cache-Control") == ["private, no-store"]
    assert _get(nginx_edge, "/account/x.css").header_all("Cache-Control") == ["private, no-store"]
    first, second = _get(nginx_edge, edge_app.CSS), _get(nginx_edge, edge_app.CSS)
    assert first.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert second.header("X-Cache-Status") == "HIT"
    assert _get(nginx_edge, edge_app.IMAGE).header("Cache-Control") == "public, max-age=86400"
    assert _get(nginx_edge, "/metrics").status == 404 and _get(nginx_edge, "/.env").status == 404
    # GETs are never throttled; a burst of POSTs is, with 429.
    assert {_get(nginx_edge, "/login").status for _n in range(12)} == {200}
    statuses = [_get(nginx_edge, "/login", method="POST", headers={"Content-Length": "0"}).status for _n in range(12)]
    assert 429 in statuses, statuses
    with open(os.path.join(nginx_edge["work"], "log", "access.log"), encoding="utf-8") as fh:
        lines = [json.loads(line) for line in fh if line.strip()]
    logged = [entry for entry in lines if entry["request_id"] == "req-from-the-client-1"]
    assert logged and logged[0]["path"] == "/" and isinstance(logged[0]["request_time"], (int, float))


def test_edge_nginx_second_run_changes_nothing(nginx_edge):
    again = ansible_run.playbook("-i", nginx_edge["inventory"], nginx_edge["playbook"])
    assert again.returncode == 0, again.stdout[-3000:]
    assert ansible_run.recap(again.stdout)["edge"]["changed"] == 0, again.stdout[-3000:]


def test_edge_nginx_check_mode_shows_the_diff_and_writes_nothing(nginx_edge):
    before = _sha(nginx_edge["conf"])
    run = ansible_run.playbook("-i", nginx_edge["inventory"], nginx_edge["playbook"], "--check", "--diff",
                               "-e", "edge_nginx_rate_limit_burst=9")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "-            limit_req zone=edge_limit_1 burst=5 nodelay;" in run.stdout
    assert "+            limit_req zone=edge_limit_1 burst=9 nodelay;" in run.stdout
    assert _sha(nginx_edge["conf"]) == before


def test_a_config_failing_nginx_t_is_never_loaded(nginx_edge):
    master = nginx_edge["server"].pid
    workers = _children(master)
    before = _sha(nginx_edge["conf"])
    run = ansible_run.playbook("-i", nginx_edge["inventory"], nginx_edge["playbook"],
                               "-e", "edge_nginx_certificate=%s" % os.path.join(nginx_edge["work"], "missing.pem"))
    assert run.returncode != 0
    assert "failed to validate" in run.stdout and "missing.pem" in run.stdout
    assert "Reload nginx" not in run.stdout.split("fatal:")[-1]
    assert _sha(nginx_edge["conf"]) == before, "the live configuration was not touched"
    time.sleep(0.3)
    assert _children(master) == workers, "no reload: the same worker processes serve"
    assert _get(nginx_edge, "/").status == 200
    # And the next good run has nothing to do.
    again = ansible_run.playbook("-i", nginx_edge["inventory"], nginx_edge["playbook"])
    assert ansible_run.recap(again.stdout)["edge"]["changed"] == 0


# --- edge_cloudflare -------------------------------------------------------------------------------

@pytest.fixture()
def cloudflare(tmp_path):
    api = cloudflare_api.CloudflareAPI(tokens=[TOKEN]).start()
    api.add_zone("shop.example")
    api.add_zone("fresh.example")
    try:
        yield api
    finally:
        api.stop()


def _cf_run(api, tmp_path, *args, token=TOKEN, zone="shop.example"):
    host_vars = {"launch_domain": zone, "launch_hosts": [zone, "www." + zone],
                 "launch_cloudflare_api_url": api.url, "launch_cloudflare_api_token": token,
                 "edge_cloudflare_ca_path": api.ca_file,
                 "launch_routes": {"login": "/login", "chatbot": "/api/chat"},
                 "edge_cloudflare_origin_addresses": ["203.0.113.10", "2001:db8::10"], "edge_cloudflare_timeout": 5}
    inventory = _inventory(str(tmp_path / ("hosts-%s.yml" % zone)), zone, host_vars)
    playbook = str(tmp_path / "cloudflare.yml")
    _playbook(playbook, "edge_cloudflare", hosts=zone)
    return ansible_run.playbook("-i", inventory, playbook, *args)


def test_edge_cloudflare_configures_the_zone_then_changes_nothing(cloudflare, tmp_path):
    first = _cf_run(cloudflare, tmp_path)
    assert first.returncode == 0, first.stdout[-4000:]
    writes = [(r["method"], r["path"].split("/")[-1] if "settings" in r["path"] or "phases" in r["path"] else
               r["path"].rsplit("/", 1)[-1]) for r in cloudflare.writes()]
    assert ("PATCH", "ssl") in writes and ("PUT", "entrypoint") in writes
    assert cloudflare.settings("shop.example")["ssl"] == "strict"
    assert cloudflare.settings("shop.example")["always_use_https"] == "on"
    assert cloudflare.settings("shop.example")["min_tls_version"] == "1.2"
    assert cloudflare.settings("shop.example")["security_header"]["strict_transport_security"]["enabled"] is True
    records = cloudflare.records("shop.example")
    assert sorted((r["name"], r["type"], r["content"], r["proxied"]) for r in records) == [
        ("shop.example", "A", "203.0.113.10", True), ("shop.example", "AAAA", "2001:db8::10", True),
        ("www.shop.example", "A", "203.0.113.10", True), ("www.shop.example", "AAAA", "2001:db8::10", True)]
    waf = cloudflare.entrypoint("shop.example", "http_request_firewall_managed")
    assert [r["action_parameters"]["id"] for r in waf["rules"]] == ["efb7b8c949ac4650a09736fc376e9aee"]
    limits = cloudflare.entrypoint("shop.example", "http_ratelimit")["rules"]
    assert [r["expression"] for r in limits] == [
        '(http.request.uri.path eq "/login" and http.request.method in {"POST"})',
        '(http.request.uri.path eq "/api/chat" and http.request.method in {"POST"})']
    cache = cloudflare.entrypoint("shop.example", "http_request_cache_settings")["rules"]
    assert [r["action_parameters"]["cache"] for r in cache] == [True, False]
    assert 'starts_with(http.request.uri.path, "/checkout/")' in cache[1]["expression"]
    assert {r["authorization"] for r in cloudflare.requests} == {"Bearer %s" % TOKEN}

    cloudflare.requests.clear()
    second = _cf_run(cloudflare, tmp_path)
    assert second.returncode == 0, second.stdout[-3000:]
    assert cloudflare.writes() == [], "a second run makes no write call"
    assert ansible_run.recap(second.stdout)["shop.example"]["changed"] == 0

    # The zone now passes edge.settings, read back through the API.
    variables = {"launch_domain": "shop.example", "launch_edge_provider": "cloudflare",
                 "launch_cloudflare_api_url": cloudflare.url, "launch_cloudflare_api_token": TOKEN,
                 "launch_ca_bundle": cloudflare.ca_file}
    (f,) = check_registry.run(site.from_vars(variables), check_registry.select(ids=[SETTINGS_CHECK]))
    assert f.status == "pass", f.summary


def test_edge_cloudflare_keeps_rules_made_elsewhere(cloudflare, tmp_path):
    zone_id = cloudflare.zone_id("shop.example")
    cloudflare.zones[zone_id]["rulesets"] = {"http_ratelimit": {
        "id": "a" * 32, "name": "default", "kind": "zone", "phase": "http_ratelimit", "version": "3",
        "last_updated": "2026-01-01T00:00:00Z", "rules": [
            {"id": "b" * 32, "ref": "b" * 32, "version": "1", "last_updated": "2026-01-01T00:00:00Z",
             "expression": '(http.request.uri.path eq "/search")', "action": "block", "enabled": True,
             "ratelimit": {"characteristics": ["cf.colo.id", "ip.src"], "period": 60, "requests_per_period": 100,
                           "mitigation_timeout": 60}}]}}
    run = _cf_run(cloudflare, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    rules = cloudflare.entrypoint("shop.example", "http_ratelimit")["rules"]
    assert [r["ref"] for r in rules] == ["b" * 32, "launchready_rate_limit_login", "launchready_rate_limit_api_chat"]
    assert rules[0]["id"] == "b" * 32 and rules[0]["version"] == "1"


def test_edge_cloudflare_check_mode_writes_nothing_and_shows_the_diff(cloudflare, tmp_path):
    run = _cf_run(cloudflare, tmp_path, "--check", "--diff", zone="fresh.example")
    assert run.returncode == 0, run.stdout[-3000:]
    assert cloudflare.writes() == []
    assert ansible_run.recap(run.stdout)["fresh.example"]["changed"] >= 5
    assert "ssl" in run.stdout and "strict" in run.stdout and "launchready_rate_limit_login" in run.stdout
    assert cloudflare.settings("fresh.example")["ssl"] == "off"


@pytest.mark.parametrize("fault,needle", [
    ("token", "refused the API token"),
    ((429, 10100, "Rate limited"), "rate-limiting"),
    ((503, 10002, "Service unavailable"), "on Cloudflare's side"),
])
def test_edge_cloudflare_api_errors_fail_clearly_without_the_token(cloudflare, tmp_path, fault, needle):
    token = TOKEN
    if fault == "token":
        token = "not-the-right-token-7f7f7f"
    else:
        cloudflare.fail(*fault, times=50, path=r"/settings/")
    run = _cf_run(cloudflare, tmp_path, token=token)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert needle in output, output[-3000:]
    assert token not in output and TOKEN not in output
    if fault != "token":
        assert "HTTP %d" % fault[0] in output
        assert [r for r in cloudflare.writes() if "/settings/" in r["path"]] == []
