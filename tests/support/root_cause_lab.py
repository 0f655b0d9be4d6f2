"""Sites broken in one place, for the root-cause tests: each defect must come out as ONE risk.

Knot on 127.0.5.1 and .2 serves a zone per variant; one nginx serves every variant on its own
address in 127.0.5.10-19, as the healthy edge of edge_lab.py does (HSTS, security headers,
never-cache paths private, assets cached), proxying to one EdgeApp; certificates from one
TestCA whose root is launch_ca_bundle.  Each variant breaks one thing:

- ``rcexpired.test``: the certificate expired ten days ago (nothing else wrong);
- ``rcloop.test``: https://rcloop.test/ and https://www.rcloop.test/ redirect to each other;
- ``rcnowww.test``: www.rcnowww.test does not resolve (NXDOMAIN);
- ``rclimited.test``: the edge answers 429 with no Cache-Control for every request to /login.

    stack = root_cause_lab.start()
    vars = root_cause_lab.site_vars(stack, "rcexpired.test")
    stack.stop()
"""

from __future__ import annotations

import os
import typing as t

from tests.support import edge_app, edge_lab, http_lab, knot
from tests.support.knot import zone

KNOTS = ("127.0.5.1", "127.0.5.2")
VARIANTS = {
    "rcexpired.test": "127.0.5.10",
    "rcloop.test": "127.0.5.11",
    "rcnowww.test": "127.0.5.12",
    "rclimited.test": "127.0.5.13",
}
# Everything but the variant's one defect is as the lab's shop.test has it: two nameservers, CAA,
# SPF, DMARC, MX, so the risk list holds that defect alone.


def _healthy_dns(apex: str) -> str:
    return "\n".join([
        "@ NS ns2.%s." % apex, "ns1 A %s" % KNOTS[0], "ns2 A %s" % KNOTS[1], "@ MX 10 mail", "mail A 127.0.5.9",
        '@ TXT "v=spf1 ip4:127.0.5.9 -all"', '@ CAA 0 issue "pebble.test"',
        '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@%s"' % apex,
    ])


ZONES = {apex: "@ A %s\nwww A %s\n%s" % (ip, ip, _healthy_dns(apex)) for apex, ip in VARIANTS.items()}
ZONES["rcnowww.test"] = "@ A %s\n%s" % (VARIANTS["rcnowww.test"], _healthy_dns("rcnowww.test"))


def _loop(ip: str, apex: str, tls: tuple) -> list:
    return [
        http_lab.server(ip + ":80", [apex, "www." + apex], "return 301 https://$host$request_uri;"),
        http_lab.server(ip + ":443", [apex], edge_lab.HEADERS, "return 301 https://www.%s$request_uri;" % apex,
                        tls=tls),
        http_lab.server(ip + ":443", ["www." + apex], edge_lab.HEADERS, "return 301 https://%s$request_uri;" % apex,
                        tls=tls),
    ]


def _blocks(stack: http_lab.Stack, app: str) -> list:
    http = [
        "proxy_cache_path %s/cache levels=1:2 keys_zone=edge_lab:4m max_size=64m inactive=1h use_temp_path=off;"
        % stack.workdir,
        "map $request_method $edge_lab_rl_key { default $binary_remote_addr; GET \"\"; HEAD \"\"; }",
    ]
    blocks: list = []
    for apex, ip in VARIANTS.items():
        names = [apex, "www." + apex]
        tls = stack.cert(edge_lab._name(apex), names, expired=apex == "rcexpired.test")
        if apex == "rcloop.test":
            blocks += _loop(ip, apex, tls)
            continue
        extra: t.Sequence[str] = ()
        if apex == "rclimited.test":
            # The limiter's bare 429 for every method, as a site that rate-limits /login outright sends it
            # (its own add_header: none of the server's headers, so no Cache-Control).
            extra = ["location = /login { add_header Retry-After 1 always; return 429; }"]
        http.append(edge_lab._maps(apex))
        blocks += edge_lab._site(ip, apex, tls, app, limit=apex != "rclimited.test", extra=extra)
    return http + blocks


class RootCauseStack(http_lab.Stack):
    app: edge_app.EdgeApp


def start() -> RootCauseStack:
    stack = RootCauseStack("root-cause-lab-")
    try:
        stack.app = edge_app.EdgeApp().start()
        stack.start(knot.KnotServer(list(KNOTS), {apex: zone(apex, records) for apex, records in ZONES.items()},
                                    workdir=os.path.join(stack.workdir, "knot")))
        stack.nginx(_blocks(stack, stack.app.upstream),
                    sorted({(ip, port) for ip in VARIANTS.values() for port in (80, 443)}))
    except BaseException:
        stop(stack)
        raise
    return stack


stop = edge_lab.stop  # the app, then the stack


def site_vars(stack: http_lab.Stack, apex: str, **extra: t.Any) -> dict:
    """The launch_* description of a variant: the edge on its own address."""
    return edge_lab.variant_vars(stack, apex, KNOTS[0], VARIANTS[apex], **extra)
