"""A small HTTP server with scripted latency, for the load generator's tests (run as a process).

    python -m tests.support.load_server --listen 127.0.10.2:8080 --slow-every 10 --slow-ms 300
    ... --stall-at 1.0 --stall-for 1.0   (every request arriving in that window waits until it ends)
    ... --hang                            (accepts, never answers)
    ... --keepalive-s 0.2                 (closes a keep-alive connection idle that long)

``GET /_stats`` answers {"requests", "peak_concurrent", "connections"} (connections that
sent a request, /_stats excluded) and is never delayed.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import web


def make_app(args: argparse.Namespace) -> web.Application:
    state = {"requests": 0, "concurrent": 0, "peak": 0, "first": None, "peers": set()}

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"requests": state["requests"], "peak_concurrent": state["peak"],
                                  "connections": len(state["peers"])})

    async def handle(request: web.Request) -> web.Response:
        state["requests"] += 1
        state["peers"].add(request.transport.get_extra_info("peername") if request.transport else None)
        number = state["requests"]
        now = time.monotonic()
        if state["first"] is None:
            state["first"] = now
        state["concurrent"] += 1
        state["peak"] = max(state["peak"], state["concurrent"])
        try:
            if args.hang:
                await asyncio.sleep(3600)
            if args.stall_for:
                stall_start = state["first"] + args.stall_at
                if stall_start <= now < stall_start + args.stall_for:
                    await asyncio.sleep(stall_start + args.stall_for - now)
            if args.slow_every and number % args.slow_every == 0:
                await asyncio.sleep(args.slow_ms / 1000.0)
            elif args.delay_ms:
                await asyncio.sleep(args.delay_ms / 1000.0)
            return web.Response(text="ok\n", headers={"X-DB-Queries": "3"})
        finally:
            state["concurrent"] -= 1

    app = web.Application()
    app.router.add_get("/_stats", stats)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--slow-every", type=int, default=0)
    parser.add_argument("--slow-ms", type=float, default=0)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--stall-at", type=float, default=0)
    parser.add_argument("--stall-for", type=float, default=0)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--keepalive-s", type=float, default=75.0)
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    web.run_app(make_app(args), host=host, port=int(port), access_log=None, print=None,
                keepalive_timeout=args.keepalive_s)


if __name__ == "__main__":
    main()
