"""python -m bench.resolution [--conversations 300] [--concurrency 6] [--seed 12]

A scripted mix of buyers through the real stack (the four processes of `make run`, demo data,
SQLite; bench/product.py), then the dashboard's figures (docs/ANALYTICS.md) as the supervisor
would read them, now and once the 24 h assumption window has passed.

The mix (shares of conversations):
  faq         45 %  one to three questions from the help article; answers "Did this answer your
                    question?" with "Yes, thanks" (55 %), "Not really" (10 %) or nothing; some thank
  account     25 %  signed in (a demo buyer): orders, an order's status, credit line, money sent
  confused    12 %  unclear or garbled messages, sometimes followed by a real question
  person      10 %  wants a person (at once, or after a question)
  off_topic    8 %  nothing to do with Pay Later
Handed-off chats are taken, answered and closed by the demo agent; buyers rate some closed
and bot-resolved chats (the optional prompt). The sentences are this script's own.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sys
import time
from typing import Any, Dict, List, Optional

import aiohttp

from bench import WORK_DIR, product
from bot.auth import mint_buyer_token

FAQ = ["what is pay later", "who provides the credit for pay later?", "is there any processing fee",
       "which currencies does pay later support", "how long do I have to repay", "what's the maximum credit line",
       "how do I pay with pay later in the app", "how do I pay on the website with pay later",
       "when does the supplier receive the money", "what do I need to apply", "where can I apply for pay later",
       "is the first month cheaper?", "can I use pay later for an order that isn't trade assurance?",
       "what happens to my loan if the order is refunded", "how much would 10000 cost over 3 months"]
ACCOUNT = ["show me my orders", "what's the status of TA-100231", "can I pay TA-100231 with pay later",
           "what is my credit limit", "where is the money for TA-100245", "has my application been approved",
           "what do I still owe on TA-100231"]
CONFUSED = ["hmm the thing with the stuff", "asdkjh qweoiu", "???", "it doesn't work", "no the other one",
            "blue", "can you do the thing from before", "ok so"]
OFF_TOPIC = ["what's the weather in paris tomorrow", "tell me a joke", "who won the football game last night",
             "recommend a good pizza place", "how do I reset my phone"]
PERSON = ["I want to talk to a person", "can I speak to a human agent please", "connect me with support staff"]
THANKS = ["thanks!", "thank you, that helps", "great, thanks"]
DEMO_BUYERS = ["buyer-001", "buyer-002", "buyer-003", "buyer-004"]
MIX = [("faq", 45), ("account", 25), ("confused", 12), ("person", 10), ("off_topic", 8)]


def log(msg: str) -> None:
    print(f"[resolution {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Buyer:
    """One conversation through the gateway's app API."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: Optional[str]):
        self.session, self.base, self.token = session, base, token
        self.headers: Dict[str, str] = {"Authorization": f"Bearer {token}"} if token else {}
        self.cid = ""
        self.last: List[Dict[str, Any]] = []

    async def open(self) -> None:
        async with self.session.post(f"{self.base}/v1/conversations", json={"client": "web"}, headers=self.headers) as r:
            body = await r.json()
            if r.status != 201:
                raise RuntimeError(f"create: HTTP {r.status} {body}")
        self.cid = body["id"]
        if not self.token:
            self.headers = {"X-Conversation-Token": body["conversation_token"]}

    async def say(self, text: str, payload: Optional[str] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"text": text}
        if payload:
            body["payload"] = payload
        async with self.session.post(f"{self.base}/v1/conversations/{self.cid}/messages", json=body,
                                     headers=self.headers) as r:
            data = await r.json()
            if r.status != 200:
                raise RuntimeError(f"message: HTTP {r.status} {data}")
        self.last = [m for m in data["messages"] if m["sender"] != "buyer"]
        return self.last

    def button(self, payload: str) -> Optional[Dict[str, str]]:
        for m in self.last:
            for b in m.get("buttons") or []:
                if b["payload"] == payload:
                    return b
        return None

    def asked_rating(self) -> bool:
        return any((m.get("data") or {}).get("type") == "csat" for m in self.last)

    async def rate(self, score: int) -> None:
        async with self.session.post(f"{self.base}/v1/conversations/{self.cid}/csat", json={"score": score},
                                     headers=self.headers) as r:
            await r.read()


async def feedback(rnd: random.Random, b: Buyer) -> None:
    yes, no = b.button("/feedback_helpful"), b.button("/feedback_not_helpful")
    x = rnd.random()
    if yes and x < 0.55:
        await b.say(yes["title"], yes["payload"])
        if b.asked_rating() and rnd.random() < 0.6:
            await b.rate(rnd.choice([5, 5, 5, 4, 4, 3]))
    elif no and x < 0.65:
        await b.say(no["title"], no["payload"])
    elif rnd.random() < 0.25:
        await b.say(rnd.choice(THANKS))


async def conversation(rnd: random.Random, session, base: str, secret: str, persona: str, n: int) -> Buyer:
    token = None
    if persona == "account":
        token = mint_buyer_token(rnd.choice(DEMO_BUYERS), secret, ttl_s=3600)
    elif rnd.random() < 0.5:  # half the other buyers are signed in, each one a different buyer
        token = mint_buyer_token(f"mix-buyer-{n:04d}", secret, ttl_s=3600)
    b = Buyer(session, base, token)
    await b.open()
    if rnd.random() < 0.3:
        await b.say(rnd.choice(["hi", "hello", "good morning"]))
    if persona == "faq":
        for q in rnd.sample(FAQ, rnd.choice([1, 1, 2, 3])):
            await b.say(q)
            await feedback(rnd, b)
    elif persona == "account":
        for q in rnd.sample(ACCOUNT, rnd.choice([1, 2, 2, 3])):
            await b.say(q)
            await feedback(rnd, b)
        if rnd.random() < 0.3:
            await b.say(rnd.choice(THANKS))
    elif persona == "confused":
        for q in rnd.sample(CONFUSED, rnd.choice([1, 2, 3])):
            await b.say(q)
        if rnd.random() < 0.4:
            await b.say(rnd.choice(FAQ))
            await feedback(rnd, b)
    elif persona == "person":
        if rnd.random() < 0.4:
            await b.say(rnd.choice(FAQ))
        await b.say(rnd.choice(PERSON))
        yes = b.button("/human_handoff")
        if yes:
            await b.say(yes["title"], yes["payload"])
    else:
        await b.say(rnd.choice(OFF_TOPIC))
        if rnd.random() < 0.3:
            await b.say(rnd.choice(OFF_TOPIC))
    return b


class Agent:
    """The demo agent works the queue: takes each chat, answers, closes it; the buyer may rate."""

    def __init__(self, session, base: str):
        self.session, self.base, self.csrf = session, base, ""

    async def sign_in(self) -> None:
        async with self.session.get(f"{self.base}/console/api/csrf") as r:
            pre = (await r.json())["csrf_token"]
        async with self.session.post(f"{self.base}/console/api/login", headers={"X-CSRF-Token": pre},
                                     json={"username": "agent", "password": "agent-demo-password"}) as r:
            self.csrf = (await r.json())["csrf_token"]

    async def work_queue(self) -> List[str]:
        async with self.session.get(f"{self.base}/console/api/conversations") as r:
            body = await r.json()
        convs = body.get("queue") or []
        done = []
        h = {"X-CSRF-Token": self.csrf}
        for c in convs:
            if c.get("state") != "queued":
                continue
            cid = c["id"]
            async with self.session.post(f"{self.base}/console/api/conversations/{cid}/claim", headers=h) as r:
                if r.status != 200:
                    continue
            async with self.session.post(f"{self.base}/console/api/conversations/{cid}/messages", headers=h,
                                         json={"text": "Hi, I'm here to help. Let me look at this for you."}) as r:
                await r.read()
            async with self.session.post(f"{self.base}/console/api/conversations/{cid}/close", headers=h, json={}) as r:
                await r.read()
            done.append(cid)
        return done


async def run_mix(base: str, secret: str, conversations: int, concurrency: int, seed: int) -> Dict[str, Any]:
    rnd = random.Random(seed)
    personas = [p for p, w in MIX for _ in range(w)]
    plan = [(i, rnd.choice(personas), rnd.randrange(1 << 30)) for i in range(conversations)]
    counts: Dict[str, int] = {}
    errors: List[str] = []
    buyers: Dict[str, Buyer] = {}
    sem = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async def one(i: int, persona: str, s: int) -> None:
            async with sem:
                try:
                    b = await conversation(random.Random(s), session, base, secret, persona, i)
                    buyers[b.cid] = b
                    counts[persona] = counts.get(persona, 0) + 1
                except Exception as exc:  # noqa: BLE001 (a bench counts failures, it does not stop)
                    errors.append(f"{persona}: {exc}"[:300])
        await asyncio.gather(*(one(*p) for p in plan))
        # the agent works the queue, then half the buyers of closed chats rate them (the optional prompt)
        async with aiohttp.ClientSession(timeout=timeout, cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent_session:
            agent = Agent(agent_session, base)
            await agent.sign_in()
            closed = await agent.work_queue()
        rated = 0
        for cid in closed:
            if cid in buyers and rnd.random() < 0.5:
                await buyers[cid].rate(rnd.choice([5, 4, 4, 3, 2]))
                rated += 1
    return {"personas": counts, "errors": errors, "closed_by_agent": len(closed), "rated_after_close": rated}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.resolution", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stack = product.start(WORK_DIR / f"resolution-{stamp}", log=log)
    try:
        log(f"stack up in {stack.start_s} s; {args.conversations} conversations, {args.concurrency} at once")
        t0 = time.monotonic()
        mix = asyncio.run(run_mix(stack.gateway_url, stack.env["PAYLATER_JWT_SECRET"], args.conversations,
                                  args.concurrency, args.seed))
        elapsed = round(time.monotonic() - t0, 1)
        log(f"mix done in {elapsed} s: {mix['personas']}; agent closed {mix['closed_by_agent']}; "
            f"{len(mix['errors'])} errors")
        figures = _read(stack)
    finally:
        stack.stop()
    out = {"mix": mix, "seconds": elapsed, **figures}
    _print(out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2, default=str)
    return 0


def _read(stack) -> Dict[str, Any]:
    """The dashboard's figures for today (the same code as GET /console/api/analytics), now and
    as they will read once the 24 h assumption window has passed."""
    from bot.gateway.analytics.store import AnalyticsStore
    from bot.gateway.db import make_engine, utcnow

    engine = make_engine(stack.env["PAYLATER_DATABASE_URL"])
    try:
        store = AnalyticsStore(engine)
        today = utcnow().date()
        now = store.figures(today, today)
        later = store.figures(today, today, now=utcnow() + dt.timedelta(hours=25))
    finally:
        engine.dispose()
    keys = ("conversations", "involved", "resolved_confirmed", "resolved_assumed", "bot_resolution_rate",
            "resolutions_withdrawn", "pending", "handed_off", "handoff_rate", "handoffs", "csat_count", "csat_average",
            "first_response_seconds_p50", "handling_seconds_p50", "unanswered_total")
    return {"now": {k: now[k] for k in keys}, "after_24h": {k: later[k] for k in keys},
            "top_unanswered": later["unanswered"][:10], "topics": later["topics"][:12]}


def _print(out: Dict[str, Any]) -> None:
    a, n = out["after_24h"], out["now"]
    print("\nResolution mix:", json.dumps(out["mix"]["personas"]), f"({out['seconds']} s)")
    print(f"  conversations           {a['conversations']}")
    print(f"  involved                {a['involved']}")
    print(f"  bot resolution          {a['bot_resolution_rate']}  (confirmed {a['resolved_confirmed']}, "
          f"assumed {a['resolved_assumed']} once 24 h have passed; withdrawn {a['resolutions_withdrawn']})")
    print(f"  right now               confirmed {n['resolved_confirmed']}, pending {n['pending']}")
    if a["involved"]:
        before = (a["resolved_confirmed"] + a["resolved_assumed"] + a["resolutions_withdrawn"]) / a["involved"]
        print(f"  before withdrawal       {round(before, 4)}  (the account buyers are the 4 demo buyers, so their "
              "repeat questions withdraw each other's resolutions; distinct buyers would not)")
    print(f"  handoff rate            {a['handoff_rate']}  {json.dumps(a['handoffs'])}")
    print(f"  CSAT                    {a['csat_average']} over {a['csat_count']} ratings")
    print(f"  agent first response    {a['first_response_seconds_p50']} s (median), handling {a['handling_seconds_p50']} s "
          "(a scripted agent works the queue once the mix is done)")
    print(f"  unanswered              {a['unanswered_total']}")
    for u in out["top_unanswered"]:
        print(f"      {u['count']:3d}  {u['text']}")
    print("  topics (volume / resolved):")
    for t in out["topics"]:
        print(f"      {t['volume']:3d} / {t['resolved']:3d}  {t['topic']}")
    if out["mix"]["errors"]:
        print(f"  errors: {len(out['mix']['errors'])}, e.g. {out['mix']['errors'][:3]}")


if __name__ == "__main__":
    raise SystemExit(main())
