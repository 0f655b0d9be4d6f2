"""The demo shop with its privacy switches, each variant a real shop behind a real TLS edge.

Everything lives in 127.0.9.0/24: one Knot (127.0.9.53) serves a zone per variant, one demo
vendor (127.0.9.2:8082) answers every shop, each variant's shop (demo/shop/app.py, its own
SQLite, migrated and seeded with the two test customers) listens on its own address, and one
nginx terminates TLS for every variant on that address's port 443 (certificates from one
TestCA, the launch_ca_bundle of the variants).

    stack = privacy_lab.start()
    vars = privacy_lab.site_vars(stack, "leak")       # launch_* of that variant, customers included
    stack.shops["logs"].log_path                      # what the shop logged
    privacy_lab.stop(stack)
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys

from tests.support import http_lab, procs
from tests.support.ansible_run import ROOT
from tests.support.knot import zone

SHOP_DIR = os.path.join(ROOT, "demo", "shop")
VENDOR = os.path.join(ROOT, "demo", "vendor", "app.py")
KNOT = "127.0.9.53"
VENDOR_ADDR = ("127.0.9.2", 8082)
SHOP_PORT = 8081

# variant -> (address, SHOP_DEMO_* switches)
VARIANTS = {
    "good": ("127.0.9.11", {}),
    "leak": ("127.0.9.12", {"SHOP_DEMO_CHAT_LEAK": "1"}),
    "logs": ("127.0.9.13", {"SHOP_DEMO_LOG_PROMPTS": "1"}),
    "env": ("127.0.9.14", {"SHOP_DEMO_SERVE_ENV": "1"}),
    "bundle": ("127.0.9.15", {"SHOP_DEMO_BUNDLE_SECRET": "1"}),
}


def apex(variant: str) -> str:
    return "%s.privacy.test" % variant


def customers(passwords: dict) -> list:
    """launch_customers for the shop's seeded customers (demo/shop/seed.py), A then B."""
    sys.path.insert(0, SHOP_DIR)
    try:
        import seed
    finally:
        sys.path.remove(SHOP_DIR)
    return [{"email": c["email"], "password": passwords[c["email"]], "name": c["name"], "address": c["address"],
             "phone": c["phone"], "card_last4": c["card_last4"],
             "orders": [{"id": o["id"], "status": o["status"], "total": "%.2f" % (o["total_cents"] / 100)}
                        for o in c["orders"]]}
            for c in seed.CUSTOMERS]


@dataclasses.dataclass
class Shop:
    name: str
    address: str
    env: dict
    log_path: str
    server: procs.Server


class PrivacyStack(http_lab.Stack):
    shops: dict
    passwords: dict
    vendor: procs.Server | None = None


def _shop(stack: PrivacyStack, name: str, address: str, switches: dict) -> Shop:
    workdir = os.path.join(stack.workdir, "shop-" + name)
    os.makedirs(workdir)
    static = os.path.join(workdir, "static")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOP_")}
    env.update({"SHOP_DB": os.path.join(workdir, "shop.db"), "SHOP_SECRET_KEY": secrets.token_urlsafe(30),
                "SHOP_VENDOR_URL": "http://%s:%d/v1/chat" % VENDOR_ADDR,
                "SHOP_VENDOR_API_KEY": "vk_test_" + secrets.token_hex(16), "SHOP_HOST": address,
                "SHOP_PORT": str(SHOP_PORT), "SHOP_STATIC_DIR": static, "SHOP_CHAT_TIMEOUT": "3",
                "SHOP_SEED_CUSTOMERS_FILE": os.path.join(stack.workdir, "customers.json"), "PYTHONUNBUFFERED": "1"})
    env.update(switches)
    for script, args in (("migrate.py", []), ("build.py", ["--out", static])):
        subprocess.run([sys.executable, os.path.join(SHOP_DIR, script), *args], env=env, check=True,
                       capture_output=True, timeout=60)
    log_path = os.path.join(workdir, "shop.log")
    server = procs.start("shop-" + name, [sys.executable, os.path.join(SHOP_DIR, "app.py")], log_path,
                         ready=lambda: procs.wait_port(address, SHOP_PORT, timeout=0.2), env=env, cwd=SHOP_DIR,
                         timeout=20)
    return Shop(name, address, env, log_path, server)


def start() -> PrivacyStack:
    stack = PrivacyStack("privacy-lab-")
    stack.shops = {}
    try:
        stack.passwords = {c: secrets.token_urlsafe(18) for c in ("ada@shop.test", "ben@shop.test")}
        path = stack.file("customers.json", json.dumps(stack.passwords).encode())
        os.chmod(path, 0o600)
        stack.vendor = procs.start(
            "vendor", [sys.executable, VENDOR, "--host", VENDOR_ADDR[0], "--port", str(VENDOR_ADDR[1])],
            os.path.join(stack.workdir, "vendor.log"), ready=lambda: procs.wait_port(*VENDOR_ADDR, timeout=0.2),
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        for name, (address, switches) in VARIANTS.items():
            stack.shops[name] = _shop(stack, name, address, switches)
        stack.knot(KNOT, {apex(n): zone(apex(n), "@ A %s" % a) for n, (a, _s) in VARIANTS.items()})
        blocks = []
        for name, (address, _switches) in VARIANTS.items():
            tls = stack.cert(name, [apex(name)])
            blocks.append(http_lab.server(
                address + ":443", [apex(name)],
                "location / { proxy_pass http://%s:%d; proxy_set_header Host $host; "
                "proxy_set_header X-Request-ID $request_id; }" % (address, SHOP_PORT), tls=tls))
        stack.nginx(blocks, [(a, 443) for a, _s in VARIANTS.values()])
    except BaseException:
        stop(stack)
        raise
    return stack


def stop(stack: PrivacyStack) -> None:
    for shop in getattr(stack, "shops", {}).values():
        shop.server.stop()
    if stack.vendor is not None:
        stack.vendor.stop()
    stack.stop()


def site_vars(stack: PrivacyStack, variant: str, **extra) -> dict:
    """The launch_* description of a variant: routes like the lab's shop, the two seeded customers."""
    name = apex(variant)
    out = {"launch_domain": name, "launch_hosts": [name], "launch_resolvers": [KNOT],
           "launch_ca_bundle": stack.ca_bundle, "launch_timeout": 5,
           "launch_routes": {"homepage": "/", "login": "/login", "chatbot": "/api/chat", "health": "/healthz"},
           "launch_customers": customers(stack.passwords),
           "launch_chatbot_eval": {"interval": 0.05}}
    out.update(extra)
    return out
