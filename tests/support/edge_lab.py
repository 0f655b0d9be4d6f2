"""Edge variants for the Stage 2 checks: one healthy edge and the deliberately broken ones.

One Knot on 127.0.0.72 serves a zone per variant; one nginx serves every variant on its own
address in 127.0.0.160-169 (ports 80 and 443), proxying to one EdgeApp on 127.0.0.1; the
certificates come from one TestCA whose root is launch_ca_bundle.

    stack = edge_lab.start()
    vars = edge_lab.site_vars(stack, "good.edge.test", launch_edge_addresses=["127.0.0.160"])
    ...
    stack.stop()

The healthy variant mirrors what the edge_nginx role writes (never-cache paths private and
kept out of the cache, fingerprinted assets immutable and cached at the edge, limit_req on
POSTs to the login and chatbot); each broken one changes one thing, as checks.md describes.
"""

from __future__ import annotations

import typing as t

from tests.support import edge_app, http_lab
from tests.support.knot import zone

KNOT = "127.0.0.72"
NEVER = "checkout|cart|account|login|chatbot|api"

# apex -> address; DNS-only variants are in ZONES_ONLY.
VARIANTS = {
    "good.edge.test": "127.0.0.160",
    "nolimit.edge.test": "127.0.0.161",
    "cacheco.edge.test": "127.0.0.162",
    "cookie.edge.test": "127.0.0.163",
    "deception.edge.test": "127.0.0.164",
    "nocache.edge.test": "127.0.0.165",
    "mixed.edge.test": "127.0.0.166",
    "dynmixed.edge.test": "127.0.0.167",
    "slow503.edge.test": "127.0.0.168",
}
ZONES_ONLY = {
    # www points straight at the origin: the edge is gone around.
    "exposed.edge.test": "@ A 127.0.0.160\nwww A 127.0.0.199",
    # Cloudflare's published ranges.
    "cf.edge.test": "@ A 104.16.0.1\nwww A 104.16.0.2\n@ AAAA 2606:4700::6810:1",
}

APP_HOSTS = {
    # The app itself says checkout may be cached by anyone.
    "cacheco.edge.test": {"headers": {"/checkout": {"Cache-Control": "public, max-age=600"}}},
    # The homepage is cacheable and sets the session cookie.
    "cookie.edge.test": {"headers": {"/": {"Cache-Control": "public, max-age=300",
                                           "Set-Cookie": "session=s3cr3t; Path=/; Secure; HttpOnly; SameSite=Lax"}}},
    "mixed.edge.test": {"head": "<script src='http://cdn.mixed.edge.test/analytics.js'></script>"},
    # Only a browser sees this one: the script adds the http:// resource at run time.
    "dynmixed.edge.test": {"head": "<script>var s=document.createElement('script');"
                                   "s.src='http://cdn.dynmixed.edge.test/widget.js';"
                                   "document.head.appendChild(s);</script>"},
}

HEADERS = "\n".join([
    'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
    "add_header X-Content-Type-Options nosniff always;",
    "add_header X-Frame-Options DENY always;",
    "add_header Referrer-Policy strict-origin-when-cross-origin always;",
])


def _name(apex: str) -> str:
    return apex.split(".")[0]


def _maps(apex: str, never: bool = True) -> str:
    n = _name(apex)
    never_cc = '"~^\\d+ /(?:%s)(?:/|$)" "private, no-store";' % NEVER if never else ""
    never_map = '"~^/(?:%s)(?:/|$)" 1;' % NEVER if never else ""
    return "\n".join([
        'map "$status $uri" $%s_cc {' % n,
        "  default $upstream_http_cache_control;",
        "  " + never_cc,
        '  "~^[23]\\d\\d /static/.*\\.[0-9a-f]{8,}\\.[A-Za-z0-9]+$" "public, max-age=31536000, immutable";',
        '  "~^[23]\\d\\d /static/" "public, max-age=86400";',
        "}",
        "map $uri $%s_never {" % n,
        "  default 0;",
        "  " + never_map,
        "}",
        "limit_req_zone $edge_lab_rl_key zone=%s_login:1m rate=5r/s;" % n,
        "limit_req_zone $edge_lab_rl_key zone=%s_chat:1m rate=5r/s;" % n,
    ])


def _site(ip: str, apex: str, tls: tuple, app: str, *, limit: bool = True, static: str | None = None,
          extra: t.Sequence[str] = (), limit_status: int = 429) -> list:
    n = _name(apex)
    static = static or "\n".join([
        "location /static/ {",
        "  proxy_pass http://%s;" % app,
        "  proxy_cache_valid 200 1h;",
        "  proxy_ignore_headers Cache-Control Expires Set-Cookie;",
        "  proxy_hide_header Set-Cookie;",
        "  proxy_hide_header Cache-Control;",
        "  proxy_cache_bypass $%s_never;" % n,
        "  proxy_no_cache $%s_never;" % n,
        "}",
    ])
    limits = []
    if limit:
        for path, zone_name in (("/login", "login"), ("/api/chat", "chat")):
            limits.append("location = %s { limit_req zone=%s_%s burst=5 nodelay; limit_req_status %d; "
                          "proxy_pass http://%s; }" % (path, n, zone_name, limit_status, app))
    canonical = "\n".join([
        HEADERS,
        "add_header Cache-Control $%s_cc always;" % n,
        "add_header X-Cache-Status $upstream_cache_status always;",
        "proxy_http_version 1.1;",
        "proxy_set_header Connection \"\";",
        "proxy_set_header Host $host;",
        "proxy_hide_header Cache-Control;",
        "proxy_cache edge_lab;",
        "proxy_cache_key $scheme$host$request_uri;",
        "proxy_cache_bypass $%s_never;" % n,
        "proxy_no_cache $%s_never;" % n,
        *extra,
        static,
        *limits,
        "location / { proxy_pass http://%s; }" % app,
    ])
    return [
        http_lab.server(ip + ":80", [apex, "www." + apex], "return 301 https://$host$request_uri;"),
        http_lab.server(ip + ":443", ["www." + apex], HEADERS, "return 301 https://%s$request_uri;" % apex, tls=tls),
        http_lab.server(ip + ":443", [apex], canonical, tls=tls),
    ]


def _blocks(stack: http_lab.Stack, app: str) -> list:
    http = [
        "proxy_cache_path %s/cache levels=1:2 keys_zone=edge_lab:4m max_size=64m inactive=1h use_temp_path=off;"
        % stack.workdir,
        "map $request_method $edge_lab_rl_key { default $binary_remote_addr; GET \"\"; HEAD \"\"; }",
    ]
    blocks: list = []
    for apex, ip in VARIANTS.items():
        tls = stack.cert(_name(apex), [apex, "www." + apex])
        kwargs: dict = {}
        never = True
        if apex == "nolimit.edge.test":
            kwargs["limit"] = False
        elif apex == "cacheco.edge.test":
            never = False  # no never-cache rules at all: the app's "public" wins
        elif apex == "cookie.edge.test":
            kwargs["extra"] = ["location = / { proxy_pass http://%s; proxy_ignore_headers Set-Cookie; }" % app]
        elif apex == "deception.edge.test":
            kwargs["extra"] = ["location ~* \\.(?:css|js)$ { proxy_pass http://%s; proxy_cache_valid 200 10m; "
                               "proxy_ignore_headers Cache-Control Expires Set-Cookie; proxy_cache_bypass 0; "
                               "proxy_no_cache 0; add_header Cache-Control \"public, max-age=600\" always; "
                               "add_header X-Cache-Status $upstream_cache_status always; }" % app]
        elif apex == "nocache.edge.test":
            kwargs["static"] = ("location /static/ { proxy_pass http://%s; add_header Cache-Control no-cache always; "
                                "add_header X-Cache-Status $upstream_cache_status always; }" % app)
        elif apex == "slow503.edge.test":
            kwargs["limit_status"] = 503
        http.append(_maps(apex, never=never))
        blocks += _site(ip, apex, tls, app, **kwargs)
    return http + blocks


class EdgeStack(http_lab.Stack):
    app: edge_app.EdgeApp


def start() -> EdgeStack:
    stack = EdgeStack("edge-lab-")
    try:
        stack.app = edge_app.EdgeApp(APP_HOSTS).start()
        zones = {apex: zone(apex, "@ A %s\nwww A %s" % (ip, ip)) for apex, ip in VARIANTS.items()}
        zones.update({apex: zone(apex, records) for apex, records in ZONES_ONLY.items()})
        stack.knot(KNOT, zones)
        stack.nginx(_blocks(stack, stack.app.upstream),
                    sorted({(ip, port) for ip in VARIANTS.values() for port in (80, 443)}))
    except BaseException:
        stop(stack)
        raise
    return stack


def stop(stack: EdgeStack) -> None:
    app = getattr(stack, "app", None)
    if app is not None:
        app.stop()
    stack.stop()


def variant_vars(stack: http_lab.Stack, apex: str, resolver: str, edge: str, **extra: t.Any) -> dict:
    """The launch_* description of a variant served by EDGE and resolved by RESOLVER (routes like the
    lab's shop); the root-cause and past-bad-certificate labs describe theirs with it too."""
    out = {"launch_domain": apex, "launch_resolvers": [resolver], "launch_ca_bundle": stack.ca_bundle,
           "launch_timeout": 3, "launch_edge_provider": "nginx", "launch_edge_addresses": [edge],
           "launch_routes": {"homepage": "/", "login": "/login", "chatbot": "/api/chat", "checkout": "/checkout"}}
    out.update(extra)
    return out


def site_vars(stack: http_lab.Stack, apex: str, **extra: t.Any) -> dict:
    """The launch_* description of one of this lab's variants."""
    return variant_vars(stack, apex, KNOT, VARIANTS.get(apex, "127.0.0.160"), **extra)
