"""The chat gateway: aiohttp app factory, security middleware, buyer API (REST + WebSocket)."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from bot.auth import BuyerIdentity, InvalidToken
from bot.config import Settings
from bot.logging_setup import REQUEST_ID_HEADER, bind, new_request_id, sane_request_id

from . import client_ids, console, demo_routes, reads
from . import health as readiness
from .broadcast import RESYNC, Broadcaster, make_broadcaster
from bot.metrics import GatewayMetrics, metrics_handler, metrics_token

from .analytics import routes as analytics_routes
from .analytics.store import AnalyticsStore
from .buyer_auth import ConversationAccess, TokenCache
from .common import (ACCESS, ANALYTICS, BUS, GW, LIMITS, MAX_BODY, METRICS, PASSWORD_CHECKS, RASA, SERVICE, SETTINGS,
                     SOCKETS, STORE, TOKENS, ApiError,
                     csp, enforce, json_error, message_id, origin_allowed, parse_json, read_json, validate_text)
from .db import AsyncStore, Store, ensure_schema, make_engine
from .openapi import openapi_document
from .reads import BUYER, READS, read_up_to
from .rasa import RasaClient
from .limits import Limits
from .security import new_token, token_hash, tokens_equal
from .events import routes as events_routes
from .service import AGENTS_ONLINE_TTL_S, ConversationError, ConversationService
from .settings import GatewaySettings
from .tcp import client_session, send_corked
from .wire import as_json, json_object, json_response

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"

def _error_answer(request: web.Request, exc: BaseException) -> web.StreamResponse:
    """The JSON answer for a handler's exception; re-raises what aiohttp answers itself
    (an HTTPException outside the JSON APIs, cancellation)."""
    if isinstance(exc, ApiError):
        return json_error(exc.status_code, exc.code, exc.message_text, headers=dict(exc.headers))
    if isinstance(exc, ConversationError):
        return json_error(exc.status, exc.code, exc.message)
    if isinstance(exc, web.HTTPException):
        if request.path.startswith(_JSON_API) and exc.status >= 400:
            return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
        raise exc
    if not isinstance(exc, Exception):
        raise exc
    # database down, broker down, a bug: a clear JSON answer, never a text 500
    log.error("%s %s failed", request.method, request.path, exc_info=exc)
    request.app[METRICS].error("internal_error")
    return json_error(500, "internal_error", "Something went wrong on our side. Please try again in a moment.")


_JSON_API = ("/v1/", "/console/api/", "/demo/api/")
_NO_STORE = ("/v1/", "/console", "/demo/api/")
_NOT_LOGGED = ("/health", "/static/")  # probes and assets would drown the rest
_ACCESS = logging.getLogger("bot.access")


def secure_headers(request: web.Request, resp: web.StreamResponse) -> None:
    """The security headers of every answer that is not a WebSocket (a handler's own win)."""
    h = resp.headers
    path = request.path
    if path == "/widget/frame":
        ancestors = " ".join(["'self'", *request.app[GW].allowed_origins])
        h.setdefault("Content-Security-Policy", csp(ancestors))
    else:
        h.setdefault("Content-Security-Policy", csp())
        h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "no-referrer")
    if path.startswith(_NO_STORE):
        h.setdefault("Cache-Control", "no-store")
    origin = request.headers.get("Origin")
    if origin and path.startswith("/v1/") and origin.rstrip("/") in request.app[GW].allowed_origins:
        h["Access-Control-Allow-Origin"] = origin.rstrip("/")
        h["Vary"] = "Origin"


@web.middleware
async def gateway_middleware(request: web.Request, handler):
    """The gateway's one middleware, in this order: request and conversation ids, errors as JSON,
    the access line, the security headers and `X-Request-ID`, then the answer sent corked
    (tcp.send_corked). One frame per request: aiohttp wraps each middleware in a partial and its
    own coroutine for every request (docs/SCALING.md, "Fourth round, gateway")."""
    rid = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
    bind(rid, request.match_info.get("cid"))
    started, status = time.monotonic(), 500
    try:
        try:
            resp = await handler(request)
        except BaseException as exc:  # noqa: B902 - _error_answer re-raises what is not ours
            resp = _error_answer(request, exc)
        status = resp.status
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        if not request.path.startswith(_NOT_LOGGED):
            _ACCESS.info("%s %s %s %.0f ms", request.method, request.path, status, (time.monotonic() - started) * 1000)
    if isinstance(resp, web.WebSocketResponse):
        return resp
    secure_headers(request, resp)
    if not resp.prepared:
        resp.headers.setdefault(REQUEST_ID_HEADER, rid)
    return await send_corked(request, resp)


async def preflight(request: web.Request) -> web.Response:
    origin = (request.headers.get("Origin") or "").rstrip("/")
    if origin not in request.app[GW].allowed_origins:
        return web.Response(status=403)
    return web.Response(status=204, headers={
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Conversation-Token",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    })


# ---------------------------------------------------------------------------- buyer auth
def bearer(request: web.Request) -> Optional[str]:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return None


def identify(request: web.Request, token: Optional[str]) -> Optional[BuyerIdentity]:
    """None for anonymous; 401 for a token that is present but forged/expired/malformed.
    Verified once per token and cached while it is live (buyer_auth.TokenCache)."""
    if token is None:
        return None
    try:
        return request.app[TOKENS].verify(token)
    except InvalidToken as exc:
        code = "token_expired" if str(exc) == "expired" else "invalid_token"
        raise ApiError(401, code, "Your sign-in has expired: please sign in again." if code == "token_expired"
                       else "The sign-in token is not valid.", headers={"WWW-Authenticate": "Bearer"})


async def conversation_for(request: web.Request, cid: str, buyer: Optional[BuyerIdentity],
                           access_key: Optional[str]) -> Dict[str, Any]:
    """The conversation if this caller may use it. Another buyer's conversation, or a signed-in
    buyer's conversation without their token, is reported as not found (it reveals nothing)."""
    conv = await request.app[STORE].get_conversation(cid) if len(cid) <= 64 else None
    if conv is None:
        raise ApiError(404, "not_found", "No such conversation.")
    request.app[ACCESS].remember(conv)
    _check_access(conv["buyer_id"], conv["access_key_hash"], buyer, access_key)
    return conv


def _check_access(owner: Optional[str], key_hash: Optional[str], buyer: Optional[BuyerIdentity],
                  access_key: Optional[str]) -> None:
    if owner is not None:
        if buyer is None or buyer.buyer_id != owner:
            raise ApiError(404, "not_found", "No such conversation.")
    else:
        if buyer is not None:
            raise ApiError(404, "not_found", "No such conversation.")
        if not access_key or not tokens_equal(token_hash(access_key), key_hash):
            raise ApiError(404, "not_found", "No such conversation.")


async def authorize(request: web.Request, cid: str, buyer: Optional[BuyerIdentity], access_key: Optional[str]) -> None:
    """conversation_for's check without reading the conversation when this gateway knows who may
    use it (those columns never change, buyer_auth.ConversationAccess). The message's own
    transaction reads the rest."""
    known = request.app[ACCESS].get(cid)
    if known is None:
        await conversation_for(request, cid, buyer, access_key)
    else:
        _check_access(known[0], known[1], buyer, access_key)


# ---------------------------------------------------------------------------- buyer REST
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app[GW]))


async def create_conversation(request: web.Request) -> web.Response:
    body = await read_json(request) if request.can_read_body else {}
    client = body.get("client", "web")
    if client not in ("web", "app"):
        raise ApiError(400, "invalid_client", "`client` must be \"web\" or \"app\".")
    buyer = identify(request, bearer(request))
    checks = [("conversations_per_address", request.remote or "-")]
    if buyer:
        checks.insert(0, ("conversations_per_buyer", buyer.buyer_id))
    await enforce(request.app, checks, "You've started too many conversations. Please wait {secs} s, "
                  "or continue one you already have.")
    access_key = None if buyer else new_token()
    conv = await request.app[STORE].create_conversation(
        buyer.buyer_id if buyer else None, client, token_hash(access_key) if access_key else None)
    request.app[ACCESS].remember(conv)  # its first message is checked without reading it back
    # "agents online" up to AGENTS_ONLINE_TTL_S old, as in the answer to every message
    view = await request.app[SERVICE].view_for_buyer(conv, max_age_s=AGENTS_ONLINE_TTL_S)
    if access_key:
        view["conversation_token"] = access_key
    return web.json_response(view, status=201)


async def _buyer_conv(request: web.Request) -> Dict[str, Any]:
    buyer = identify(request, bearer(request))
    return await conversation_for(request, request.match_info["cid"], buyer, request.headers.get("X-Conversation-Token"))


async def get_conversation(request: web.Request) -> web.Response:
    conv = await _buyer_conv(request)
    return web.json_response(await request.app[SERVICE].view_for_buyer(conv))


async def list_messages(request: web.Request) -> web.Response:
    conv = await _buyer_conv(request)
    after = message_id(request.query.get("after"))
    msgs = await request.app[STORE].history(conv["id"], after)
    return web.json_response({"conversation": await request.app[SERVICE].view_for_buyer(conv), "messages": msgs,
                              "read": await request.app[READS].buyer_state(conv["id"])})


async def buyer_read(request: web.Request) -> web.Response:
    """The widget has shown the buyer every message up to `up_to`: {"up_to": <message id>}."""
    conv = await _buyer_conv(request)
    up_to = read_up_to(await read_json(request))
    if up_to is None:
        raise ApiError(400, "invalid_up_to", "Send {\"up_to\": <message id>}: the last message shown to the buyer.")
    mark = await request.app[READS].mark(conv["id"], BUYER, up_to)
    await request.app[SERVICE]._publish("console", {"type": "read", "conversation_id": conv["id"], "who": "buyer",
                                                    "last_read_id": mark})
    return web.json_response(await request.app[READS].buyer_state(conv["id"]))


async def check_rate(request: web.Request, cid: str, buyer: Optional[BuyerIdentity]) -> None:
    """Per conversation, per buyer (signed in) and per address: opening more conversations or
    using several at once does not get around the limit."""
    checks = [("messages_per_conversation", cid)]
    if buyer:
        checks.append(("messages_per_buyer", buyer.buyer_id))
    checks.append(("messages_per_address", request.remote or "-"))
    await enforce(request.app, checks, "You're sending messages too fast. Please wait {secs} s.")


def parse_buyer_message(app: web.Application, body: Dict[str, Any]):
    gw = app[GW]
    text = validate_text(body.get("text"), gw.max_message_chars)
    payload = body.get("payload")
    if payload is not None:
        if not isinstance(payload, str) or not payload.strip() or len(payload) > 500:
            raise ApiError(400, "invalid_payload", "`payload` must be a button payload (at most 500 characters).")
        payload = payload.strip()
    return text, payload


async def post_message(request: web.Request) -> web.Response:
    token = bearer(request)
    buyer = identify(request, token)
    cid = request.match_info["cid"]
    await authorize(request, cid, buyer, request.headers.get("X-Conversation-Token"))
    body = await read_json(request)
    text, payload = parse_buyer_message(request.app, body)
    await check_rate(request, cid, buyer)
    turn = await request.app[client_ids.CLIENT_IDS].send(cid, text, payload, token, body.get("client_message_id"))
    # the conversation as the message left it (no further read); presence may be 2 s old
    view = await request.app[SERVICE].view_for_buyer(turn.conversation, max_age_s=AGENTS_ONLINE_TTL_S)
    return json_response(json_object(conversation=view, messages=turn.messages))  # messages: JSON encoded once


async def post_csat(request: web.Request) -> web.Response:
    """The buyer's optional rating after a closed or bot-resolved conversation: {"score": 1-5, "comment"?}."""
    buyer = identify(request, bearer(request))
    conv = await conversation_for(request, request.match_info["cid"], buyer, request.headers.get("X-Conversation-Token"))
    body = await read_json(request)
    rating = await request.app[SERVICE].rate(conv["id"], conv["buyer_id"], body.get("score"), body.get("comment"))
    return web.json_response({"rating": rating}, status=201)


# ---------------------------------------------------------------------------- buyer WebSocket
async def buyer_ws(request: web.Request) -> web.WebSocketResponse:
    gw = request.app[GW]
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(request, origin, gw.allowed_origins):
        raise web.HTTPForbidden(text="Origin not allowed")
    cid = request.match_info["cid"]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_BODY)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    store, svc, bus = request.app[STORE], request.app[SERVICE], request.app[BUS]
    # 1. authenticate with the first message: {"type": "auth", "token"?, "conversation_token"?, "after"?}
    try:
        frame = await ws.receive(timeout=10)
        if frame.type != aiohttp.WSMsgType.TEXT:
            raise ValueError("not a text frame")
        first = parse_json(frame.data, max_bytes=MAX_BODY)
        if first.get("type") != "auth" or first.get("type") != "auth":
            raise ApiError(400, "auth_required", "Send {\"type\": \"auth\", ...} first.")
        token = first.get("token") or None
        buyer = identify(request, token)
        conv = await conversation_for(request, cid, buyer, first.get("conversation_token"))
        after = message_id(first.get("after"))
    except (ApiError, asyncio.TimeoutError, ValueError, TypeError) as exc:
        code, msg = ("auth_timeout", "No auth message in time.") if isinstance(exc, asyncio.TimeoutError) else (
            (exc.code, exc.message_text) if isinstance(exc, ApiError) else ("bad_auth", "Malformed auth message."))
        with contextlib.suppress(Exception):
            await ws.send_json({"type": "error", "error": code, "message": msg})
        await ws.close(code=4401 if code in ("invalid_token", "token_expired") else 4403, message=code.encode())
        return ws
    # 2. subscribe before reading history, so nothing falls between the two (clients dedupe by id)
    async with bus.subscribe(f"conv:{cid}") as sub:
        ready = await store.history(cid, after)
        await ws.send_json({"type": "ready", "conversation": await svc.view_for_buyer(conv), "messages": ready})
        sent_up_to = max([after, *(m["id"] for m in ready)])

        async def pump():
            nonlocal sent_up_to
            async for event in sub:
                if event.get("type") == RESYNC:  # Redis was away: send what was stored meanwhile
                    for m in await store.history(cid, sent_up_to):
                        await ws.send_json({"type": "message", "message": m})
                        sent_up_to = max(sent_up_to, m["id"])
                    continue
                if event.get("type") == "message":
                    sent_up_to = max(sent_up_to, event["message"]["id"])
                await ws.send_str(as_json(event))  # a message's JSON is encoded once (wire.py)

        async def close_at_expiry(expires_at: int):
            """Agent replies carry the buyer's data: stop pushing when the sign-in expires."""
            await asyncio.sleep(max(0.0, expires_at - time.time()))
            with contextlib.suppress(Exception):
                await ws.send_json({"type": "error", "error": "token_expired",
                                    "message": "Your sign-in has expired: please sign in again."})
            await ws.close(code=4401, message=b"token_expired")

        pump_task = asyncio.create_task(pump())
        last_typing = 0.0
        expiry_task = asyncio.create_task(close_at_expiry(buyer.expires_at)) if buyer else None
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data = parse_json(msg.data, max_bytes=MAX_BODY)
                except ApiError:
                    await ws.send_json({"type": "error", "error": "invalid_json",
                                        "message": "Send JSON objects (at most 32 levels deep)."})
                    continue
                kind = data.get("type")
                if kind == "ping":
                    await ws.send_json({"type": "pong"})
                elif kind == "typing":  # shown to the agents of a chat with people (at most every 2 s)
                    if time.monotonic() - last_typing >= 2:
                        last_typing = time.monotonic()
                        await svc.buyer_typing(cid)
                elif kind == "message":
                    bind(new_request_id(), cid)  # one request id per buyer message
                    try:
                        if token:  # re-check: the token may have expired since the socket opened (cached)
                            identify(request, token)
                        text, payload = parse_buyer_message(request.app, data)
                        await check_rate(request, cid, buyer)
                        cmid = data.get("client_message_id")
                        turn = await request.app[client_ids.CLIENT_IDS].send(cid, text, payload, token, cmid)
                        if cmid is not None:  # the widget's pending message is safe; a retry's replies ride along
                            await ws.send_str(json_object(type="ack", client_message_id=cmid, messages=turn.messages))
                    except ApiError as exc:
                        err = {"type": "error", "error": exc.code, "message": exc.message_text}
                        if "Retry-After" in exc.headers:
                            err["retry_after"] = int(exc.headers["Retry-After"])
                        await ws.send_json(err)
                    except ConversationError as exc:
                        await ws.send_json({"type": "error", "error": exc.code, "message": exc.message})
                    except Exception:  # keep the socket: say so, the buyer can retry
                        log.exception("buyer message on conversation %s failed", cid)
                        await ws.send_json({"type": "error", "error": "internal_error",
                                            "message": "Something went wrong on our side. Please try again in a moment."})
                else:
                    await ws.send_json({"type": "error", "error": "unknown_type", "message": "Unknown message type."})
        finally:
            for t in (pump_task, expiry_task):
                if t is not None:
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await t
    return ws


# ---------------------------------------------------------------------------- static pages
def static_file(name: str, content_type: Optional[str] = None):
    async def handler(request: web.Request) -> web.FileResponse:
        resp = web.FileResponse(STATIC / name)
        if content_type:
            resp.content_type = content_type
        resp.headers["Cache-Control"] = "no-cache"
        return resp
    return handler


async def widget_js(request: web.Request) -> web.FileResponse:
    resp = web.FileResponse(STATIC / "widget.js")
    resp.headers["Cache-Control"] = "no-cache"
    # the loader is fetched cross-site by the pages that embed it
    resp.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return resp


async def _gauges(app: web.Application) -> None:
    """Read at scrape time: the queue from the database, the sockets this process holds."""
    m = app[METRICS]
    length, oldest = await app[ANALYTICS].queue_stats()
    m.queue_length.set(length)
    m.queue_oldest.set(oldest or 0)
    m.websockets.set(sum(1 for ws in list(app[SOCKETS]) if not ws.closed))


# ---------------------------------------------------------------------------- lifecycle
async def _resources(app: web.Application):
    gw = app[GW]
    engine = make_engine(gw.database_url)
    await asyncio.to_thread(ensure_schema, engine, gw.schema)
    # SQLite: the buyer message's writes on one thread of their own (db.AsyncStore)
    writer = ThreadPoolExecutor(1, thread_name_prefix="gateway-writer") if engine.dialect.name == "sqlite" else None
    app[STORE] = AsyncStore(Store(engine), writer=writer)
    bus: Broadcaster = make_broadcaster(gw.redis_url)
    await bus.start()
    await app[LIMITS].start()
    app[BUS] = bus
    session = client_session()  # requests to Rasa in one TCP segment (tcp.py)
    settings = app[SETTINGS]
    app[RASA] = RasaClient(session, gw.rasa_urls or (settings.rasa_url,), settings.rasa_token, gw.rasa_timeout_s, gw.tracker_timeout_s)
    app[ANALYTICS] = AsyncStore(AnalyticsStore(engine))
    app[SERVICE] = ConversationService(app[STORE], bus, app[RASA], gw, app[ANALYTICS], app[METRICS])
    yield
    for ws in list(app[SOCKETS]):
        with contextlib.suppress(Exception):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")
    app[RASA].close()
    await session.close()
    await bus.close()
    await app[LIMITS].close()
    if writer is not None:
        await asyncio.to_thread(writer.shutdown)
    await asyncio.to_thread(engine.dispose)


async def _housekeeping(app: web.Application):
    async def loop():
        rounds = 0
        while True:
            await asyncio.sleep(60)
            try:
                app[LIMITS].purge()
                app[SERVICE].purge_locks()
                await app[STORE].purge_sessions()
                if rounds % 10 == 0:  # settled days into the analytics roll-up (a no-op most of the time)
                    await app[ANALYTICS].rollup()
                rounds += 1
            except Exception:
                log.exception("housekeeping failed")

    task = asyncio.create_task(loop(), name="gateway-housekeeping")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Optional[Settings] = None, gateway_settings: Optional[GatewaySettings] = None) -> web.Application:
    settings = settings or Settings.from_env()
    gw = gateway_settings or GatewaySettings.from_env(settings)
    app = web.Application(middlewares=[gateway_middleware], client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[GW] = gw
    app[LIMITS] = Limits(gw.limits, gw.redis_url, prefix=gw.limits_redis_prefix)
    app[PASSWORD_CHECKS] = asyncio.Semaphore(2)
    app[SOCKETS] = weakref.WeakSet()
    app[METRICS] = GatewayMetrics()
    app[TOKENS] = TokenCache(settings.jwt_secret)
    app[ACCESS] = ConversationAccess()
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_housekeeping)

    r = app.router
    r.add_get("/health", health)
    readiness.setup(app)  # GET /health/ready
    r.add_get("/openapi.json", get_openapi)
    r.add_post("/v1/conversations", create_conversation)
    r.add_get("/v1/conversations/{cid}", get_conversation)
    r.add_get("/v1/conversations/{cid}/messages", list_messages)
    r.add_post("/v1/conversations/{cid}/messages", post_message)
    r.add_post("/v1/conversations/{cid}/read", buyer_read)
    r.add_post("/v1/conversations/{cid}/csat", post_csat)
    r.add_get("/v1/conversations/{cid}/ws", buyer_ws)
    r.add_route("OPTIONS", "/v1/{tail:.*}", preflight)
    r.add_get("/widget.js", widget_js)
    r.add_get("/widget/frame", static_file("widget.html"))
    r.add_static("/static/", STATIC, append_version=False)
    console.setup(app)
    events_routes.setup(app)  # POST /v1/events, relay, webhook, late job (bot/gateway/events)
    reads.setup(app, STORE)
    analytics_routes.setup(app)  # the supervisor's dashboard, its JSON and CSV (bot/gateway/analytics)
    r.add_get("/metrics", metrics_handler(app[METRICS].registry, metrics_token(), _gauges))
    client_ids.setup(app, STORE, SERVICE, GW)  # client message ids: a retry is the same message
    if settings.demo_mode:
        demo_routes.setup(app)
    return app
