"""Talking to Rasa: the REST channel for messages, the HTTP API for pausing the tracker."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa errored, timed out, or answered nothing (e.g. the action server was down and Rasa
    dropped the action's events silently)."""


@dataclass
class BotReply:
    messages: List[Dict[str, Any]] = field(default_factory=list)  # {"text", "buttons"} for the buyer
    handoff: Optional[Dict[str, Any]] = None  # the custom handoff payload, if any


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
        text = item.get("text")
        buttons = []
        for b in item.get("buttons") or []:
            if isinstance(b, dict) and b.get("title") and b.get("payload"):
                buttons.append({"title": str(b["title"])[:200], "payload": str(b["payload"])[:500]})
        if text or buttons:
            reply.messages.append({"text": str(text or ""), "buttons": buttons})
        elif item.get("image"):
            reply.messages.append({"text": str(item["image"]), "buttons": []})
    return reply


class RasaClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: Optional[str],
                 timeout_s: float = 10.0, tracker_timeout_s: float = 5.0):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.tracker_timeout = aiohttp.ClientTimeout(total=tracker_timeout_s)

    async def send(self, sender: str, text: str, metadata: Dict[str, Any]) -> BotReply:
        url = f"{self.base_url}/webhooks/rest/webhook"
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            async with self.session.post(url, json=body, timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"HTTP {resp.status}")
                items = await resp.json(content_type=None)
        except asyncio.TimeoutError as exc:
            raise RasaUnavailable("timeout") from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        reply = parse_reply(items)
        if not reply.messages and reply.handoff is None:
            raise RasaUnavailable("empty reply")
        return reply

    async def tracker_event(self, sender: str, event: str) -> bool:
        """Append `pause` / `resume` to the conversation's tracker. Failures are logged, not
        raised: the gateway routes by its own state, the tracker event is the record in Rasa."""
        url = f"{self.base_url}/conversations/{sender}/tracker/events"
        params = {"token": self.token} if self.token else None
        try:
            async with self.session.post(url, params=params, json={"event": event}, timeout=self.tracker_timeout) as resp:
                if resp.status != 200:
                    log.warning("tracker %s for %s: HTTP %s", event, sender, resp.status)
                    return False
                return True
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            log.warning("tracker %s for %s failed: %r", event, sender, exc)
            return False
