"""Where the gateway's CPU goes per buyer message, and how much it is.

    python -m bench.profile_gateway [--messages 300] [--signed-in] [--transport rest|ws]
                                    [--no-client-ids] [--runs 3] [--profile] [--top 30] [--out FILE]

A stub Rasa in a child process answers every message with a fixed two-message answer and the
turn note of bot/rasa_channel.py (an FAQ answer: one analytics event), so only the gateway's
work is measured. Messages carry a `client_message_id` as the widget's do (`--no-client-ids`:
as older clients); `--transport ws` sends them over the buyer WebSocket (the socket also gets
every stored message live, as the widget does), `rest` over `POST .../messages`.

Default (CPU): the real gateway (`python -m bot.gateway`, demo mode, SQLite in a temporary
directory, INFO logs to a file as `make run` writes them) in a child process; CPU ms per buyer
message of that process from /proc (user + system, so what else runs on the machine does not
count), `--runs` blocks of `--messages` each on fresh conversations, median reported.

`--profile`: the gateway app in this process, on uvloop as served, under cProfile instead
(database calls run inline instead of in worker threads, so cProfile sees them; the load client
shares the process), and the top functions by own time and by cumulative time. Use it for "where", the default for "how
much".
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Optional

STUB_RASA = r"""
import sys
from aiohttp import web
REPLY = [{"recipient_id": "x", "text": "Pay Later is trade credit from Kabbage for Trade Assurance orders."},
         {"recipient_id": "x", "text": "Did this answer your question?",
          "buttons": [{"title": "Yes", "payload": "/feedback_helpful"}, {"title": "No", "payload": "/feedback_not_helpful"}]},
         {"recipient_id": "x", "custom": {"turn": {"intent": "faq", "topic": "what_is_pay_later"}}}]
import asyncio
DELAY = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.0
ONE_AT_A_TIME = asyncio.Lock()
async def webhook(request):
    await request.read()
    if DELAY:  # Rasa's own time, one message at a time as one Rasa process: messages queue as in the stack
        async with ONE_AT_A_TIME:
            await asyncio.sleep(DELAY)
    return web.json_response(REPLY)
async def ok(request):
    return web.json_response({})
app = web.Application()
app.router.add_post("/webhooks/rest/webhook", webhook)
app.router.add_post("/conversations/{cid}/tracker/events", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
BOT_REPLIES = 2  # messages the stub's answer stores


def gateway_env(tmp: Path, rasa_port: int) -> Dict[str, str]:
    from bot.stack import stack_env

    env = stack_env(demo=True)
    env.update({"PAYLATER_DATABASE_URL": f"sqlite:///{tmp / 'gw.db'}", "PAYLATER_RASA_URL": f"http://127.0.0.1:{rasa_port}",
                "PAYLATER_RASA_URLS": f"http://127.0.0.1:{rasa_port}", "PAYLATER_EVENTS_RELAY": "0",
                "LOG_LEVEL": "INFO"})
    for name in ("CONVERSATIONS_PER_ADDRESS", "CONVERSATIONS_PER_BUYER", "MESSAGES_PER_BUYER", "MESSAGES_PER_ADDRESS",
                 "MESSAGES_PER_CONVERSATION"):
        env[f"PAYLATER_LIMIT_{name}"] = "1000000/1"
    env.pop("PAYLATER_GATEWAY_REDIS_URL", None)
    return env


async def _wait_http(url: str, method: str = "GET", timeout_s: float = 60.0) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            async with aiohttp.ClientSession() as s:
                async with s.request(method, url, json={} if method == "POST" else None) as r:
                    await r.read()
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


class Buyer:
    """One conversation, over REST or the buyer WebSocket."""

    def __init__(self, http, base: str, token: Optional[str], transport: str, client_ids: bool):
        self.http, self.base, self.token, self.transport, self.client_ids = http, base, token, transport, client_ids
        self.ws = None

    async def open(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.post(f"{self.base}/v1/conversations", json={"client": "web"}, headers=headers) as r:
            conv = await r.json()
            assert r.status == 201, conv
        self.headers = headers if self.token else {"X-Conversation-Token": conv["conversation_token"]}
        self.url = f"{self.base}/v1/conversations/{conv['id']}/messages"
        if self.transport == "ws":
            self.ws = await self.http.ws_connect(f"{self.base}/v1/conversations/{conv['id']}/ws")
            auth: Dict[str, Any] = {"type": "auth"}
            if self.token:
                auth["token"] = self.token
            else:
                auth["conversation_token"] = conv["conversation_token"]
            await self.ws.send_json(auth)
            ready = await self.ws.receive_json(timeout=10)
            assert ready["type"] == "ready", ready

    async def say(self, text: str) -> None:
        body: Dict[str, Any] = {"text": text}
        if self.client_ids:
            body["client_message_id"] = uuid.uuid4().hex
        if self.ws is None:
            async with self.http.post(self.url, json=body, headers=self.headers) as r:
                answer = await r.json()
                assert r.status == 200, answer
                assert sum(m["sender"] == "bot" for m in answer["messages"]) == BOT_REPLIES, answer
            return
        await self.ws.send_json({"type": "message", **body})
        bot = 0
        while True:  # the live messages, then (with a client id) the ack
            event = await self.ws.receive_json(timeout=10)
            assert event["type"] in ("message", "ack", "state"), event
            if event["type"] == "message" and event["message"]["sender"] == "bot":
                bot += 1
            if (event["type"] == "ack") if self.client_ids else bot == BOT_REPLIES:
                return

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def _block(base: str, n: int, token: Optional[str], args, measure):
    """Warm up on a fresh conversation, then `n` measured messages; `measure` brackets them."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        buyer = Buyer(http, base, token, args.transport, not args.no_client_ids)
        await buyer.open()
        for _ in range(3):
            await buyer.say("hi")
        with measure():
            for i in range(n):
                await buyer.say(f"what is pay later? ({i})")
        await buyer.close()


def _stub(rasa_port: int, delay_ms: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", STUB_RASA, str(rasa_port), str(delay_ms)])


async def _concurrent_block(base: str, n: int, token: Optional[str], args, measure):
    """The bench's shape: `--concurrency` buyers at once, each on a fresh conversation of
    `--per-conversation` messages (its open counted, as the bench counts it), until `n` messages."""
    import aiohttp

    per = args.per_conversation
    conversations = max(1, n // per)
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(conversations):
        queue.put_nowait(i)

    async def worker(http):
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            # as the bench: three of four conversations signed in when --signed-in
            buyer = Buyer(http, base, token if token and i % 4 else None, args.transport, not args.no_client_ids)
            await buyer.open()
            for k in range(per):
                await buyer.say(f"what is pay later? ({i}.{k})")
            await buyer.close()

    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as http:
        warm = Buyer(http, base, token, args.transport, not args.no_client_ids)
        await warm.open()
        for _ in range(3):
            await warm.say("hi")
        await warm.close()
        with measure():
            await asyncio.gather(*(worker(http) for _ in range(args.concurrency)))
    return conversations * per


def run_cpu(args) -> Dict[str, Any]:
    """The gateway in its own process: CPU ms per message from /proc."""
    import contextlib

    from bench.memory import cpu_s
    from bot.auth import mint_buyer_token
    from bot.stack import free_port

    from bench.stack_cpu import thread_cpu

    tmp = Path(tempfile.mkdtemp(prefix="gw-cpu-"))
    rasa_port, gw_port = free_port(), free_port()
    env = gateway_env(tmp, rasa_port)
    env.update(dict(kv.split("=", 1) for kv in args.env))
    stub = _stub(rasa_port, args.rasa_delay_ms)
    log_file = open(tmp / "gateway.log", "wb")
    gw = subprocess.Popen([sys.executable, "-m", "bot.gateway", "--host", "127.0.0.1", "--port", str(gw_port)],
                          env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{gw_port}"
    per_message, threads = [], []
    try:
        asyncio.run(_wait_http(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", "POST"))
        asyncio.run(_wait_http(f"{base}/health"))
        token = mint_buyer_token("buyer-001", env["PAYLATER_JWT_SECRET"], ttl_s=3600) if args.signed_in else None

        for _ in range(args.runs):
            spent = {}

            @contextlib.contextmanager
            def measure():
                c0, t0 = cpu_s(gw.pid), thread_cpu(gw.pid)
                yield
                spent["cpu"] = cpu_s(gw.pid) - c0
                spent["threads"] = {k: v - t0.get(k, 0.0) for k, v in thread_cpu(gw.pid).items()}

            if args.concurrency > 1:
                n = asyncio.run(_concurrent_block(base, args.messages, token, args, measure))
            else:
                n = args.messages
                asyncio.run(_block(base, n, token, args, measure))
            per_message.append(spent["cpu"] * 1000 / n)
            threads.append({k: round(v * 1000 / n, 2) for k, v in sorted(spent["threads"].items(), key=lambda kv: -kv[1])
                            if v * 1000 / n >= 0.05})
    finally:
        for p in (gw, stub):
            p.terminate()
            with contextlib.suppress(Exception):
                p.wait(timeout=10)
        log_file.close()
    return {"mode": "cpu", "gateway_cpu_ms_per_message": round(statistics.median(per_message), 2),
            "runs_ms": [round(x, 2) for x in per_message], "concurrency": args.concurrency,
            "threads_ms": threads}


def run_profile(args) -> Dict[str, Any]:
    """The gateway app in this process under cProfile."""
    import contextlib

    from aiohttp import web

    from bot.stack import free_port

    tmp = Path(tempfile.mkdtemp(prefix="gw-profile-"))
    rasa_port, gw_port = free_port(), free_port()
    env = gateway_env(tmp, rasa_port)
    env["LOG_LEVEL"] = "WARNING"
    os.environ.update(env)
    stub = _stub(rasa_port)

    async def inline(fn, *a, **kw):  # database calls on this thread, so cProfile sees them
        return fn(*a, **kw)

    asyncio.to_thread = inline

    from bot.auth import mint_buyer_token
    from bot.gateway.app import create_app

    prof = cProfile.Profile()
    spent = {}

    @contextlib.contextmanager
    def measure():
        c0 = time.process_time()
        prof.enable()
        yield
        prof.disable()
        spent["cpu"] = time.process_time() - c0

    async def go():
        runner = web.AppRunner(create_app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", gw_port)
        await site.start()
        try:
            await _wait_http(f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook", "POST")
            token = mint_buyer_token("buyer-001", env["PAYLATER_JWT_SECRET"]) if args.signed_in else None
            await _block(f"http://127.0.0.1:{gw_port}", args.messages, token, args, measure)
        finally:
            await runner.cleanup()

    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # as served (bot/serving.py)
    try:
        asyncio.run(go())
    finally:
        stub.terminate()
        stub.wait(timeout=10)
    n = args.messages
    stats = pstats.Stats(prof)
    rows = []
    for (path, line, name), (_cc, ncalls, tt, ct, _c) in stats.stats.items():
        rows.append({"function": f"{Path(path).name}:{line}({name})" if line else name, "path": path,
                     "calls_per_message": round(ncalls / n, 2), "own_ms": round(tt * 1000 / n, 3),
                     "cumulative_ms": round(ct * 1000 / n, 3)})
    own = sorted(rows, key=lambda r: -r["own_ms"])[: args.top]
    ours = sorted((r for r in rows if "/bot/" in r["path"]), key=lambda r: -r["cumulative_ms"])[: args.top]
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.top)
    print(buf.getvalue(), file=sys.stderr)
    for title, table in (("own time", own), ("cumulative, bot/ only", ours)):
        print(f"\ntop by {title} (ms per message under cProfile):", file=sys.stderr)
        for r in table:
            print(f"  {r['own_ms']:8.3f} own {r['cumulative_ms']:8.3f} cum {r['calls_per_message']:7.2f}/msg  "
                  f"{r['function']}", file=sys.stderr)
    return {"mode": "profile", "process_cpu_ms_per_message_incl_client": round(spent["cpu"] * 1000 / n, 2),
            "top_own": [{k: v for k, v in r.items() if k != "path"} for r in own],
            "top_bot_cumulative": [{k: v for k, v in r.items() if k != "path"} for r in ours]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3, help="measured blocks (CPU mode); the median is reported")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--signed-in", action="store_true", help="messages carry a buyer JWT (demo secret)")
    parser.add_argument("--transport", choices=("rest", "ws"), default="rest")
    parser.add_argument("--no-client-ids", action="store_true", help="messages without client_message_id")
    parser.add_argument("--profile", action="store_true", help="cProfile in this process instead of CPU from /proc")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="CPU mode: this many buyers at once, fresh conversations (opens counted), as the bench")
    parser.add_argument("--per-conversation", type=int, default=5, help="with --concurrency: messages per conversation")
    parser.add_argument("--rasa-delay-ms", type=float, default=0.0, help="the stub Rasa answers after this long")
    parser.add_argument("--env", action="append", default=[], help="KEY=VAL for the gateway process (repeatable)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run_profile(args) if args.profile else run_cpu(args)
    result = {"messages": args.messages, "signed_in": args.signed_in, "transport": args.transport,
              "client_ids": not args.no_client_ids, **result, "load": round(os.getloadavg()[0], 2)}
    summary = {k: v for k, v in result.items() if not k.startswith("top_")}
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
