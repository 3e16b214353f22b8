"""Rasa's REST channel, reachable only by the gateway.

Rasa's built-in `rest` channel accepts any sender id from anyone who can reach :5005, so whoever
knows a conversation id could write into it. This channel serves the same URL
(`POST /webhooks/rest/webhook`, same body and answer) but requires the header
`X-Paylater-Channel-Token: <PAYLATER_RASA_TOKEN>` (the secret the gateway already holds for
Rasa's HTTP API), and refuses bodies that are not a bounded JSON object with a string sender
and message. Without PAYLATER_RASA_TOKEN in Rasa's environment it refuses every request.

credentials.yml:   bot.rasa_channel.GatewayRestInput:
"""
from __future__ import annotations

import contextlib
import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot import jsonsafe

log = logging.getLogger(__name__)

HEADER = "X-Paylater-Channel-Token"
MAX_BODY = 64 * 1024
MAX_SENDER = 128


def authorized(header: Optional[str], secret: Optional[str]) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(header.encode(), secret.encode())


TURN_ATTR = "paylater_turn"


def turn_of(parse_data: Any) -> Optional[dict]:
    """What the gateway's analytics need of Rasa's reading of a buyer message: the intent, and
    for a retrieval intent (faq) which answer."""
    if not isinstance(parse_data, dict):
        return None
    intent = (parse_data.get("intent") or {}).get("name")
    if not intent:
        return None
    turn = {"intent": str(intent)}
    selectors = parse_data.get("response_selector") or {}
    selector = selectors.get(intent) or selectors.get("default") or {}
    key = ((selector.get("response") or {}).get("intent_response_key"))
    if key:
        turn["topic"] = str(key)
    return turn


def install_turn_note() -> None:
    """After Rasa reads a message, note the turn on its output channel (one attribute, no I/O);
    the channel appends it to the REST answer as {"custom": {"turn": {...}}} (the gateway
    removes it before the buyer sees anything)."""
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor._handle_message_with_tracker
    if getattr(original, "_paylater", False):
        return

    async def handle(self, message, tracker):
        await original(self, message, tracker)
        with contextlib.suppress(Exception):
            setattr(message.output_channel, TURN_ATTR, turn_of(tracker.latest_message.parse_data))

    handle._paylater = True
    MessageProcessor._handle_message_with_tracker = handle


def with_turn(on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[UserMessage], Awaitable[Any]]:
    """Handle the message, then append the noted turn to the collected answer (REST channel)."""
    async def handle(message: UserMessage) -> Any:
        result = await on_new_message(message)
        turn = getattr(message.output_channel, TURN_ATTR, None)
        messages = getattr(message.output_channel, "messages", None)
        if turn and isinstance(messages, list):
            messages.append({"recipient_id": message.sender_id, "custom": {"turn": turn}})
        return result
    return handle


class GatewayRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def __init__(self, secret: Optional[str] = None) -> None:
        self.secret = secret if secret is not None else os.environ.get("PAYLATER_RASA_TOKEN") or None
        if not self.secret:
            log.error("PAYLATER_RASA_TOKEN is not set: the REST channel refuses every message")

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> "GatewayRestInput":
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        install_turn_note()
        bp = super().blueprint(with_turn(on_new_message))

        @bp.middleware("request")
        async def guard(request: Request):
            if request.method != "POST":
                return None
            if not authorized(request.headers.get(HEADER), self.secret):
                return response.json({"error": "unauthorized", "message": "This channel is for the gateway only."},
                                     status=401)
            try:
                body = jsonsafe.loads(request.body or b"", max_bytes=MAX_BODY)
            except jsonsafe.JSONInputError as exc:
                return response.json({"error": exc.code, "message": exc.message},
                                     status=413 if exc.code == "body_too_large" else 400)
            sender, message = (body.get("sender"), body.get("message")) if isinstance(body, dict) else (None, None)
            if not (isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER and isinstance(message, str)):
                return response.json({"error": "invalid_request",
                                      "message": "Send {\"sender\": <id>, \"message\": <text>, \"metadata\"?: {...}}."},
                                     status=400)
            if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
                return response.json({"error": "invalid_request", "message": "metadata must be an object."}, status=400)
            return None

        return bp
