"""The lab's stand-in for the chatbot's third-party AI vendor: ``POST /v1/chat`` answers JSON.

It can be made to hang, to prove the shop keeps its own timeout budget:

* ``VENDOR_HANG_SECONDS=N`` in the environment: every request waits N seconds first;
* ``?hang=N`` on a request: that request waits N seconds;
* ``PUT /_admin/hang`` with ``{"seconds": N}`` (0 turns it off): every later request
  waits N seconds, without a restart. ``GET /_admin/hang`` shows the current value.
* ``PUT /_admin/hang`` with ``{"hang": true}``: every request waits until ``{"hang": false}``
  (at most an hour): the fault hook launchready's load.vendor_timeout injects.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
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
