"""Sites whose only defect is their certificate, for the audit's pass behind a rejected certificate.

Knot on 127.0.11.1 serves a zone per variant; one nginx serves every variant on its own
address as the healthy edge of edge_lab.py does (HSTS, security headers, never-cache paths
private, assets cached), proxying to one EdgeApp; certificates from one TestCA whose root is
launch_ca_bundle.  The same builders as root_cause_lab.py, on 127.0.11.x so the two can run
at once:

- ``pbexpired.test`` (127.0.11.10): the certificate expired ten days ago, nothing else wrong;
- ``pbswap.test`` (127.0.11.11): expired too; ``swap_certificate`` puts another expired leaf
  in its place (nginx reloaded), as a load balancer with two certificates would show it.

    stack = past_bad_cert_lab.start()
    vars = past_bad_cert_lab.site_vars(stack, "pbexpired.test")
    past_bad_cert_lab.stop(stack)
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import time
import typing as t

from ansible_collections.launchready.ops.plugins.module_utils import tls_pin
from tests.support import edge_app, edge_lab, http_lab, knot, root_cause_lab
from tests.support.knot import zone

KNOT = "127.0.11.1"
VARIANTS = {"pbexpired.test": "127.0.11.10", "pbswap.test": "127.0.11.11"}


def _zone(apex: str, ip: str) -> str:
    # root_cause_lab's healthy DNS (two NS, MX, SPF, CAA, DMARC), with this lab's nameserver for both NS.
    healthy = root_cause_lab._healthy_dns(apex).replace(root_cause_lab.KNOTS[0], KNOT).replace(
        root_cause_lab.KNOTS[1], KNOT).replace("127.0.5.9", "127.0.11.9")
    return "@ A %s\nwww A %s\n%s" % (ip, ip, healthy)


class PastBadCertStack(http_lab.Stack):
    app: edge_app.EdgeApp
    certs: dict  # apex -> (crt, key) paths nginx reads
    edge: t.Any


def start() -> PastBadCertStack:
    stack = PastBadCertStack("past-bad-cert-lab-")
    stack.certs = {}
    try:
        stack.app = edge_app.EdgeApp().start()
        stack.start(knot.KnotServer([KNOT], {apex: zone(apex, _zone(apex, ip)) for apex, ip in VARIANTS.items()},
                                    workdir=os.path.join(stack.workdir, "knot")))
        http = ["proxy_cache_path %s/cache levels=1:2 keys_zone=edge_lab:4m max_size=64m inactive=1h "
                "use_temp_path=off;" % stack.workdir,
                "map $request_method $edge_lab_rl_key { default $binary_remote_addr; GET \"\"; HEAD \"\"; }"]
        blocks: list = []
        for apex, ip in VARIANTS.items():
            tls = stack.cert(edge_lab._name(apex), [apex, "www." + apex], expired=True)
            stack.certs[apex] = tls
            http.append(edge_lab._maps(apex))
            blocks += edge_lab._site(ip, apex, tls, stack.app.upstream)
        stack.edge = stack.nginx(http + blocks, sorted({(ip, port) for ip in VARIANTS.values() for port in (80, 443)}))
    except BaseException:
        stop(stack)
        raise
    return stack


stop = edge_lab.stop  # the app, then the stack


def site_vars(stack: http_lab.Stack, apex: str, **extra: t.Any) -> dict:
    """The launch_* description of a variant: the edge on its own address."""
    return edge_lab.variant_vars(stack, apex, KNOT, VARIANTS[apex], **extra)


def leaf_pin(apex: str, timeout: float = 3.0) -> str:
    """The SHA-256 of the leaf the variant's address presents for ``apex`` right now."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((VARIANTS[apex], 443), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=apex) as sock:
            return tls_pin.leaf_sha256(sock.getpeercert(binary_form=True))


def swap_certificate(stack: PastBadCertStack, apex: str, timeout: float = 10.0) -> str:
    """Put another expired leaf (new key) for ``apex`` in place and reload nginx; the new leaf's pin."""
    before = leaf_pin(apex)
    stack.cert(edge_lab._name(apex), [apex, "www." + apex], expired=True)  # same paths, new leaf
    os.kill(stack.edge.server.pid, signal.SIGHUP)  # the nginx this stack started
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = leaf_pin(apex)
        if now != before:
            return now
        time.sleep(0.1)
    raise RuntimeError("nginx still presents the old leaf of %s after %.0f s" % (apex, timeout))
