"""edge_nginx refuses what could rewrite its configuration, and serves the site to its own names only.

Issue #12, items 1 and 3, against a real nginx on 127.0.2.10 (its own state dir):

- a path that closes its location block and opens another (the issue's payload passed the
  role's own `nginx -t` and answered POSTs to /login with "200 pwned"), a server name with a
  ';', a header value that ends its quotes or carries a newline: each is refused by the
  role's first task, naming the variable and the value, and the live file is not touched;
- HTTPS for a name the site does not have: the handshake is refused (SNI evil.example, or
  none), and "Host: evil.example" over a good handshake gets 421, never the app.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import tempfile

import pytest
import yaml

from ansible_collections.launchready.ops.plugins.module_utils import http_probe as P
from tests.support import ansible_run, edge_app, pki, procs

NGINX_IP = "127.0.2.10"
APP_IP = "127.0.2.11"
HOST = "hardened.edge.test"
PAYLOAD = "/login { return 200 'pwned'; } location = /x"


def _sha(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


@pytest.fixture(scope="module")
def edge():
    work = tempfile.mkdtemp(prefix="edge-hardening-")
    os.chmod(work, 0o755)
    app = edge_app.EdgeApp(address=APP_IP).start()
    ca = pki.TestCA("edge hardening")
    crt, key = ca.write(os.path.join(work, "tls"), "site", ca.issue([HOST, "www." + HOST, "evil.example"]))
    bundle = ca.write_bundle(os.path.join(work, "ca.pem"))
    conf = os.path.join(work, "nginx", "nginx.conf")
    role_vars = {
        "ansible_connection": "local", "ansible_python_interpreter": ansible_run.sys.executable,
        "edge_nginx_conf_path": conf, "edge_nginx_state_dir": os.path.join(work, "nginx"),
        "edge_nginx_pid_path": os.path.join(work, "nginx", "nginx.pid"),
        "edge_nginx_error_log": os.path.join(work, "log", "error.log"),
        "edge_nginx_access_log": os.path.join(work, "log", "access.log"),
        "edge_nginx_worker_processes": 1, "edge_nginx_listen_address": NGINX_IP,
        "edge_nginx_server_names": [HOST, "www." + HOST], "edge_nginx_certificate": crt,
        "edge_nginx_certificate_key": key, "edge_nginx_upstreams": [app.upstream],
        "edge_nginx_rate_limit_burst": 5, "edge_nginx_cache_max_size": "16m", "edge_nginx_service": "",
        # A real CSP: ';' inside a quoted header value is text, and stays allowed.
        "edge_nginx_security_headers": {"X-Content-Type-Options": "nosniff",
                                        "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'"},
    }
    inventory = os.path.join(work, "hosts.yml")
    with open(inventory, "w", encoding="utf-8") as fh:
        yaml.safe_dump({"all": {"hosts": {"edge": role_vars}}}, fh)
    playbook = os.path.join(work, "edge.yml")
    with open(playbook, "w", encoding="utf-8") as fh:
        yaml.safe_dump([{"name": "Apply edge_nginx", "hosts": "edge", "gather_facts": False,
                         "roles": [{"role": "launchready.ops.edge_nginx"}]}], fh)
    first = ansible_run.playbook("-i", inventory, playbook)
    server = None
    try:
        assert first.returncode == 0, first.stdout[-4000:]
        server = procs.start("edge-hardening-nginx", ["/usr/sbin/nginx", "-c", conf, "-g", "daemon off;"],
                             os.path.join(work, "nginx.out"),
                             ready=lambda: procs.wait_port(NGINX_IP, 443, 0.2) and procs.wait_port(NGINX_IP, 80, 0.2),
                             timeout=15)
        yield {"work": work, "conf": conf, "inventory": inventory, "playbook": playbook, "bundle": bundle,
               "server": server}
    finally:
        if server:
            server.stop()
        app.stop()
        shutil.rmtree(work, ignore_errors=True)


def _get(edge, path, host=HOST, method="GET", headers=None):
    return P.fetch("https://%s%s" % (host, path), NGINX_IP, method=method, headers=headers,
                   ca_bundle=edge["bundle"], timeout=3)


@pytest.mark.parametrize("variable,value", [
    ("edge_nginx_rate_limit_paths", ["/api/chat", PAYLOAD]),
    ("edge_nginx_never_cache", ["/checkout", PAYLOAD]),
    ("edge_nginx_blocked_paths", [PAYLOAD]),
    ("edge_nginx_server_names", [HOST, "www.%s; location /x { alias /etc/; }" % HOST]),
    ("edge_nginx_security_headers", {"X-Frame-Options": "DENY\"; return 200 'pwned'; #"}),
    ("edge_nginx_security_headers", {"X-Frame-Options": "DENY\nSet-Cookie: session=attacker"}),
    ("edge_nginx_security_headers", {"X-Leak": "$http_cookie"}),
    ("edge_nginx_upstreams", ["127.0.0.1:9; } server { listen 127.0.2.12:80"]),
])
def test_injected_values_are_refused_and_nothing_is_written(edge, variable, value):
    before = _sha(edge["conf"])
    run = ansible_run.playbook("-i", edge["inventory"], edge["playbook"], "-e", json.dumps({variable: value}))
    assert run.returncode != 0, run.stdout[-3000:]
    refused = run.stdout.split("TASK [")[-1]
    assert refused.startswith("launchready.ops.edge_nginx : Refuse settings"), run.stdout[-3000:]
    assert variable in refused
    bad = [v for v in (value.values() if isinstance(value, dict) else value) if v not in (HOST, "/api/chat", "/checkout")]
    assert json.dumps(bad[0])[1:-1] in refused, refused[-2000:]
    assert "nothing was written" in refused
    assert _sha(edge["conf"]) == before, "the configuration on disk was not touched"
    # And the edge still answers POSTs to /login with the app, not an injected body.
    login = _get(edge, "/login", method="POST", headers={"Content-Length": "0"})
    assert login.status in (400, 429) and b"pwned" not in (login.body or b"")


def _handshake(server_hostname):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((NGINX_IP, 443), timeout=3) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
            return tls.version()


def test_tls_for_an_unknown_name_is_refused_at_the_handshake(edge):
    assert _handshake(HOST)
    assert _handshake("www." + HOST)
    for name in ("evil.example", None):
        with pytest.raises(ssl.SSLError) as refused:
            _handshake(name)
        assert "UNRECOGNIZED_NAME" in str(refused.value).upper() or "ALERT" in str(refused.value).upper()


def test_an_unknown_host_header_over_a_good_handshake_never_reaches_the_app(edge):
    ctx = ssl.create_default_context(cafile=edge["bundle"])
    conn = http.client.HTTPSConnection(NGINX_IP, 443, timeout=3, context=ctx)
    # SNI and certificate check for the real name, then another Host in the request.
    conn.sock = ctx.wrap_socket(socket.create_connection((NGINX_IP, 443), timeout=3), server_hostname=HOST)
    try:
        conn.request("GET", "/", headers={"Host": "evil.example"})
        answer = conn.getresponse()
        body = answer.read()
    finally:
        conn.close()
    assert answer.status == 421, (answer.status, body[:200])
    assert b"<h1>Shop</h1>" not in body
    # The site's own names still work.
    home = _get(edge, "/")
    assert home.status == 200 and home.header("Content-Security-Policy") == "default-src 'self'; frame-ancestors 'none'"
    assert _get(edge, "/x", host="www." + HOST).status == 301
