"""secrets.public_files and secrets.frontend_bundle against real nginx variants, and the healthy shared lab.

Knot on 127.0.8.53 serves sec.test; one nginx serves, with certificates from a test CA:
- leaky.sec.test (127.0.8.10): a plain webroot with /.env, /.git/HEAD, /.git/config, /index.html.bak, a bundle
  holding a Stripe secret key and its source map (referenced by the bundle) holding an AWS key;
- spa.sec.test (127.0.8.11): an SPA that answers 200 index.html for every path.
"""

from __future__ import annotations

import json
import os
import tempfile

import pytest

from ansible_collections.launchready.ops.plugins.module_utils import check_registry, site
from ansible_collections.launchready.ops.plugins.module_utils import checks_secrets as C
from tests.support import pki
from tests.support.knot import KnotServer, zone
from tests.support.nginx import NginxServer

DNS = "127.0.8.53"
HOSTS = {"leaky.sec.test": "127.0.8.10", "spa.sec.test": "127.0.8.11"}
STRIPE = "sk_live_" + "Hq2Lw8Zp4Nc7Vx1Rt5Bk9Md3"
AWS = "AKIA" + "Q7W2E9R4T6Y1U3I8"
PAGE = b"<html><head><script src='/static/app.3f2a9c1b.js'></script></head><body>shop</body></html>"


def _write(root: str, rel: str, data) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data if isinstance(data, bytes) else data.encode())


@pytest.fixture(scope="module")
def served_stack():
    work = tempfile.mkdtemp(prefix="h7-served-")
    os.chmod(work, 0o755)  # nginx's workers run as an unprivileged user when the tests run as root
    ca = pki.TestCA("secrets test")
    bundle = ca.write_bundle(os.path.join(work, "ca.pem"))
    servers = ["include /etc/nginx/mime.types;"]
    for name, address in HOSTS.items():
        root = os.path.join(work, name)
        crt, key = ca.write(os.path.join(work, "tls"), name, ca.issue([name]))
        _write(root, "index.html", PAGE)
        if name.startswith("leaky"):
            _write(root, "static/app.3f2a9c1b.js", "!function(){var c={stripeKey:\"%s\",x:1};}();\n"
                   "//# sourceMappingURL=app.3f2a9c1b.js.map\n" % STRIPE)
            _write(root, "static/app.3f2a9c1b.js.map", json.dumps({
                "version": 3, "sources": ["src/aws.js"], "mappings": "AAAA",
                "sourcesContent": ["export const id = '%s';\n" % AWS]}))
            _write(root, ".env", "DATABASE_URL=postgres://a:b@c/d\n")
            _write(root, ".git/HEAD", "ref: refs/heads/main\n")
            _write(root, ".git/config", "[core]\n\trepositoryformatversion = 0\n")
            _write(root, "index.html.bak", b"<html>old copy " + PAGE + b"</html>")
            fallback = "$uri/ =404"
        else:
            _write(root, "static/app.3f2a9c1b.js", "console.log('clean');\n")
            fallback = "/index.html"
        servers.append("server { listen %s:443 ssl; server_name %s; ssl_certificate %s; ssl_certificate_key %s;"
                       " root %s; location / { try_files $uri %s; } }" % (address, name, crt, key, root, fallback))
    knot = KnotServer([DNS], {"sec.test": zone("sec.test", "\n".join(
        "%s A %s" % (n.split(".", maxsplit=1)[0], a) for n, a in HOSTS.items()))}).start()
    nginx = None
    try:
        nginx = NginxServer("\n".join(servers), [(a, 443) for a in HOSTS.values()]).start()
        yield {"bundle": bundle}
    finally:
        if nginx:
            nginx.stop()
        knot.stop()
        import shutil
        shutil.rmtree(work, ignore_errors=True)


def run(site_vars: dict, check_id: str):
    found = check_registry.run(site.from_vars(site_vars), check_registry.select(ids=[check_id]))
    assert len(found) == 1
    return found[0]


def vars_for(stack, host: str) -> dict:
    return {"launch_domain": host, "launch_hosts": [host], "launch_resolvers": [DNS], "launch_ca_bundle":
            stack["bundle"], "launch_timeout": 3}


def test_served_env_git_backup_and_map_fail_public_files(served_stack):
    f = run(vars_for(served_stack, "leaky.sec.test"), "secrets.public_files")
    assert f.status == "fail" and f.impact == "blocker"
    exposed = {e["url"].split("leaky.sec.test", 1)[1]: e["what"] for e in f.evidence["exposed"]}
    assert exposed == {"/.env": "env", "/.git/HEAD": "git HEAD", "/.git/config": "git config",
                       "/index.html.bak": "a copy of another file",
                       "/static/app.3f2a9c1b.js.map": "source map of https://leaky.sec.test/static/app.3f2a9c1b.js"}
    assert f.evidence["random_path_status"] == 404
    assert f.evidence["requests"] <= 40, "a bounded probe"


def test_a_secret_in_the_served_bundle_and_its_map_fails_frontend_bundle(served_stack):
    f = run(vars_for(served_stack, "leaky.sec.test"), "secrets.frontend_bundle")
    assert f.status == "fail"
    where = {(h["kind"], h["path"]) for h in f.evidence["secrets"]}
    assert where == {("stripe-secret-key", "https://leaky.sec.test/static/app.3f2a9c1b.js"),
                     ("aws-access-key-id", "https://leaky.sec.test/static/app.3f2a9c1b.js.map -> src/aws.js")}
    text = json.dumps(f.to_dict())
    assert STRIPE not in text and AWS not in text


def test_an_spa_answering_index_html_everywhere_passes(served_stack):
    pub = run(vars_for(served_stack, "spa.sec.test"), "secrets.public_files")
    assert pub.status == "pass", pub.summary
    assert pub.evidence["random_path_status"] == 200
    bundle = run(vars_for(served_stack, "spa.sec.test"), "secrets.frontend_bundle")
    assert bundle.status == "pass", bundle.summary


def test_repo_checks_skip_without_a_repository(served_stack):
    f = run(vars_for(served_stack, "spa.sec.test"), "secrets.repo_files")
    assert f.status == "skip" and "launch_app_repo" in f.summary


@pytest.mark.lab
def test_the_healthy_lab_passes_both(lab_site):
    for check_id in ("secrets.public_files", "secrets.frontend_bundle"):
        f = run(lab_site, check_id)
        assert f.status == "pass", "%s: %s" % (check_id, f.summary)
    assert C.PUBLIC_FILES.id in check_registry.registered()
