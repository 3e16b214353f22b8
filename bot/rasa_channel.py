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
        bp = super().blueprint(on_new_message)

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
