"""The gateway's buyer app API as a load target (bot/gateway/app.py):

    POST /v1/conversations                  {"client": "web"}   (Bearer <buyer JWT> or anonymous)
         -> 201 {"id", ..., "conversation_token" (anonymous only)}
    POST /v1/conversations/{id}/messages    {"text": ...}       (Bearer or X-Conversation-Token)
         -> 200 {"conversation": {...}, "messages": [buyer's message, bot replies ...]}
"""
from __future__ import annotations

from typing import Any, Callable, Dict

from bench.load import Request, Target


class GatewayTarget(Target):
    def __init__(self, base_url: str, token_for: Callable[[int], str | None], client: str = "web"):
        self.base = base_url.rstrip("/")
        self.token_for = token_for
        self.client = client

    async def open(self, session, i: int, sender: str) -> Dict[str, Any]:
        token = self.token_for(i)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with session.post(f"{self.base}/v1/conversations", json={"client": self.client}, headers=headers) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 201:
                raise ValueError(f"create conversation: HTTP {resp.status} {str(body)[:200]}")
        if not token:
            headers = {"X-Conversation-Token": body["conversation_token"]}
        return {"url": f"{self.base}/v1/conversations/{body['id']}/messages", "headers": headers}

    def request(self, conv: Dict[str, Any], text: str) -> Request:
        return Request(conv["url"], {"text": text}, conv["headers"])

    def ok(self, body: Any) -> bool:
        msgs = body.get("messages") if isinstance(body, dict) else None
        replies = [m for m in msgs or [] if m.get("sender") in ("bot", "system")]  # system: "queued" after a handoff
        return bool(replies) and all(m.get("kind") != "bot_unavailable" for m in replies)


def reply_messages(body: Any) -> list:
    """The bot's messages in a gateway answer, in Rasa's REST shape ({"text", "buttons"})."""
    msgs = body.get("messages") if isinstance(body, dict) else []
    return [m for m in msgs or [] if m.get("sender") in ("bot", "system")]
