"""Building blocks for HTTP variant labs: nginx server blocks, certificates, and one stack to stop.

A test module describes its variants as nginx server blocks on their own loopback
addresses, with certificates from one TestCA whose root becomes launch_ca_bundle.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import typing as t

from tests.support import knot, nginx, pki, tcp_faults

# What a well-configured https server sends (nginx add_header ... always).
HSTS_GOOD = 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;'
SECURITY_HEADERS = "\n".join([
    "add_header X-Content-Type-Options nosniff always;",
    "add_header Content-Security-Policy \"frame-ancestors 'self'\" always;",
    "add_header Referrer-Policy strict-origin-when-cross-origin always;",
])
SESSION_COOKIE_GOOD = 'add_header Set-Cookie "session=s3cr3t; Path=/; Secure; HttpOnly; SameSite=Lax" always;'


def server(listen: str, names: t.Sequence[str], *lines: str, tls: tuple | None = None,
           default: bool = False) -> str:
    """One nginx server block; ``tls`` = (crt, key) makes it ``listen ... ssl``."""
    flags = (" ssl" if tls else "") + (" default_server" if default else "")
    out = ["server {", "  listen %s%s;" % (listen, flags), "  server_name %s;" % " ".join(names)]
    if tls:
        out += ["  ssl_certificate %s;" % tls[0], "  ssl_certificate_key %s;" % tls[1]]
    out += ["  " + line for block in lines for line in block.splitlines()]
    out.append("}")
    return "\n".join(out)


class Stack:
    """A TestCA, a work dir, and whatever servers get started; ``stop`` ends them all."""

    def __init__(self, prefix: str = "http-lab-") -> None:
        self.workdir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.workdir, 0o755)  # nginx workers (not root) serve files from here
        self.ca = pki.TestCA("launchready http")
        self.ca_bundle = self.ca.write_bundle(os.path.join(self.workdir, "ca.pem"))
        self._running: list = []

    def cert(self, stem: str, names: t.Sequence[str], chain: bool = True, self_signed: bool = False,
             **issue) -> tuple:
        issued = self.ca.self_signed(names) if self_signed else self.ca.issue(names, **issue)
        return self.ca.write(os.path.join(self.workdir, "certs"), stem, issued, chain=chain)

    def file(self, name: str, data: bytes) -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o644)
        return path

    def start(self, thing):
        """Start a KnotServer, NginxServer or FaultServer and remember it for ``stop``."""
        thing.start()
        self._running.append(thing)
        return thing

    def knot(self, address: str, zones: dict) -> knot.KnotServer:
        return self.start(knot.KnotServer([address], zones, workdir=os.path.join(self.workdir, "knot")))

    def nginx(self, servers: t.Sequence[str], listen: t.Sequence[tuple]) -> nginx.NginxServer:
        return self.start(nginx.NginxServer("\n".join(servers), listen,
                                            workdir=os.path.join(self.workdir, "nginx")))

    def fault(self, address: str, ports: t.Sequence[int], mode: str) -> tcp_faults.FaultServer:
        return self.start(tcp_faults.FaultServer(address, ports, mode))

    def stop(self) -> None:
        while self._running:
            thing = self._running.pop()
            try:
                thing.stop()
            except Exception:  # keep stopping the rest
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)
