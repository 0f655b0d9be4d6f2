"""A private ACME setup for renewal tests: pebble issuing short-lived certificates, Knot taking TSIG updates.

    acme = AcmeLab(validity_days=20).start()
    acme.directory, acme.api_ca, acme.dns_server, acme.dns_port, acme.tsig   # for tls_acme
    acme.stop()

pebble listens on 127.0.0.170 (ACME 14000, management 15000) with its own API certificate
from a TestCA and ``certificateValidityPeriod`` set, so every certificate it issues lives
``validity_days``.  Knot serves the zone on 127.0.0.72 port 5353 (port 53 there belongs to
the edge variants' Knot) and accepts RFC 2136 updates signed with a TSIG key, as tls_acme's
dns-01 publishing needs.  Both are stopped by their PIDs.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import tempfile

from tests.support import knot, pki, procs

PEBBLE = shutil.which("pebble") or "/usr/bin/pebble"
KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
PEBBLE_ADDRESS = "127.0.0.170"
DNS_ADDRESS = "127.0.0.72"
DNS_PORT = 5353


class AcmeLab:
    def __init__(self, zone: str = "renew.edge.test", records: str = "@ A 127.0.0.171\nwww A 127.0.0.171",
                 validity_days: int = 20) -> None:
        self.zone = zone
        self.records = records
        self.validity_days = validity_days
        self.workdir = tempfile.mkdtemp(prefix="acme-lab-")
        os.chmod(self.workdir, 0o755)
        self.tsig = {"name": "renew-key", "algorithm": "hmac-sha256",
                     "secret": base64.b64encode(secrets.token_bytes(32)).decode("ascii")}
        self.ca = pki.TestCA("acme lab")
        self.api_ca = self.ca.write_bundle(os.path.join(self.workdir, "pebble-api-ca.pem"))
        self._servers: list = []

    @property
    def directory(self) -> str:
        return "https://%s:14000/dir" % PEBBLE_ADDRESS

    @property
    def dns_server(self) -> str:
        return DNS_ADDRESS

    @property
    def dns_port(self) -> int:
        return DNS_PORT

    def _knot(self) -> None:
        wd = os.path.join(self.workdir, "knot")
        os.makedirs(os.path.join(wd, "zones"))
        os.makedirs(os.path.join(wd, "db"))
        with open(os.path.join(wd, "zones", "%s.zone" % self.zone), "w", encoding="utf-8") as fh:
            fh.write(knot.zone(self.zone, self.records))
        conf = os.path.join(wd, "knot.conf")
        with open(conf, "w", encoding="utf-8") as fh:
            fh.write(
                "server:\n  rundir: %(wd)s\n  listen: %(addr)s@%(port)d\n"
                "database:\n  storage: %(wd)s/db\n"
                "log:\n  - target: stderr\n    any: warning\n"
                "key:\n  - id: %(key)s\n    algorithm: %(alg)s\n    secret: %(secret)s\n"
                "acl:\n  - id: update\n    key: %(key)s\n    action: update\n"
                "template:\n  - id: default\n    storage: %(wd)s/zones\n    zonefile-sync: -1\n"
                "    zonefile-load: whole\n    journal-content: changes\n"
                "zone:\n  - domain: %(zone)s\n    file: %(zone)s.zone\n    acl: update\n"
                % {"wd": wd, "addr": DNS_ADDRESS, "port": DNS_PORT, "key": self.tsig["name"],
                   "alg": self.tsig["algorithm"], "secret": self.tsig["secret"], "zone": self.zone})
        check = subprocess.run([KNOTC, "-c", conf, "conf-check"], capture_output=True, text=True, timeout=20,
                               check=False)
        if check.returncode != 0:
            raise RuntimeError("knot config invalid: %s %s" % (check.stdout, check.stderr))
        self._servers.append(procs.start("knotd-acme", [KNOTD, "-c", conf], os.path.join(wd, "knotd.log"),
                                         ready=lambda: procs.wait_port(DNS_ADDRESS, DNS_PORT, 0.2), timeout=15))

    def _pebble(self) -> None:
        wd = os.path.join(self.workdir, "pebble")
        os.makedirs(wd)
        crt, key = self.ca.write(wd, "api", self.ca.issue([PEBBLE_ADDRESS, "localhost"]))
        conf = os.path.join(wd, "pebble.json")
        with open(conf, "w", encoding="utf-8") as fh:
            json.dump({"pebble": {
                "listenAddress": "%s:14000" % PEBBLE_ADDRESS, "managementListenAddress": "%s:15000" % PEBBLE_ADDRESS,
                "certificate": crt, "privateKey": key, "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
                "certificateValidityPeriod": self.validity_days * 86400}}, fh)
        env = dict(os.environ, PEBBLE_VA_ALWAYS_VALID="1", PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
        self._servers.append(procs.start(
            "pebble-acme", [PEBBLE, "-config", conf, "-dnsserver", "%s:%d" % (DNS_ADDRESS, DNS_PORT)],
            os.path.join(wd, "pebble.log"), env=env,
            ready=lambda: procs.wait_port(PEBBLE_ADDRESS, 14000, 0.2) and procs.wait_port(PEBBLE_ADDRESS, 15000, 0.2),
            timeout=15))

    def start(self) -> "AcmeLab":
        try:
            self._knot()
            self._pebble()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        while self._servers:
            self._servers.pop().stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
