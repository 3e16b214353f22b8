"""Buyers and an agent talking to the real gateway, the way the widget and the console do,
and the ledger that says afterwards whether anything was lost or doubled.

- A `Buyer` sends each message with a client message id and sends it again, same id, after
  any network error, 5xx, 408 or 429 (back-off 0.5 … 5 s), as the widget does.
- The `Watcher` is the buyer-with-an-agent's WebSocket: it reconnects with `after` = the last
  id it saw (as the widget does) and records every message id it is shown.
- The `Agent` signs in to the console, takes that buyer's conversation and replies. The
  console sends no message ids, so before sending a reply again after an error it looks in the
  conversation whether the first attempt was stored (a careful agent would look too).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

import aiohttp

from bot.auth import mint_buyer_token
from bot.config import DEMO_JWT_SECRET

TRANSIENT = {408, 429, 500, 502, 503, 504}
QUESTIONS = ["what is pay later", "is there a processing fee", "show my orders", "what is my credit limit",
             "how long does the money take to reach the supplier", "which currency can I use"]
_seq = itertools.count(1)


class GaveUp(Exception):
    pass


@dataclass
class Sent:
    conversation: str
    text: str
    client_message_id: str
    with_agent: bool
    reply_senders: List[str] = field(default_factory=list)
    reply_kinds: List[Optional[str]] = field(default_factory=list)
    attempts: int = 0
    seconds: float = 0.0
    state: str = "bot"  # the conversation's state after it: "queued" = handed to a person


async def _request(session: aiohttp.ClientSession, method: str, url: str, deadline_s: float, **kw) -> dict:
    """Retry on network errors and transient statuses until `deadline_s`: the body of the 2xx."""
    end = time.monotonic() + deadline_s
    delay = 0.5
    last = ""
    while True:
        try:
            async with session.request(method, url, timeout=aiohttp.ClientTimeout(total=60), **kw) as r:
                body = await r.json(content_type=None)
                if r.status < 300:
                    return body or {}
                if r.status not in TRANSIENT:
                    raise GaveUp(f"{method} {url}: HTTP {r.status} {body}")
                last = f"HTTP {r.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError, json.JSONDecodeError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() + delay > end:
            raise GaveUp(f"{method} {url}: still failing after {deadline_s:.0f} s ({last})")
        await asyncio.sleep(delay)
        delay = min(5.0, delay * 2)


class Buyer:
    def __init__(self, base: str, buyer_id: Optional[str], name: str):
        self.base, self.buyer_id, self.name = base, buyer_id, name
        self.token = mint_buyer_token(buyer_id, DEMO_JWT_SECRET, ttl_s=6 * 3600) if buyer_id else None
        self.conv: Optional[dict] = None
        self.conversation_token: Optional[str] = None
        self.with_agent = False

    def headers(self) -> Dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        return {"X-Conversation-Token": self.conversation_token} if self.conversation_token else {}

    async def open(self, session: aiohttp.ClientSession) -> None:
        self.conv = await _request(session, "POST", f"{self.base}/v1/conversations", 120, json={"client": "web"},
                                   headers=self.headers())
        self.conversation_token = self.conv.get("conversation_token")

    async def say(self, session: aiohttp.ClientSession, text: Optional[str] = None, deadline_s: float = 240) -> Sent:
        text = text or f"{QUESTIONS[next(_seq) % len(QUESTIONS)]} (ref {uuid.uuid4().hex[:6]})"
        sent = Sent(self.conv["id"], text, str(uuid.uuid4()), self.with_agent)
        started = time.monotonic()
        body = await _request(session, "POST", f"{self.base}/v1/conversations/{self.conv['id']}/messages", deadline_s,
                              json={"text": text, "client_message_id": sent.client_message_id}, headers=self.headers())
        sent.seconds = time.monotonic() - started
        msgs = body.get("messages") or []
        sent.state = (body.get("conversation") or {}).get("state", "bot")
        sent.reply_senders = [m["sender"] for m in msgs[1:]]
        sent.reply_kinds = [m.get("kind") for m in msgs[1:]]
        return sent

    async def history(self, session: aiohttp.ClientSession) -> List[dict]:
        """The whole conversation, page by page (`after` = the last id; a page holds at most 500)."""
        out: List[dict] = []
        while True:
            after = out[-1]["id"] if out else 0
            body = await _request(session, "GET", f"{self.base}/v1/conversations/{self.conv['id']}/messages?after={after}",
                                  120, headers=self.headers())
            if not body["messages"]:
                return out
            out += body["messages"]


class Watcher:
    """A buyer's live view: the WebSocket, resumed with `after` after every drop."""

    def __init__(self, buyer: Buyer):
        self.buyer = buyer
        self.seen: Set[int] = set()
        self.last_id = 0
        self.reconnects = 0
        self._task: Optional[asyncio.Task] = None

    def start(self, session: aiohttp.ClientSession) -> None:
        self._task = asyncio.create_task(self._run(session))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    def _saw(self, m: dict) -> None:
        self.seen.add(m["id"])
        self.last_id = max(self.last_id, m["id"])

    async def _run(self, session: aiohttp.ClientSession) -> None:
        b = self.buyer
        url = f"{b.base.replace('http', 'ws', 1)}/v1/conversations/{b.conv['id']}/ws"
        delay = 0.5
        while True:
            try:
                async with session.ws_connect(url, heartbeat=10, timeout=10) as ws:
                    await ws.send_json({"type": "auth", "token": b.token, "after": self.last_id})
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            continue
                        d = json.loads(msg.data)
                        if d.get("type") == "ready":
                            delay = 0.5
                            for m in d.get("messages") or []:
                                self._saw(m)
                        elif d.get("type") == "message":
                            self._saw(d["message"])
            except asyncio.CancelledError:
                raise
            except Exception:
                pass
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(5.0, delay * 2)


class Agent:
    def __init__(self, base: str, username: str = "agent", password: str = "agent-demo-password"):
        self.base, self.username, self.password = base, username, password
        self.csrf: Optional[str] = None
        self.replies: List[dict] = []  # {"conversation", "text", "id"}

    async def sign_in(self, session: aiohttp.ClientSession) -> None:
        pre = (await _request(session, "GET", f"{self.base}/console/api/csrf", 120))["csrf_token"]
        body = await _request(session, "POST", f"{self.base}/console/api/login", 120,
                              json={"username": self.username, "password": self.password}, headers={"X-CSRF-Token": pre})
        self.csrf = body["csrf_token"]

    async def take(self, session: aiohttp.ClientSession, cid: str) -> None:
        await _request(session, "POST", f"{self.base}/console/api/conversations/{cid}/claim", 120,
                       headers={"X-CSRF-Token": self.csrf})

    async def hand_back(self, session: aiohttp.ClientSession, cid: str) -> None:
        """A conversation the bot handed to a person: take it and give it back to the bot."""
        await self.take(session, cid)
        await _request(session, "POST", f"{self.base}/console/api/conversations/{cid}/handback", 120,
                       headers={"X-CSRF-Token": self.csrf})

    async def _stored(self, session, cid: str, text: str) -> Optional[int]:
        body = await _request(session, "GET", f"{self.base}/console/api/conversations/{cid}", 120)
        return next((m["id"] for m in body["messages"] if m["sender"] == "agent" and m["text"] == text), None)

    async def reply(self, session: aiohttp.ClientSession, cid: str, deadline_s: float = 240) -> None:
        text = f"Agent here, looking into it (ref {uuid.uuid4().hex[:6]})"
        end = time.monotonic() + deadline_s
        delay = 0.5
        while True:
            try:
                async with session.post(f"{self.base}/console/api/conversations/{cid}/messages", json={"text": text},
                                        headers={"X-CSRF-Token": self.csrf}, timeout=aiohttp.ClientTimeout(total=60)) as r:
                    if r.status == 201:
                        self.replies.append({"conversation": cid, "text": text, "id": (await r.json())["message"]["id"]})
                        return
                    if r.status == 401:  # the session was lost with the database: sign in again
                        await self.sign_in(session)
                        continue
                    if r.status not in TRANSIENT:
                        raise GaveUp(f"agent reply: HTTP {r.status} {await r.text()}")
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
                pass
            if time.monotonic() + delay > end:
                raise GaveUp("agent reply: still failing")
            await asyncio.sleep(delay)
            delay = min(5.0, delay * 2)
            try:  # the first attempt may have been stored before the answer was lost
                mid = await self._stored(session, cid, text)
            except GaveUp:
                mid = None
            if mid is not None:
                self.replies.append({"conversation": cid, "text": text, "id": mid})
                return


@dataclass
class Verdict:
    lost: int = 0
    duplicated: int = 0
    unanswered: int = 0
    undelivered: int = 0
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.unanswered or self.undelivered or self.problems)


def check(sent: List[Sent], histories: Dict[str, List[dict]], agent: Optional[Agent], watcher: Optional[Watcher]) -> Verdict:
    """Every message sent stored exactly once; every buyer message to the bot followed by the
    bot's reply (or the apology, which is a bot message too); every agent reply stored once and
    shown on the buyer's live socket."""
    v = Verdict()
    for s in sent:
        hist = histories[s.conversation]
        idx = [i for i, m in enumerate(hist) if m["sender"] == "buyer" and m["text"] == s.text]
        if not idx:
            v.lost += 1
            v.problems.append(f"lost: {s.text!r}")
            continue
        if len(idx) > 1:
            v.duplicated += len(idx) - 1
            v.problems.append(f"stored {len(idx)} times: {s.text!r}")
        if not s.with_agent and s.state == "bot" or "queued" in s.reply_kinds:
            following = []
            for m in hist[idx[0] + 1:]:
                if m["sender"] == "buyer":
                    break
                following.append(m)
            # the bot's answer, the apology with "Talk to a person", or the bot handed the buyer to
            # a person (the queue notice: the agents have the message)
            answered = any(m["sender"] == "bot" or m.get("kind") == "queued" for m in following)
            if not answered or not ("bot" in s.reply_senders or "queued" in s.reply_kinds):
                v.unanswered += 1
                v.problems.append(f"no reply or apology: {s.text!r}")
    for r in (agent.replies if agent else []):
        hist = histories.get(r["conversation"], [])
        n = sum(1 for m in hist if m["sender"] == "agent" and m["text"] == r["text"])
        if n == 0:
            v.lost += 1
            v.problems.append(f"agent reply lost: {r['text']!r}")
        elif n > 1:
            v.duplicated += n - 1
            v.problems.append(f"agent reply stored {n} times: {r['text']!r}")
        if watcher is not None and r["id"] not in watcher.seen:
            v.undelivered += 1
            v.problems.append(f"agent reply not shown to the buyer: {r['text']!r}")
    return v
