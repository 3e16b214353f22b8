"""Where the gateway's CPU goes per buyer message: the real gateway app (bot.gateway.create_app,
SQLite in a temporary directory, in-memory broadcaster) in this process under cProfile, a stub
Rasa in a child process (a fixed two-message answer, so only the gateway's work is measured).

    python -m bench.profile_gateway [--messages 300] [--top 30] [--signed-in]

Database calls normally run in worker threads (asyncio.to_thread), which cProfile does not see;
here they run inline so the profile shows them (the CPU total is process time either way).
Prints CPU ms per message (process time, all threads) and the top functions by cumulative time.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STUB_RASA = r"""
import sys
from aiohttp import web
REPLY = [{"recipient_id": "x", "text": "Pay Later is trade credit from Kabbage for Trade Assurance orders."},
         {"recipient_id": "x", "text": "Did this answer your question?",
          "buttons": [{"title": "Yes", "payload": "/feedback_helpful"}, {"title": "No", "payload": "/feedback_not_helpful"}]}]
async def webhook(request):
    await request.read()
    return web.json_response(REPLY)
async def ok(request):
    return web.json_response({})
app = web.Application()
app.router.add_post("/webhooks/rest/webhook", webhook)
app.router.add_post("/conversations/{cid}/tracker/events", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


async def _drive(base: str, n: int, token) -> float:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/v1/conversations", json={"client": "web"}, headers=headers) as r:
            conv = await r.json()
        if not token:
            headers = {"X-Conversation-Token": conv["conversation_token"]}
        url = f"{base}/v1/conversations/{conv['id']}/messages"
        for i in range(3):  # warm up
            async with http.post(url, json={"text": "hi"}, headers=headers) as r:
                await r.read()
        prof = cProfile.Profile()
        cpu0 = time.process_time()
        prof.enable()
        for i in range(n):
            async with http.post(url, json={"text": f"what is pay later? ({i})"}, headers=headers) as r:
                body = await r.json()
                assert r.status == 200, body
        prof.disable()
        cpu = time.process_time() - cpu0
    return cpu, prof


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--signed-in", action="store_true", help="messages carry a buyer JWT (demo secret)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from aiohttp import web

    from bot.stack import free_port, stack_env

    tmp = Path(tempfile.mkdtemp(prefix="gw-profile-"))
    rasa_port, gw_port = free_port(), free_port()
    stub = subprocess.Popen([sys.executable, "-c", STUB_RASA, str(rasa_port)])
    env = stack_env(demo=True)
    env.update({"PAYLATER_DATABASE_URL": f"sqlite:///{tmp / 'gw.db'}", "PAYLATER_RASA_URL": f"http://127.0.0.1:{rasa_port}",
                "PAYLATER_RASA_URLS": f"http://127.0.0.1:{rasa_port}", "PAYLATER_EVENTS_RELAY": "0"})
    for name in ("CONVERSATIONS_PER_ADDRESS", "CONVERSATIONS_PER_BUYER", "MESSAGES_PER_BUYER", "MESSAGES_PER_ADDRESS",
                 "MESSAGES_PER_CONVERSATION"):
        env[f"PAYLATER_LIMIT_{name}"] = "1000000/1"
    env.pop("PAYLATER_GATEWAY_REDIS_URL", None)
    os.environ.update(env)

    async def inline(fn, *a, **kw):  # database calls on this thread, so cProfile sees them
        return fn(*a, **kw)

    asyncio.to_thread = inline

    from bot.auth import mint_buyer_token
    from bot.gateway.app import create_app

    async def go():
        runner = web.AppRunner(create_app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", gw_port)
        await site.start()
        try:
            for _ in range(100):  # the stub is up
                try:
                    import aiohttp

                    async with aiohttp.ClientSession() as s:
                        async with s.post(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", json={}) as r:
                            await r.read()
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            token = mint_buyer_token("buyer-001", env["PAYLATER_JWT_SECRET"]) if args.signed_in else None
            return await _drive(f"http://127.0.0.1:{gw_port}", args.messages, token)
        finally:
            await runner.cleanup()

    try:
        cpu, prof = asyncio.run(go())
    finally:
        stub.terminate()
        stub.wait(timeout=10)
    # client and server share this process: subtract the client's side (aiohttp client calls)
    stats = pstats.Stats(prof)
    handler = 0.0
    for (path, _l, name), (_cc, _nc, _tt, ct, _c) in stats.stats.items():
        if name == "post_message" and "bot/gateway/app.py" in path:
            handler = max(handler, ct)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.top)
    result = {"messages": args.messages, "signed_in": args.signed_in,
              "process_cpu_ms_per_message_incl_client": round(cpu * 1000 / args.messages, 2),
              "post_message_handler_ms_per_message": round(handler * 1000 / args.messages, 2),
              "load": round(os.getloadavg()[0], 2)}
    print(buf.getvalue(), file=sys.stderr)
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
