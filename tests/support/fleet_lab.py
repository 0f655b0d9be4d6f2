"""Many healthy lab-like sites at once, and the edge that rate-limits every method on its login.

One Knot serves a zone per site (A for the apex, www and mail, MX, SPF, DMARC); one nginx
serves every site on its own loopback address, ports 80 and 443, configured the way
edge_lab's healthy variant (and so the edge_nginx role) is: http -> https, www -> apex,
HSTS and security headers, never-cache paths private and kept out of the cache,
fingerprinted assets immutable and cached, limit_req on POSTs to the login and chatbot.
One shop-shaped upstream (edge_app.EdgeApp) answers for all of them; certificates come
from one TestCA whose root is launch_ca_bundle.

    stack = fleet_lab.start(fleet_lab.addresses("127.0.6", 20), knot="127.0.6.53")
    inventory = fleet_lab.inventory(stack, path, python=sys.executable)
    fleet_lab.stop(stack)

``limited=True`` builds the variant of issue 14: the edge throttles EVERY method on /login
(limit_req 5 r/s, burst 10, nodelay, 429) and the login sets an insecure session cookie.
"""

from __future__ import annotations

import typing as t

import yaml

from tests.support import edge_app, edge_lab, http_lab
from tests.support.knot import zone

INSECURE_COOKIE = 'add_header Set-Cookie "session=s3cr3t-login; Path=/" always;'


def addresses(prefix: str, count: int, first: int = 1) -> dict:
    """{apex: address} for ``count`` sites s01.fleet.test... on PREFIX.first..."""
    return {"s%02d.fleet.test" % n: "%s.%d" % (prefix, first + n - 1) for n in range(1, count + 1)}


def _records(apex: str, ip: str) -> str:
    return "\n".join(["@ A %s" % ip, "www A %s" % ip, "mail A %s" % ip, "@ MX 10 mail", '@ CAA 0 issue "launchready.test"',
                      '@ TXT "v=spf1 ip4:%s -all"' % ip,
                      '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@%s"' % apex])


def _limited_login(apex: str, app: str) -> str:
    """/login throttled for every method, and setting a session cookie without Secure/HttpOnly."""
    n = edge_lab._name(apex)
    return "\n".join([
        "location = /login {",
        "  limit_req zone=%s_every burst=10 nodelay;" % n,
        "  limit_req_status 429;",
        # add_header in a location replaces the server's: repeat them.
        *("  " + line for line in edge_lab.HEADERS.splitlines()),
        "  add_header Cache-Control $%s_cc always;" % n,
        "  add_header X-Cache-Status $upstream_cache_status always;",
        "  " + INSECURE_COOKIE,
        "  proxy_pass http://%s;" % app,
        "}",
        "location = /api/chat { limit_req zone=%s_chat burst=5 nodelay; limit_req_status 429; "
        "proxy_pass http://%s; }" % (n, app),
    ])


def _config(stack: http_lab.Stack, sites: dict, app: str, limited: bool) -> list:
    http = [
        "proxy_cache_path %s/cache levels=1:2 keys_zone=edge_lab:8m max_size=64m inactive=1h use_temp_path=off;"
        % stack.workdir,
        "map $request_method $edge_lab_rl_key { default $binary_remote_addr; GET \"\"; HEAD \"\"; }",
    ]
    blocks: list = []
    for apex, ip in sites.items():
        tls = stack.cert(edge_lab._name(apex), [apex, "www." + apex])
        http.append(edge_lab._maps(apex))
        if limited:
            http.append("limit_req_zone $binary_remote_addr zone=%s_every:1m rate=5r/s;" % edge_lab._name(apex))
            blocks += edge_lab._site(ip, apex, tls, app, limit=False, extra=[_limited_login(apex, app)])
        else:
            blocks += edge_lab._site(ip, apex, tls, app)
    return http + blocks


class FleetStack(http_lab.Stack):
    app: edge_app.EdgeApp
    sites: dict
    knot_address: str


def start(sites: dict, knot: str, limited: bool = False) -> FleetStack:
    stack = FleetStack("fleet-lab-")
    stack.sites, stack.knot_address = dict(sites), knot
    try:
        stack.app = edge_app.EdgeApp().start()
        zones = {apex: zone(apex, _records(apex, ip), ns=[("ns1.%s." % apex, knot), ("ns2.%s." % apex, knot)])
                 for apex, ip in sites.items()}
        # The parents answer too (CAA and DMARC look up the tree), with nothing of interest.
        zones.update({parent: zone(parent, "") for parent in ("test", "fleet.test")})
        stack.knot(knot, zones)
        stack.nginx(_config(stack, sites, stack.app.upstream, limited),
                    sorted({(ip, port) for ip in sites.values() for port in (80, 443)}))
    except BaseException:
        stop(stack)
        raise
    return stack


def stop(stack: FleetStack) -> None:
    app = getattr(stack, "app", None)
    if app is not None:
        app.stop()
    stack.stop()


def site_vars(stack: FleetStack, apex: str, **extra: t.Any) -> dict:
    """The launch_* description of one site (routes like the lab's shop)."""
    out = {"launch_domain": apex, "launch_resolvers": [stack.knot_address], "launch_ca_bundle": stack.ca_bundle,
           "launch_timeout": 5, "launch_edge_provider": "nginx", "launch_edge_addresses": [stack.sites[apex]],
           "launch_mail_senders": [stack.sites[apex]],
           "launch_routes": {"homepage": "/", "login": "/login", "chatbot": "/api/chat", "checkout": "/checkout"}}
    out.update(extra)
    return out


def inventory(stack: FleetStack, path: str, python: str, **extra: t.Any) -> str:
    """An inventory file with every site of ``stack`` in the group ``sites``."""
    hosts = {apex: dict(site_vars(stack, apex, **extra), ansible_connection="local",
                        ansible_python_interpreter=python) for apex in stack.sites}
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump({"sites": {"hosts": hosts}}, fh)
    return path
