"""One fault at a time on the running stack, with buyers and an agent talking through it.

For each fault: inject it while a round of messages is in flight (and keep talking while it
lasts), undo it (or let the supervisor restart the killed part), wait until /health/ready says
every part is back, then talk once more — the conversation must go on with a real answer —
and check the ledger (chaos/traffic.py `check`). One line per fault, then
`faults survived N/M, messages lost L, duplicated D`.
"""
from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Dict, List, Optional

import aiohttp

from .env import Environment
from .traffic import Agent, Buyer, GaveUp, Sent, Verdict, Watcher, check


@dataclass
class Fault:
    name: str
    what: str
    inject: Callable[["Chaos"], Awaitable[None]]   # starts the fault (may return at once)
    recover: Callable[["Chaos"], Awaitable[None]]  # ends it (or nothing: the supervisor restarts)
    rounds_during: int = 1
    gap_s: float = 2.0


class Chaos:
    def __init__(self, env: Environment, say: Callable[[str], None] = print, redis_down_s: float = 30.0,
                 backend_slow_s: float = 10.0):
        self.env = env
        self.stack = env.stack
        self.say = say
        self.redis_down_s = redis_down_s
        self.backend_slow_s = backend_slow_s
        base = self.stack.gateway
        self.bot_buyers = [Buyer(base, "buyer-001", "buyer-001"), Buyer(base, "buyer-002", "buyer-002"),
                           Buyer(base, None, "anonymous")]
        self.agent_buyer = Buyer(base, "buyer-004", "buyer-004 (with the agent)")
        self.agent = Agent(base)
        self.watcher: Optional[Watcher] = None
        self.session: Optional[aiohttp.ClientSession] = None
        self.totals = {"sent": 0, "lost": 0, "duplicated": 0}
        self.injected_at = 0.0

    async def hold(self, seconds: float) -> None:
        """Keep the fault on until `seconds` after it was injected."""
        await asyncio.sleep(max(0.0, self.injected_at + seconds - time.monotonic()))

    # ------------------------------------------------------------------ traffic
    async def setup(self) -> None:
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        for b in [*self.bot_buyers, self.agent_buyer]:
            await b.open(self.session)
        await self.agent.sign_in(self.session)
        await self.agent.take(self.session, self.agent_buyer.conv["id"])
        self.agent_buyer.with_agent = True
        self.watcher = Watcher(self.agent_buyer)
        self.watcher.start(self.session)

    async def close(self) -> None:
        if self.watcher:
            await self.watcher.stop()
        if self.session:
            await self.session.close()

    async def round(self) -> List[Sent]:
        """Every buyer says something; the agent answers its buyer."""
        s = self.session
        jobs = [b.say(s) for b in self.bot_buyers] + [self.agent_buyer.say(s)]
        results = await asyncio.gather(*jobs, self.agent.reply(s, self.agent_buyer.conv["id"]), return_exceptions=True)
        sent = [r for r in results[:-1] if isinstance(r, Sent)]
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
        return sent

    async def continues(self, timeout_s: float = 180) -> List[Sent]:
        """After recovery every bot conversation gets a real answer (not the apology)."""
        out: List[Sent] = []
        for b in self.bot_buyers:
            end = time.monotonic() + timeout_s
            while True:
                sent = await b.say(self.session)
                out.append(sent)
                if "bot" in sent.reply_senders and "bot_unavailable" not in sent.reply_kinds and sent.state == "bot":
                    break
                if sent.state == "queued":  # the bot handed the buyer to a person: an agent gives it back
                    await self.agent.hand_back(self.session, b.conv["id"])
                if time.monotonic() > end:
                    raise GaveUp(f"{b.name}: only apologies {timeout_s:.0f} s after recovery")
                await asyncio.sleep(3)
        return out

    async def ledger(self, sent: List[Sent], replies_from: int) -> Verdict:
        await asyncio.sleep(2)  # live updates in flight reach the socket
        histories = {b.conv["id"]: await b.history(self.session) for b in [*self.bot_buyers, self.agent_buyer]}
        agent = Agent(self.agent.base)
        agent.replies = self.agent.replies[replies_from:]
        deadline = time.monotonic() + 20  # the socket may be reconnecting (after=) right now
        v = check(sent, histories, agent, self.watcher)
        while v.undelivered and time.monotonic() < deadline:
            await asyncio.sleep(1)
            v = check(sent, histories, agent, self.watcher)
        return v

    # ------------------------------------------------------------------ faults
    def kill9(self, part: str) -> Callable[["Chaos"], Awaitable[None]]:
        async def inject(c: "Chaos") -> None:
            pid = c.stack.pid(part)
            os.kill(pid, signal.SIGKILL)
            c.say(f"  kill -9 {part} (pid {pid})")
        return inject

    async def run_fault(self, fault: Fault) -> bool:
        started = time.monotonic()
        replies_from = len(self.agent.replies)
        sent: List[Sent] = []
        try:
            first = asyncio.create_task(self.round())  # mid-conversation: messages in flight
            await asyncio.sleep(0.3)
            self.injected_at = time.monotonic()
            await fault.inject(self)
            # the fault ends on its own clock (clients keep retrying meanwhile, as people would)
            recovery = asyncio.create_task(fault.recover(self))
            sent += await first
            for _ in range(fault.rounds_during - 1):
                await asyncio.sleep(fault.gap_s)
                sent += await self.round()
            await recovery
            back_s = await asyncio.to_thread(self.stack.wait_ready, 300)
            sent += await self.continues()
            sent += await self.round()
            v = await self.ledger(sent, replies_from)
        except Exception as exc:  # the fault was not survived: say why, keep going with the next
            self.say(f"FAIL {fault.name:<22} {fault.what}: {type(exc).__name__}: {exc}")
            try:
                await fault.recover(self)
                await asyncio.to_thread(self.stack.wait_ready, 300)
            except Exception:
                pass
            return False
        apologies = sum(1 for s in sent if "bot_unavailable" in s.reply_kinds)
        slowest = max((s.seconds for s in sent), default=0)
        self.totals["sent"] += len(sent) + len(self.agent.replies) - replies_from
        self.totals["lost"] += v.lost + v.unanswered + v.undelivered
        self.totals["duplicated"] += v.duplicated
        status = "ok  " if v.ok else "FAIL"
        self.say(f"{status} {fault.name:<22} {fault.what}: {len(sent)} buyer messages + "
                 f"{len(self.agent.replies) - replies_from} agent replies, lost {v.lost + v.unanswered + v.undelivered}, "
                 f"duplicated {v.duplicated}, apologies {apologies}, slowest answer {slowest:.1f} s, "
                 f"ready again after {back_s:.1f} s, {time.monotonic() - started:.0f} s in all")
        for p in v.problems[:10]:
            self.say(f"     {p}")
        return v.ok


async def _nothing(c: Chaos) -> None:
    return None


def faults(c: Chaos) -> Dict[str, Fault]:
    pg, redis, stack = c.env.pg, c.env.redis, c.stack

    async def pg_restart(c: Chaos) -> None:
        c.say("  PostgreSQL (private) stopped -m immediate; started again in 5 s")
        await asyncio.to_thread(pg.stop, "immediate")
        await asyncio.sleep(5)
        await asyncio.to_thread(pg.start)

    async def redis_down(c: Chaos) -> None:
        c.say(f"  Redis (private) stopped for {c.redis_down_s:.0f} s")
        await asyncio.to_thread(redis.stop)

    async def redis_up(c: Chaos) -> None:
        await c.hold(c.redis_down_s)
        if redis.proc is None:
            await asyncio.to_thread(redis.start)

    async def backend_slow(c: Chaos) -> None:
        pid = stack.pid("backend")
        os.kill(pid, signal.SIGSTOP)  # accepts connections (the kernel queues them), answers nothing
        c.say(f"  backend frozen (SIGSTOP pid {pid}): it answers after {c.backend_slow_s:.0f} s")
        c._frozen = pid  # type: ignore[attr-defined]

    async def backend_thaw(c: Chaos) -> None:
        await c.hold(c.backend_slow_s)
        pid = getattr(c, "_frozen", None)
        if pid:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    async def gw_readonly(c: Chaos) -> None:
        c.say("  gateway database read-only (default_transaction_read_only, open sessions ended) for 15 s")
        await asyncio.to_thread(pg.sql, "postgres", "ALTER DATABASE gateway SET default_transaction_read_only = on")
        await asyncio.to_thread(pg.sql, "postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                                    "WHERE datname = 'gateway' AND pid <> pg_backend_pid()")

    async def gw_writable(c: Chaos) -> None:
        await c.hold(15)
        await asyncio.to_thread(pg.sql, "postgres", "ALTER DATABASE gateway SET default_transaction_read_only = off")
        await asyncio.to_thread(pg.sql, "postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                                    "WHERE datname = 'gateway' AND pid <> pg_backend_pid()")

    return {f.name: f for f in [
        Fault("kill-rasa", "kill -9 of Rasa mid-conversation", c.kill9("rasa"), _nothing),
        Fault("kill-actions", "kill -9 of the action server", c.kill9("actions"), _nothing),
        Fault("kill-backend", "kill -9 of the backend API", c.kill9("backend"), _nothing),
        Fault("kill-gateway", "kill -9 of the gateway mid-message", c.kill9("gateway"), _nothing),
        Fault("postgres-restart", "PostgreSQL restart (private cluster)", pg_restart, _nothing),
        Fault("redis-down", f"Redis unavailable for {c.redis_down_s:.0f} s", redis_down, redis_up, rounds_during=3),
        Fault("backend-slow", f"backend answers after {c.backend_slow_s:.0f} s", backend_slow, backend_thaw),
        Fault("gateway-db-readonly", "gateway database read-only for 15 s", gw_readonly, gw_writable, rounds_during=3),
    ]}


ALL = ["kill-rasa", "kill-actions", "kill-backend", "kill-gateway", "postgres-restart", "redis-down",
       "backend-slow", "gateway-db-readonly"]


async def run(env: Environment, names: List[str], say: Callable[[str], None] = print, **kw) -> Dict[str, object]:
    c = Chaos(env, say, **kw)
    table = faults(c)
    await c.setup()
    survived = 0
    try:
        for name in names:
            if await c.run_fault(table[name]):
                survived += 1
    finally:
        await c.close()
    line = (f"faults survived {survived}/{len(names)}, messages lost {c.totals['lost']}, "
            f"duplicated {c.totals['duplicated']}")
    say(line)
    return {"survived": survived, "faults": len(names), **c.totals, "line": line}
