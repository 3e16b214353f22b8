"""App keys and small HTTP helpers shared by the gateway's handlers."""
from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any, Dict, Optional
from urllib.parse import urlparse

from aiohttp import web

from bot.config import Settings

from .db import AsyncStore
from .rasa import RasaClient
from .security import RateLimiter
from .service import ConversationService
from .settings import GatewaySettings

SETTINGS = web.AppKey("settings", Settings)
GW = web.AppKey("gateway_settings", GatewaySettings)
STORE = web.AppKey("store", AsyncStore)
BUS = web.AppKey("broadcaster", object)
RASA = web.AppKey("rasa", RasaClient)
SERVICE = web.AppKey("service", ConversationService)
RATE = web.AppKey("rate_limiter", RateLimiter)
LOGIN_RATE = web.AppKey("login_rate_limiter", RateLimiter)
LOGIN_IP_RATE = web.AppKey("login_ip_rate_limiter", RateLimiter)
# scrypt costs ~50 ms and 16 MiB: at most this many at once, so a flood of sign-ins cannot
# take every worker thread the database calls also use.
PASSWORD_CHECKS = web.AppKey("password_checks", asyncio.Semaphore)
SOCKETS = web.AppKey("sockets", weakref.WeakSet)

MAX_BODY = 64 * 1024


def json_error(status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


class ApiError(Exception):
    """Raised by handlers; rendered as {"error", "message"} JSON by the middleware."""

    def __init__(self, status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.status_code, self.code, self.message_text = status, code, message
        self.headers = dict(headers or {})


async def read_json(request: web.Request) -> Dict[str, Any]:
    if request.content_length and request.content_length > MAX_BODY:
        raise ApiError(413, "body_too_large", "The request body is too large.")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


def validate_text(text: Any, limit: int, field: str = "text") -> str:
    if not isinstance(text, str):
        raise ApiError(400, "empty_message", f"`{field}` must be a non-empty string.")
    text = text.strip()
    if not text:
        raise ApiError(400, "empty_message", "The message is empty: type something first.")
    if len(text) > limit:
        raise ApiError(413, "message_too_long",
                       f"Messages can be at most {limit:,} characters (this one has {len(text):,}). "
                       "Please shorten it or split it into several messages.")
    return text


def origin_allowed(request: web.Request, origin: Optional[str], allowed) -> bool:
    """Exact match against the allowed list; same-origin always passes. No regex."""
    if not origin:
        return False
    origin = origin.rstrip("/")
    if origin in allowed:
        return True
    parsed = urlparse(origin)
    return parsed.scheme in ("http", "https") and parsed.netloc == request.host


def csp(frame_ancestors: str = "'none'") -> str:
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}")
