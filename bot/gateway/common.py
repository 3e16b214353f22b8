"""App keys and small HTTP helpers shared by the gateway's handlers."""
from __future__ import annotations

import asyncio
import ipaddress
import weakref
from typing import Any, Dict, Optional
from urllib.parse import urlparse

from aiohttp import web

from bot import jsonsafe
from bot.config import Settings

from .buyer_auth import ConversationAccess, TokenCache
from .db import AsyncStore
from .rasa import RasaClient
from .limits import Limits
from .service import ConversationService
from .settings import GatewaySettings

SETTINGS = web.AppKey("settings", Settings)
GW = web.AppKey("gateway_settings", GatewaySettings)
STORE = web.AppKey("store", AsyncStore)
BUS = web.AppKey("broadcaster", object)
RASA = web.AppKey("rasa", RasaClient)
SERVICE = web.AppKey("service", ConversationService)
LIMITS = web.AppKey("limits", Limits)
# scrypt costs ~50 ms and 16 MiB: at most this many at once, so a flood of sign-ins cannot
# take every worker thread the database calls also use.
PASSWORD_CHECKS = web.AppKey("password_checks", asyncio.Semaphore)
SOCKETS = web.AppKey("sockets", weakref.WeakSet)
METRICS = web.AppKey("metrics", object)  # bot.metrics.GatewayMetrics
ANALYTICS = web.AppKey("analytics", AsyncStore)  # AsyncStore(bot.gateway.analytics.store.AnalyticsStore)
TOKENS = web.AppKey("buyer_tokens", TokenCache)  # verified buyer tokens (buyer_auth.py)
ACCESS = web.AppKey("conversation_access", ConversationAccess)  # who may use a conversation (buyer_auth.py)

MAX_BODY = 64 * 1024
# Message ids are 32-bit integers in the gateway's tables.
MAX_MESSAGE_ID = 2**31 - 1


def json_error(status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


class ApiError(Exception):
    """Raised by handlers; rendered as {"error", "message"} JSON by the middleware."""

    def __init__(self, status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.status_code, self.code, self.message_text = status, code, message
        self.headers = dict(headers or {})


def parse_json(raw, *, max_bytes: int = MAX_BODY) -> Dict[str, Any]:
    """A JSON object, bounded in size and nesting depth; anything else is a clear 400/413."""
    try:
        body = jsonsafe.loads(raw, max_bytes=max_bytes)
    except jsonsafe.JSONInputError as exc:
        status = 413 if exc.code == "body_too_large" else 400
        raise ApiError(status, exc.code, exc.message if status == 413 or exc.code != "invalid_json"
                       else "The body must be a JSON object.")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


async def read_json(request: web.Request) -> Dict[str, Any]:
    if request.content_length and request.content_length > MAX_BODY:
        raise ApiError(413, "body_too_large", "The request body is too large.")
    if request.content.is_eof():  # already received whole (the usual small JSON body): nothing to wait for
        return parse_json(await request.read())
    try:  # a body trickled in byte by byte must not hold the connection forever
        raw = await asyncio.wait_for(request.read(), timeout=request.app[GW].body_timeout_s)
    except asyncio.TimeoutError:
        raise ApiError(408, "body_timeout", "The request body arrived too slowly.", headers={"Connection": "close"})
    return parse_json(raw)


def message_id(value: Any, field: str = "after") -> int:
    """A message id cursor: a whole number from 0 to MAX_MESSAGE_ID (else a 400, never a 500)."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        value = None
    try:
        number = int(value) if isinstance(value, int) or (isinstance(value, str) and len(value) <= 12) else None
    except ValueError:
        number = None
    if number is None or not 0 <= number <= MAX_MESSAGE_ID:
        raise ApiError(400, f"invalid_{field}", f"`{field}` must be a message id (a whole number from 0 to {MAX_MESSAGE_ID}).")
    return number


async def enforce(app: web.Application, checks, message: str, code: str = "rate_limited") -> None:
    """Take one from each (limit name, key) in order; the first refusal is a 429 with Retry-After."""
    for name, key in checks:
        ok, wait = await app[LIMITS].take(name, key)
        if not ok:
            secs = max(1, int(wait + 0.999))
            raise ApiError(429, code, message.format(secs=secs), headers={"Retry-After": str(secs)})


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


_LOOPBACK_NAMES = {"localhost"}


def _is_loopback(host: Optional[str]) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_allowed(request: web.Request, origin: Optional[str], allowed) -> bool:
    """Exact match against the configured public origin and PAYLATER_ALLOWED_ORIGINS. No regex,
    and never the Host header alone: with DNS rebinding an attacker's page sends Host and Origin
    `evil.example:8080` together. Without PAYLATER_PUBLIC_ORIGIN (local runs), a same-origin
    request passes only when that origin is a loopback address (http://127.0.0.1:8080,
    http://localhost:8080)."""
    if not origin:
        return False
    origin = origin.rstrip("/")
    public = request.app[GW].public_origin
    if origin in allowed or (public and origin == public):
        return True
    if public:
        return False
    parsed = urlparse(origin)
    return (parsed.scheme in ("http", "https") and parsed.netloc == request.host
            and _is_loopback(parsed.hostname))


def csp(frame_ancestors: str = "'none'") -> str:
    if frame_ancestors == "'none'":
        return _CSP_NONE
    return _csp(frame_ancestors)


def _csp(frame_ancestors: str) -> str:
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}")


_CSP_NONE = _csp("'none'")  # every API answer's header, built once
