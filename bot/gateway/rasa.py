"""Talking to Rasa: the REST channel for messages, the HTTP API for pausing the tracker."""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

import aiohttp

from .rasa_http import ConnectFailed, HttpError, LeanHttp
from .rich import custom_message

log = logging.getLogger(__name__)

# Rasa's channel (bot/rasa_channel.py) accepts messages only with the Rasa token in this header.
CHANNEL_HEADER = "X-Paylater-Channel-Token"


class RasaUnavailable(Exception):
    """Rasa errored, timed out, or answered nothing (e.g. the action server was down and Rasa
    dropped the action's events silently)."""


@dataclass
class BotReply:
    # {"text", "buttons", "data"?} for the buyer; `data` is a structured message (bot/gateway/rich.py)
    messages: List[Dict[str, Any]] = field(default_factory=list)
    handoff: Optional[Dict[str, Any]] = None  # the custom handoff payload, if any
    turn: Optional[Dict[str, Any]] = None  # Rasa's reading of the buyer message (bot/rasa_channel.py), removed


def parse_reply(items: Any) -> BotReply:
    """Split Rasa's REST answer into what the buyer sees and the handoff payload (removed)."""
    reply = BotReply()
    if not isinstance(items, list):
        raise RasaUnavailable(f"unexpected answer: {type(items).__name__}")
    for item in items:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            reply.handoff = custom["handoff"]
            custom = None
        elif isinstance(custom, dict) and isinstance(custom.get("turn"), dict):
            reply.turn = custom["turn"]
            continue
        rich = custom_message(custom)  # a table (+ its text version), or None
        text = item.get("text") or (rich or {}).get("text")
        buttons = []
        for b in item.get("buttons") or []:
            if isinstance(b, dict) and b.get("title") and b.get("payload"):
                buttons.append({"title": str(b["title"])[:200], "payload": str(b["payload"])[:500]})
        if text or buttons:
            message: Dict[str, Any] = {"text": str(text or ""), "buttons": buttons}
            if rich and rich.get("data"):
                message["data"] = rich["data"]
            reply.messages.append(message)
        elif item.get("image"):
            reply.messages.append({"text": str(item["image"]), "buttons": []})
    return reply


# Answers that prove the request never reached a Rasa replica (a proxy in front of a dead one).
_NOT_DELIVERED = {502, 503, 504}
_SKIP_FAILED_S = 10.0


def replica_order(conversation_id: str, urls: Sequence[str]) -> List[str]:
    """Rasa URLs by preference for this conversation: [0] is its replica, then the failovers.

    Rendezvous hashing on SHA-256: the same on every gateway process and after restarts (not
    Python's salted hash()), and adding or removing a replica moves only its own conversations.
    Pinning matters because Rasa's RedisLockStore is not atomic across replicas (rasa#9213).
    """

    def score(url: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{url}|{conversation_id}".encode()).digest()[:8], "big")

    return sorted(urls, key=score, reverse=True)


class _NotDelivered(Exception):
    """The request cannot have reached Rasa: safe to send it to the next replica."""


class RasaClient:
    """`lean`: the message itself goes through rasa_http.LeanHttp (plain http URLs only; the
    tracker calls and https stay on `session`). PAYLATER_GATEWAY_LEAN_RASA=0 turns it off."""

    def __init__(self, session: aiohttp.ClientSession, base_urls: Union[str, Sequence[str]], token: Optional[str],
                 timeout_s: float = 10.0, tracker_timeout_s: float = 5.0, lean: Optional[bool] = None):
        self.session = session
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        self.base_urls = [u.rstrip("/") for u in urls]
        if not self.base_urls:
            raise ValueError("at least one Rasa URL is needed")
        self.token = token
        if lean is None:
            lean = os.environ.get("PAYLATER_GATEWAY_LEAN_RASA", "1") != "0"
        self.lean = LeanHttp() if lean and all(u.startswith("http://") for u in self.base_urls) else None
        self.timeout_s = timeout_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.tracker_timeout = aiohttp.ClientTimeout(total=tracker_timeout_s)
        self._failed_at: Dict[str, float] = {}

    def replicas_for(self, sender: str) -> List[str]:
        """This conversation's replica first; replicas that just failed go last."""
        if len(self.base_urls) == 1:  # one replica: nothing to choose (and no hashing per message)
            return list(self.base_urls)
        order = replica_order(sender, self.base_urls)
        now = time.monotonic()
        fresh = [u for u in order if now - self._failed_at.get(u, -_SKIP_FAILED_S) >= _SKIP_FAILED_S]
        return fresh + [u for u in order if u not in fresh]

    async def _post(self, sender: str, path: str, timeout: aiohttp.ClientTimeout, **kwargs) -> tuple:
        """POST to the conversation's replica, failing over only when nothing was delivered.
        A read timeout is never retried elsewhere: Rasa may be processing the message."""
        last: Optional[BaseException] = None
        for base in self.replicas_for(sender):
            try:
                async with self.session.post(f"{base}{path}", timeout=timeout, **kwargs) as resp:
                    if resp.status in _NOT_DELIVERED and len(self.base_urls) > 1:
                        raise _NotDelivered(f"HTTP {resp.status}")
                    body = await resp.read()
                    self._failed_at.pop(base, None)
                    return resp.status, body
            except (aiohttp.ClientConnectorError, _NotDelivered) as exc:
                log.warning("Rasa replica %s unreachable for %s: %r", base, sender, exc)
                self._failed_at[base] = time.monotonic()
                last = exc
        assert last is not None
        raise last

    async def _post_lean(self, sender: str, path: str, body: bytes, headers: Dict[str, str]) -> tuple:
        """_post through LeanHttp: the same replica order, and the same failover (only when the
        connection could not be opened or a proxy says the replica is not there)."""
        last: Optional[BaseException] = None
        for base in self.replicas_for(sender):
            try:
                status, raw = await self.lean.post(f"{base}{path}", body, headers, self.timeout_s)
                if status in _NOT_DELIVERED and len(self.base_urls) > 1:
                    raise _NotDelivered(f"HTTP {status}")
                self._failed_at.pop(base, None)
                return status, raw
            except (ConnectFailed, _NotDelivered) as exc:
                log.warning("Rasa replica %s unreachable for %s: %r", base, sender, exc)
                self._failed_at[base] = time.monotonic()
                last = exc
        assert last is not None
        raise last

    async def send(self, sender: str, text: str, metadata: Dict[str, Any]) -> BotReply:
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            if self.lean is not None:
                status, raw = await self._post_lean(sender, "/webhooks/rest/webhook", json.dumps(body).encode(),
                                                    {CHANNEL_HEADER: self.token} if self.token else {})
            else:
                headers = {CHANNEL_HEADER: self.token} if self.token else None
                status, raw = await self._post(sender, "/webhooks/rest/webhook", self.timeout, json=body,
                                               headers=headers)
            if status != 200:
                raise RasaUnavailable(f"HTTP {status}")
            items = json.loads(raw)
        except asyncio.TimeoutError as exc:
            raise RasaUnavailable("timeout") from exc
        except (aiohttp.ClientError, HttpError, _NotDelivered, ValueError) as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        reply = parse_reply(items)
        if not reply.messages and reply.handoff is None:
            raise RasaUnavailable("empty reply")
        return reply

    def close(self) -> None:
        """Close the kept connections of the lean client (the aiohttp session is the app's)."""
        if self.lean is not None:
            self.lean.close()

    async def append_events(self, sender: str, events: List[Dict[str, Any]]) -> bool:
        """Append Rasa events (e.g. a `slot` and a `bot` utterance for a proactive message, so the
        buyer's next "when exactly?" is read in that context). Best effort, like tracker_event."""
        params = {"token": self.token} if self.token else None
        try:
            status, _ = await self._post(sender, f"/conversations/{sender}/tracker/events", self.tracker_timeout,
                                         params=params, json=events)
        except (asyncio.TimeoutError, aiohttp.ClientError, _NotDelivered) as exc:
            log.warning("appending %d tracker events for %s failed: %r", len(events), sender, exc)
            return False
        if status != 200:
            log.warning("appending tracker events for %s: HTTP %s", sender, status)
            return False
        return True

    async def tracker_event(self, sender: str, event: str) -> bool:
        """Append `pause` / `resume` to the conversation's tracker. Failures are logged, not
        raised: the gateway routes by its own state, the tracker event is the record in Rasa."""
        params = {"token": self.token} if self.token else None
        try:
            status, _ = await self._post(
                sender, f"/conversations/{sender}/tracker/events", self.tracker_timeout, params=params, json={"event": event}
            )
        except (asyncio.TimeoutError, aiohttp.ClientError, _NotDelivered) as exc:
            log.warning("tracker %s for %s failed: %r", event, sender, exc)
            return False
        if status != 200:
            log.warning("tracker %s for %s: HTTP %s", event, sender, status)
            return False
        return True
