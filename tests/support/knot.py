"""A throwaway Knot DNS server for broken variants, serving zones given as text.

Tests start one on its own loopback address(es) so the shared lab stays healthy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import typing as t

import dns.message
import dns.query

from tests.support import procs

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"


def _ready(address: str, probe_zone: str) -> bool:
    try:
        dns.query.udp(dns.message.make_query(probe_zone, "SOA"), address, timeout=0.3)
        return True
    except Exception:
        return False


class KnotServer:
    """Knot serving ``zones`` ({name: zone file text}) on ``addresses`` (port 53)."""

    def __init__(self, addresses: t.Sequence[str], zones: dict, workdir: str | None = None) -> None:
        self.addresses = list(addresses)
        self.zones = dict(zones)
        self.workdir = workdir or tempfile.mkdtemp(prefix="knot-variant-")
        self.server: procs.Server | None = None

    def _write(self) -> str:
        zonedir = os.path.join(self.workdir, "zones")
        os.makedirs(zonedir, exist_ok=True)
        os.makedirs(os.path.join(self.workdir, "db"), exist_ok=True)
        for name, text in self.zones.items():
            with open(os.path.join(zonedir, "%s.zone" % name), "w", encoding="utf-8") as fh:
                fh.write(text)
        listen = "[%s]" % ", ".join("%s@53" % a for a in self.addresses)
        zones = "\n".join("  - domain: %s\n    file: %s/%s.zone" % (n, zonedir, n) for n in self.zones)
        conf = os.path.join(self.workdir, "knot.conf")
        with open(conf, "w", encoding="utf-8") as fh:
            fh.write(
                "server:\n  rundir: %(wd)s\n  listen: %(listen)s\n"
                "database:\n  storage: %(wd)s/db\n"
                "log:\n  - target: stderr\n    any: warning\n"
                "template:\n  - id: default\n    storage: %(zd)s\n    zonefile-sync: -1\n"
                "    zonefile-load: whole\n    journal-content: none\n"
                "zone:\n%(zones)s\n" % {"wd": self.workdir, "listen": listen, "zd": zonedir, "zones": zones})
        return conf

    def start(self) -> "KnotServer":
        conf = self._write()
        check = subprocess.run([shutil.which("knotc") or "/usr/sbin/knotc", "-c", conf, "conf-check"],
                               capture_output=True, text=True, timeout=20, check=False)
        if check.returncode != 0:
            raise RuntimeError("knot config invalid: %s %s" % (check.stdout, check.stderr))
        probe = next(iter(self.zones))
        self.server = procs.start(
            "knotd@%s" % ",".join(self.addresses), [KNOTD, "-c", conf],
            os.path.join(self.workdir, "knotd.log"),
            ready=lambda: all(_ready(a, probe) for a in self.addresses), timeout=15)
        return self

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None
        shutil.rmtree(self.workdir, ignore_errors=True)


def zone(origin: str, records: str, serial: int | None = None, ns: t.Sequence[tuple] = ()) -> str:
    """Zone file text for ``origin``: SOA, NS (``ns`` as (name, address) pairs) and ``records``."""
    serial = serial or int(time.time())
    ns = list(ns) or [("ns1.%s." % origin, None)]
    lines = ["$ORIGIN %s." % origin, "$TTL 60",
             "@ SOA %s hostmaster.%s. %d 3600 600 86400 60" % (ns[0][0], origin, serial)]
    for name, address in ns:
        lines.append("@ NS %s" % name)
        if address:
            lines.append("%s A %s" % (name, address))
    lines.append(records.strip())
    return "\n".join(lines) + "\n"
