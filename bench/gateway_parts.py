"""A/Bs of single gateway parts in one process, interleaved blocks, process CPU (docs/SCALING.md
"Fourth round, gateway"): across gateway processes a loaded 2-core machine hides differences of
tens of microseconds; inside one process both variants share the same minutes.

  python -m bench.gateway_parts loop [--blocks 6]         # the gateway's middleware on asyncio vs uvloop
  python -m bench.gateway_parts write_turn [--blocks 8]   # DateTime binds plain vs remembered
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
import types
from typing import Dict, List

from aiohttp import web

PORT = 17391


def _median(values: List[float]) -> float:
    return sorted(values)[len(values) // 2]


async def _requests(port: int, n: int) -> float:
    """us of process CPU per keep-alive GET, client and server together."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    req = b"GET /v1/conversations/abc HTTP/1.1\r\nHost: x\r\nX-Request-ID: req-1\r\n\r\n"
    started = time.process_time()
    for _ in range(n):
        writer.write(req)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        await reader.readexactly(length)
    spent = time.process_time() - started
    writer.close()
    return spent / n * 1e6


async def _serve_block(n: int) -> float:
    """A bare JSON route behind the gateway's one middleware (access line built as in the
    gateway), served and requested over keep-alive in this process, on the running loop."""
    from bot.gateway import app as gapp
    from bot.gateway.common import GW

    access = logging.getLogger("bot.access")
    access.addHandler(logging.NullHandler())
    access.propagate = False
    access.setLevel(logging.INFO)

    async def answer(request):
        return web.Response(body=b'{"ok": true}', content_type="application/json")

    app = web.Application(middlewares=[gapp.gateway_middleware])
    app[GW] = types.SimpleNamespace(allowed_origins=())
    app.router.add_get("/v1/conversations/{cid}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", PORT).start()
    try:
        await _requests(PORT, 300)  # warm-up
        return await _requests(PORT, n)
    finally:
        await runner.cleanup()


def loop(blocks: int) -> Dict[str, List[float]]:
    """The same block on the stock loop and on uvloop (bot/serving.py), alternating."""
    import uvloop

    factories = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
    out: Dict[str, List[float]] = {name: [] for name in factories}
    for _ in range(blocks):
        for name, factory in factories.items():
            ev = factory()
            try:
                out[name].append(round(ev.run_until_complete(_serve_block(3000)), 1))
            finally:
                ev.close()
    return out


def write_turn(blocks: int) -> Dict[str, List[float]]:
    from bot.adapters import hot_sql
    from bot.gateway import db

    remembered = hot_sql.remembered_datetimes
    stores = {}
    for name, wrap in (("plain", lambda proc: proc), ("remembered", remembered)):
        hot_sql._DATETIME_PROCS.clear()
        hot_sql.remembered_datetimes = wrap
        try:
            engine = db.make_engine(f"sqlite:///{os.path.join(tempfile.mkdtemp(), 'gateway.db')}")
            db.ensure_schema(engine, "create")
            store = db.Store(engine)
            conv = store.create_conversation("buyer-1", "web", None)
            store.write_turn(conv["id"], [db.NewMessage("buyer", "hi")])  # prepares the statements
        finally:
            hot_sql.remembered_datetimes = remembered
        stores[name] = (store, conv["id"])
    out: Dict[str, List[float]] = {name: [] for name in stores}
    for _ in range(blocks):
        for name, (store, cid) in stores.items():
            started = time.process_time()
            for _ in range(300):
                store.write_turn(cid, [db.NewMessage("bot", "an answer", [{"title": "ok", "payload": "/ok"}])])
            out[name].append(round((time.process_time() - started) / 300 * 1e6, 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("loop", "write_turn"))
    parser.add_argument("--blocks", type=int, default=6)
    args = parser.parse_args()
    out = loop(args.blocks) if args.part == "loop" else write_turn(args.blocks)
    load = os.getloadavg()[0]
    for name, values in out.items():
        print(f"{args.part} {name}: us CPU per call {values} median {_median(values)} (load {load:.1f})")


if __name__ == "__main__":
    main()
