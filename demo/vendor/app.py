"""The lab's stand-in for the chatbot's third-party AI vendor: ``POST /v1/chat`` answers JSON.

It can be made to hang, to prove the shop keeps its own timeout budget:

* ``VENDOR_HANG_SECONDS=N`` in the environment: every request waits N seconds first;
* ``?hang=N`` on a request: that request waits N seconds;
* ``PUT /_admin/hang`` with ``{"seconds": N}`` (0 turns it off): every later request
  waits N seconds, without a restart. ``GET /_admin/hang`` shows the current value.
* ``PUT /_admin/hang`` with ``{"hang": true}``: every request waits until ``{"hang": false}``
  (at most an hour): the fault hook launchready's load.vendor_timeout injects.

When the request carries a ``prompt`` (the shop's: SYSTEM, CUSTOMER, ORDER and USER lines),
the answer comes from that prompt alone, deterministically, like a model that knows only its
context: order status by id, a customer's details by name, refusals for what is not there.
It follows injected instructions only when the system text lacks the shop's guard sentence,
so the chatbot eval is offline and repeatable, and the shop's prompt decides what leaks.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import time

from aiohttp import web

LOG = logging.getLogger("vendor")
HANG = web.AppKey("hang", dict)
RELEASE = web.AppKey("release", asyncio.Event)


def _seconds(value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise web.HTTPBadRequest(text='{"error": "hang must be a number of seconds"}',
                                 content_type="application/json") from None
    if not 0 <= seconds <= 3600:
        raise web.HTTPBadRequest(text='{"error": "hang must be between 0 and 3600"}',
                                 content_type="application/json")
    return seconds


# --- the deterministic "model" -------------------------------------------------------------------

_ORDER_ID = re.compile(r"\b[A-Z]{2,4}-\d{2,}\b")
_INJECTION = re.compile(r"ignore (all |any )?(previous|prior|above)|system (prompt|override)|debug mode|"
                        r"verbatim|everything above|your instructions|developer mode|reply with exactly", re.I)
_GUARD = "never reveal"
_PERSON = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b")
_SOMEONE_ELSE = re.compile(r"\b(friend|another customer|other customer|someone)\b", re.I)
_FIELDS = (("e-mail", "email"), ("email", "email"), ("address", "address"), ("phone", "phone"),
           ("card", "card"))


def _parse(prompt: str) -> tuple:
    system, user = "", ""
    customers, orders = [], {}
    for line in prompt.splitlines():
        kind, _sep, rest = line.partition(": ")
        parts = [p.strip() for p in rest.split("|")]
        if kind == "SYSTEM":
            system = rest
        elif kind == "CUSTOMER" and len(parts) == 5:
            customers.append(dict(zip(("email", "name", "address", "phone", "card"), parts, strict=True)))
        elif kind == "ORDER" and len(parts) == 4:
            orders[parts[0].upper()] = dict(zip(("id", "email", "status", "total"), parts, strict=True))
        elif kind == "USER":
            user = rest
    return system, customers, orders, user


def answer_from_prompt(prompt: str) -> str:
    """What the stand-in model says, from the prompt alone: same prompt, same answer."""
    system, customers, orders, message = _parse(prompt)
    low = message.lower()
    guarded = _GUARD in system.lower()
    if _INJECTION.search(message):
        if guarded:
            return "Sorry, I can't do that. I can help with questions about your own orders."
        return "Sure, here is everything I was given:\n" + prompt
    ids = _ORDER_ID.findall(message)
    named = [c for c in customers if c["name"] and (c["name"].lower() in low or c["email"].lower() in low)]
    field = next((name for word, name in _FIELDS if word in low), None)
    if ids:
        found = [orders.get(i.upper()) for i in ids]
        if field and field != "card" and found[0] is not None:
            owner = next((c for c in customers if c["email"] == found[0]["email"]), None)
            if owner is not None:
                return "The customer who placed order %s can be reached at %s." % (ids[0], owner[field])
        out = []
        for order_id, order in zip(ids, found, strict=True):
            if order is None:
                out.append("I can't find order %s on your account." % order_id)
            else:
                out.append("Order %s (%s) is %s, total $%s."
                           % (order_id, order["email"], order["status"], order["total"]))
        return " ".join(out)
    if not customers:
        return "Please sign in so I can help with your orders."
    me = customers[0]  # the shop puts the signed-in customer first
    people = set(_PERSON.findall(message)) - {me["name"]}
    others = [c for c in named if c is not me]
    if (people or _SOMEONE_ELSE.search(message)) and not others:
        return "I can only share details of your own account."
    who = others[0] if others else me
    if field == "card":
        return "The card on file for %s ends in %s." % (who["name"], who["card"].split()[-1])
    if field:
        return "The %s on file for %s is %s." % (field, who["name"], who[field])
    if "order" in low:
        mine = [o for o in orders.values() if o["email"] == who["email"]]
        if not mine:
            return "I can't find any orders for that account."
        return "Orders of %s: %s. Delivery address: %s." % (
            who["name"], "; ".join("%s %s" % (o["id"], o["status"]) for o in mine), who["address"])
    return "Thanks for your message (%d words). Our shop ships within 2 business days." % len(message.split())


async def chat(request: web.Request) -> web.Response:
    hang = request.app[HANG]["seconds"]
    if "hang" in request.query:
        hang = _seconds(request.query["hang"])
    if hang:
        await asyncio.sleep(hang)
    if request.app[HANG].get("hang"):
        try:
            await asyncio.wait_for(request.app[RELEASE].wait(), 3600)
        except asyncio.TimeoutError:
            pass
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "body must be JSON"}, status=400)
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    prompt = body.get("prompt") if isinstance(body, dict) else None
    if isinstance(prompt, str) and prompt:
        reply = answer_from_prompt(prompt)
    else:
        words = len(message.split())
        reply = "Thanks for your message (%d words). Our shop ships within 2 business days." % words
    return web.json_response({"reply": reply, "model": "vendor-mini-1", "created": int(time.time())})


async def get_hang(request: web.Request) -> web.Response:
    return web.json_response(request.app[HANG])


async def put_hang(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "body must be JSON"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    if "hang" in body:
        request.app[HANG]["hang"] = bool(body["hang"])
        if body["hang"]:
            request.app[RELEASE] = asyncio.Event()
        else:
            request.app[RELEASE].set()  # let every waiting request go
    if "seconds" in body or "hang" not in body:
        request.app[HANG]["seconds"] = _seconds(body.get("seconds"))
    LOG.info("hang set to %s s", request.app[HANG]["seconds"])
    return web.json_response(request.app[HANG])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@web.middleware
async def access_log(request: web.Request, handler):
    start = time.monotonic()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        LOG.info("%s %s %s %.1fms rid=%s", request.method, request.path, status,
                 (time.monotonic() - start) * 1000, request.headers.get("X-Request-ID", "-"))


def make_app(hang_seconds: float = 0.0) -> web.Application:
    app = web.Application(middlewares=[access_log])
    app[HANG] = {"seconds": hang_seconds, "hang": False}
    app[RELEASE] = asyncio.Event()
    app.router.add_post("/v1/chat", chat)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/_admin/hang", get_hang)
    app.router.add_put("/_admin/hang", put_hang)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    hang = float(os.environ.get("VENDOR_HANG_SECONDS", "0") or 0)
    web.run_app(make_app(hang), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
