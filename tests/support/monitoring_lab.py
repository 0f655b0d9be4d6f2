"""A monitoring stack of its own on 127.0.12.x, with short intervals, for the Stage 4 tests and bench.

Real parts: the demo shop and its vendor, nginx in front with a certificate close to expiry,
Prometheus, the blackbox exporter and Alertmanager from Debian's packages, configured by the
launchready.ops.monitoring role, and local sinks (aiosmtpd Maildir, a webhook recorder).
Every process is started here and stopped by its PID in ``stop``.
"""

from __future__ import annotations

import email
import json
import mailbox
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import typing as t

import requests

from tests.support import ansible_run, pki, procs
from tests.support.nginx import NginxServer

ROOT = ansible_run.ROOT
SHOP_ADDR, SHOP_PORT, VENDOR_PORT = "127.0.12.1", 8081, 8082
EDGE = "127.0.12.10"
STACK = "127.0.12.2"
PROM_PORT, BLACKBOX_PORT, AM_PORT = 9090, 9115, 9093
SINK = "127.0.12.3"
SMTP_PORT, HOOK_PORT = 8025, 9000
OWNER = "shop-ops"

# Short intervals keep the tests fast: scrape/eval 1 s, for 2 s, group_wait 1 s.
INTERVAL, ALERT_FOR, GROUP_WAIT, GROUP_INTERVAL = 1, 2, 1, 2


def _free(host: str, port: int) -> bool:
    return not procs.wait_port(host, port, timeout=0.05)


class MonitoringLab:
    def __init__(self, workdir: str | None = None, cert_days: int = 5) -> None:
        self.dir = workdir or tempfile.mkdtemp(prefix="h11-monitoring-")
        self.cert_days = cert_days
        self.servers: dict = {}
        self.edge: NginxServer | None = None
        self.config_dir = os.path.join(self.dir, "etc")
        self.maildir = os.path.join(self.dir, "mail")
        self.hooks_file = os.path.join(self.dir, "hooks.jsonl")
        self.inventory = os.path.join(self.dir, "inventory.json")
        self.ca = pki.TestCA("h11 monitoring")
        self.ca_bundle = self.ca.write_bundle(os.path.join(self.dir, "ca.pem"))

    # --- processes ------------------------------------------------------------------------------

    def _start(self, name: str, argv: list, host: str, port: int, env: dict | None = None) -> None:
        if not _free(host, port):
            raise RuntimeError("%s:%d is taken: another run of this test left a process behind?" % (host, port))
        self.servers[name] = procs.start(name, argv, os.path.join(self.dir, name + ".log"),
                                         ready=lambda: procs.wait_port(host, port, timeout=0.2), timeout=20,
                                         env=env, cwd=self.dir)

    def stop_one(self, name: str) -> None:
        server = self.servers.pop(name, None)
        if server:
            server.stop()

    def start_sinks(self) -> None:
        mailbox.Maildir(self.maildir, create=True)  # tmp/, new/, cur/ must exist before the first message
        self._start("smtp", [sys.executable, "-m", "aiosmtpd", "-n", "-l", "%s:%d" % (SINK, SMTP_PORT),
                             "-c", "aiosmtpd.handlers.Mailbox", self.maildir], SINK, SMTP_PORT)
        self._start("webhook", [sys.executable, os.path.join(ROOT, "demo", "sinks", "webhook_sink.py"),
                                "--host", SINK, "--port", str(HOOK_PORT), "--out", self.hooks_file], SINK, HOOK_PORT)

    def start_vendor(self) -> None:
        self._start("vendor", [sys.executable, os.path.join(ROOT, "demo", "vendor", "app.py"), "--host", SHOP_ADDR,
                               "--port", str(VENDOR_PORT)], SHOP_ADDR, VENDOR_PORT)

    def start_shop(self) -> None:
        db = os.path.join(self.dir, "shop.db")
        if not os.path.exists(db):
            subprocess.run([sys.executable, os.path.join(ROOT, "demo", "shop", "migrate.py"), "--db", db],
                           check=True, capture_output=True, timeout=30)
        env = dict(os.environ, SHOP_DB=db, SHOP_SECRET_KEY="h11-test-secret", SHOP_HOST=SHOP_ADDR,
                   SHOP_PORT=str(SHOP_PORT), SHOP_VENDOR_URL="http://%s:%d/v1/chat" % (SHOP_ADDR, VENDOR_PORT),
                   SHOP_VENDOR_API_KEY="vk_test_h11", SHOP_CHAT_TIMEOUT="1.0", PYTHONUNBUFFERED="1")
        self._start("shop", [sys.executable, os.path.join(ROOT, "demo", "shop", "app.py")], SHOP_ADDR, SHOP_PORT,
                    env=env)

    def start_edge(self) -> None:
        leaf = self.ca.issue(["shop.test"], days=self.cert_days)
        crt, key = self.ca.write(os.path.join(self.dir, "tls"), "shop.test", leaf)
        servers = """
  server {
    listen %(edge)s:443 ssl;
    server_name shop.test;
    ssl_certificate %(crt)s;
    ssl_certificate_key %(key)s;
    location / { proxy_pass http://%(shop)s:%(port)d; proxy_set_header Host $host;
                 proxy_connect_timeout 2s; proxy_read_timeout 5s; }
  }""" % {"edge": EDGE, "crt": crt, "key": key, "shop": SHOP_ADDR, "port": SHOP_PORT}
        self.edge = NginxServer(servers, [(EDGE, 443)], workdir=os.path.join(self.dir, "nginx")).start()

    def start_stack(self) -> None:
        etc = self.config_dir
        self._start("blackbox", ["prometheus-blackbox-exporter", "--config.file=%s/blackbox.yml" % etc,
                                 "--web.listen-address=%s:%d" % (STACK, BLACKBOX_PORT)], STACK, BLACKBOX_PORT)
        self._start("alertmanager", ["prometheus-alertmanager", "--config.file=%s/alertmanager.yml" % etc,
                                     "--storage.path=%s/am-data" % self.dir, "--cluster.listen-address=",
                                     "--web.listen-address=%s:%d" % (STACK, AM_PORT)], STACK, AM_PORT)
        self._start("prometheus", ["prometheus", "--config.file=%s/prometheus.yml" % etc,
                                   "--storage.tsdb.path=%s/prom-data" % self.dir, "--web.enable-lifecycle",
                                   "--web.listen-address=%s:%d" % (STACK, PROM_PORT)], STACK, PROM_PORT)
        # Prometheus listens before its storage is open (503 until then).
        self.wait_for(self._prometheus_ready, 30)

    def _prometheus_ready(self) -> bool:
        try:
            return requests.get("http://%s:%d/-/ready" % (STACK, PROM_PORT), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start(self) -> "MonitoringLab":
        self.start_sinks()
        self.start_vendor()
        self.start_shop()
        self.start_edge()
        return self

    def stop(self) -> None:
        for name in list(self.servers):
            self.stop_one(name)
        if self.edge:
            self.edge.stop()
            self.edge = None
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- the role -------------------------------------------------------------------------------

    def vars(self, **overrides: t.Any) -> dict:
        values = {
            "monitoring_interval": INTERVAL, "monitoring_alert_for": ALERT_FOR, "monitoring_timeout": 1,
            "monitoring_group_wait": GROUP_WAIT, "monitoring_group_interval": GROUP_INTERVAL,
            "monitoring_repeat_interval": 3600, "monitoring_config_dir": self.config_dir,
            "monitoring_prometheus_url": "http://%s:%d" % (STACK, PROM_PORT),
            "monitoring_alertmanager_address": "%s:%d" % (STACK, AM_PORT),
            "monitoring_blackbox_address": "%s:%d" % (STACK, BLACKBOX_PORT),
            "monitoring_install_packages": False, "monitoring_reload": "http",
            "monitoring_metrics_targets": ["%s:%d" % (SHOP_ADDR, SHOP_PORT)],
            "monitoring_owners": [{"name": OWNER, "email": "ops@shop.test",
                                   "slack_webhook_url": "http://%s:%d/hooks/shop-ops" % (SINK, HOOK_PORT)}],
            "monitoring_smtp": {"smarthost": "%s:%d" % (SINK, SMTP_PORT), "from": "alerts@shop.test",
                                "require_tls": False},
            "monitoring_probes": {
                "checkout": {"method": "POST", "body": '{"items": [{"sku": "tee", "qty": 1}], "dry_run": true}',
                             "headers": {"Content-Type": "application/json"}},
                "chatbot": {"method": "POST", "body": '{"message": "ping"}',
                            "headers": {"Content-Type": "application/json"}}},
            # Loose thresholds for the rules these tests do not drive.
            "monitoring_p95_budget_seconds": 5.0,
        }
        values.update(overrides)
        return values

    def write_inventory(self, **overrides: t.Any) -> str:
        site = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                "launch_domain": "shop.test", "launch_hosts": ["shop.test"], "launch_canonical_host": "shop.test",
                "launch_expected_addresses": {"shop.test": [EDGE]}, "launch_ca_bundle": self.ca_bundle,
                "launch_routes": {"homepage": "/", "checkout": "/api/checkout", "health": "/healthz",
                                  "chatbot": "/api/chat", "version": "/version"}}
        inv = {"all": {"children": {
            "sites": {"hosts": {"shop.test": site}},
            "monitoring": {"hosts": {"monitor-h11": dict(self.vars(**overrides), ansible_connection="local",
                                                         ansible_python_interpreter=sys.executable)}}}}}
        with open(self.inventory, "w", encoding="utf-8") as fh:
            json.dump(inv, fh)
        return self.inventory

    def run_role(self, *args: str, **overrides: t.Any) -> subprocess.CompletedProcess:
        self.write_inventory(**overrides)
        return ansible_run.playbook("-i", self.inventory, "playbooks/monitoring.yml", *args, timeout=300)

    # --- what the sinks got ---------------------------------------------------------------------

    def mails(self) -> list:
        """[(received epoch, subject, body)] from the SMTP sink's Maildir."""
        out = []
        if not os.path.isdir(os.path.join(self.maildir, "new")):
            return out
        box = mailbox.Maildir(self.maildir, create=False)
        for key in box.keys():
            path = os.path.join(self.maildir, box._lookup(key))
            msg = email.message_from_bytes(box.get_bytes(key))
            body = ""
            for part in msg.walk():
                if part.get_content_type() == "text/plain":
                    body = part.get_payload(decode=True).decode("utf-8", "replace")
            out.append((os.path.getmtime(path), str(email.header.make_header(email.header.decode_header(
                msg["Subject"] or ""))), body))
        return sorted(out)

    def hooks(self) -> list:
        """[(received epoch, title, text)] of the webhook sink's Slack messages."""
        out = []
        try:
            with open(self.hooks_file, encoding="utf-8") as fh:
                lines = fh.readlines()
        except OSError:
            return out
        for line in lines:
            rec = json.loads(line)
            for att in (rec["body"] or {}).get("attachments", []):
                out.append((rec["received"], att.get("title", ""), att.get("text", "")))
        return out

    def wait_for(self, fn: t.Callable[[], t.Any], timeout: float, step: float = 0.2) -> t.Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = fn()
            if found:
                return found
            time.sleep(step)
        return None

    def delivered(self, title: str, since: float) -> dict:
        """First email and webhook message with ``title`` (e.g. "[FIRING] SiteDown") after ``since``."""
        got = {}
        mail = [m for m in self.mails() if m[0] >= since and m[1].startswith(title)]
        hook = [h for h in self.hooks() if h[0] >= since and h[1].startswith(title)]
        if mail:
            got["email"] = mail[0]
        if hook:
            got["slack"] = hook[0]
        return got

    def wait_delivered(self, title: str, since: float, timeout: float = 40) -> dict:
        def both() -> dict | None:
            got = self.delivered(title, since)
            return got if len(got) == 2 else None
        return self.wait_for(both, timeout) or self.delivered(title, since)

    def query(self, expr: str) -> list:
        resp = requests.get("http://%s:%d/api/v1/query" % (STACK, PROM_PORT), params={"query": expr}, timeout=5)
        resp.raise_for_status()
        return resp.json()["data"]["result"]

    def burst(self, path: str, body: dict, seconds: float, rate: float = 10) -> list:
        """POST ``body`` to the shop directly at ``rate``/s for ``seconds``: the statuses seen."""
        statuses = []
        end = time.monotonic() + seconds
        with requests.Session() as s:
            while time.monotonic() < end:
                try:
                    statuses.append(s.post("http://%s:%d%s" % (SHOP_ADDR, SHOP_PORT, path), json=body,
                                           timeout=3).status_code)
                except requests.RequestException:
                    statuses.append(0)
                time.sleep(1 / rate)
        return statuses

    def orders(self) -> int:
        with sqlite3.connect(os.path.join(self.dir, "shop.db")) as db:
            return db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
