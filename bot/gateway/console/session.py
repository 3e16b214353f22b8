"""Agent console: sign-in (scrypt-hashed passwords, HttpOnly SameSite=Strict session cookie,
CSRF token on every state-changing POST), the queue, take over / reply / hand back / close,
and the console WebSocket."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import time
from pathlib import Path
from typing import Any, Dict, Optional

import aiohttp
from aiohttp import web

from ..common import (BUS, GW, LIMITS, MAX_BODY, PASSWORD_CHECKS, SERVICE, SOCKETS, STORE, ApiError, enforce, origin_allowed,
                     parse_json, read_json, validate_text)
from ..db import utcnow
from ..reads import READS, UNREAD_FOR_AGENT, agent_reader
from ..security import dummy_hash, hash_password, needs_rehash, new_token, token_hash, tokens_equal, verify_password
from ..service import console_view
from ..wire import as_json

STATIC = Path(__file__).resolve().parent.parent / "static"
SESSION_COOKIE = "pl_agent"
LOGIN_CSRF_COOKIE = "pl_login_csrf"
COOKIE_PATH = "/console"


def _set_cookie(request: web.Request, resp: web.Response, name: str, value: str, max_age: Optional[int] = None) -> None:
    resp.set_cookie(name, value, path=COOKIE_PATH, httponly=True, samesite="Strict",
                    secure=request.app[GW].cookie_secure, max_age=max_age)


async def current_agent(request: web.Request) -> Optional[Dict[str, Any]]:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    session = await request.app[STORE].get_session(token_hash(token))
    if session:
        session["id_hash"] = token_hash(token)
    return session


def agent_required(state_changing: bool, supervisor: bool = False):
    """Sign-in first (401), then the CSRF token on state-changing calls (403), then the role:
    supervisor routes answer 403 `supervisors_only` to agents."""
    def deco(handler):
        @functools.wraps(handler)
        async def wrapper(request: web.Request):
            agent = await current_agent(request)
            if agent is None:
                raise ApiError(401, "not_signed_in", "Sign in to the console first.")
            if state_changing and not tokens_equal(request.headers.get("X-CSRF-Token"), agent["csrf_token"]):
                raise ApiError(403, "csrf_failed", "Missing or wrong CSRF token: reload the console and try again.")
            if supervisor and agent.get("role") != "supervisor":
                raise ApiError(403, "supervisors_only", "Only a supervisor can do this.")
            return await handler(request, agent)
        return wrapper
    return deco


def _agent_json(agent: Dict[str, Any]) -> Dict[str, Any]:
    return {"username": agent["username"], "display_name": agent["display_name"], "role": agent.get("role") or "agent",
            "status": "away" if agent.get("away") else "available"}


# ---------------------------------------------------------------------------- pages & sign-in
async def console_page(request: web.Request) -> web.FileResponse:
    resp = web.FileResponse(STATIC / "console.html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


async def login_csrf(request: web.Request) -> web.Response:
    token = new_token()
    resp = web.json_response({"csrf_token": token})
    _set_cookie(request, resp, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return resp


async def login(request: web.Request) -> web.Response:
    if not tokens_equal(request.headers.get("X-CSRF-Token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise ApiError(403, "csrf_failed", "Missing or wrong CSRF token: reload the page and try again.")
    body = await read_json(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password \
            or len(username) > 64 or len(password) > 1024:
        raise ApiError(400, "invalid_credentials_format", "Enter your username and password.")
    # Wrong passwords count per (username, address), so failures from an attacker's address never
    # lock the agent out at their own; every attempt counts per address, whatever the username
    # (docs/GATEWAY.md, "Sign-in protection").
    address = request.remote or "-"
    failures_key = f"{username.lower()}|{address}"
    limits = request.app[LIMITS]
    too_many = "Too many sign-in attempts. Try again in {secs} s."
    await enforce(request.app, [("signin_per_address", address)], too_many, "too_many_attempts")
    ok, wait = await limits.peek("signin_failures", failures_key)
    if not ok:
        secs = max(1, int(wait + 0.999))
        raise ApiError(429, "too_many_attempts", too_many.format(secs=secs), headers={"Retry-After": str(secs)})
    store = request.app[STORE]
    agent = await store.get_agent(username)
    async with request.app[PASSWORD_CHECKS]:
        stored = agent["password_hash"] if agent and agent["active"] else await asyncio.to_thread(dummy_hash)
        valid = await asyncio.to_thread(verify_password, password, stored)
    if not (agent and agent["active"] and valid):
        await limits.take("signin_failures", failures_key)
        raise ApiError(401, "wrong_credentials", "Wrong username or password.")
    if needs_rehash(stored):  # an older, cheaper hash: store one at today's cost (same password)
        async with request.app[PASSWORD_CHECKS]:
            await store.rehash_password(agent["username"], stored, await asyncio.to_thread(hash_password, password))
    token, csrf = new_token(), new_token()
    ttl = dt.timedelta(hours=request.app[GW].session_ttl_hours)
    await store.create_session(token_hash(token), agent["username"], csrf, ttl)
    resp = web.json_response({"agent": _agent_json(agent), "csrf_token": csrf})
    _set_cookie(request, resp, SESSION_COOKIE, token, max_age=int(ttl.total_seconds()))
    resp.del_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return resp


@agent_required(state_changing=True)
async def logout(request: web.Request, agent) -> web.Response:
    await request.app[STORE].revoke_session(agent["id_hash"])
    resp = web.json_response({"signed_out": True})
    resp.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return resp


@agent_required(state_changing=False)
async def me(request: web.Request, agent) -> web.Response:
    return web.json_response({"agent": _agent_json(agent), "csrf_token": agent["csrf_token"]})


# ---------------------------------------------------------------------------- conversations
@agent_required(state_changing=False)
async def list_conversations(request: web.Request, agent) -> web.Response:
    gw = request.app[GW]
    now = utcnow()
    rows = await request.app[STORE].list_for_console(now - dt.timedelta(minutes=gw.live_window_minutes))
    out: Dict[str, list] = {"queue": [], "mine": [], "others": [], "live": []}
    for conv in rows:
        v = console_view(conv, now)
        if conv["state"] == "queued":
            v["sla"] = gw.sla_level(v["wait_seconds"])
            out["queue"].append(v)
        elif conv["state"] == "agent":
            out["mine" if conv["assigned_agent"] == agent["username"] else "others"].append(v)
        else:
            out["live"].append(v)
    # unread buyer messages per conversation for this agent (stored, so a console reload keeps them)
    counted = out["queue"] + out["mine"]
    unread = await request.app[READS].unread([v["id"] for v in counted], agent_reader(agent["username"]),
                                             UNREAD_FOR_AGENT)
    for v in counted:
        v["unread"] = unread.get(v["id"], 0)
    out["queue"].sort(key=lambda v: v["queued_at"] or "")  # oldest first
    out["live"].sort(key=lambda v: v["last_message_at"] or "", reverse=True)
    return web.json_response({**out, "sla": {"warn_seconds": gw.queue_sla_warn_s,
                                             "breach_seconds": gw.queue_sla_breach_s}})


async def conv_or_404(request: web.Request) -> Dict[str, Any]:
    cid = request.match_info["cid"]
    conv = await request.app[STORE].get_conversation(cid) if len(cid) <= 64 else None
    if conv is None:
        raise ApiError(404, "not_found", "No such conversation.")
    return conv


@agent_required(state_changing=True)
async def claim(request: web.Request, agent) -> web.Response:
    conv = await conv_or_404(request)
    conv = await request.app[SERVICE].claim(conv["id"], agent["username"], agent["display_name"])
    return web.json_response({"conversation": console_view(conv)})


@agent_required(state_changing=True)
async def reply(request: web.Request, agent) -> web.Response:
    conv = await conv_or_404(request)
    body = await read_json(request)
    text = validate_text(body.get("text"), request.app[GW].max_message_chars)
    msg = await request.app[SERVICE].agent_message(conv["id"], agent["username"], agent["display_name"], text)
    return web.json_response({"message": msg}, status=201)


@agent_required(state_changing=True)
async def hand_back(request: web.Request, agent) -> web.Response:
    conv = await conv_or_404(request)
    conv = await request.app[SERVICE].hand_back(conv["id"], agent["username"])
    return web.json_response({"conversation": console_view(conv)})


@agent_required(state_changing=True)
async def close(request: web.Request, agent) -> web.Response:
    """Optional body {"closing_line": "..."}: the agent's last words to the buyer, sent before the
    conversation closes (only by the agent who has it)."""
    conv = await conv_or_404(request)
    body = await read_json(request) if request.can_read_body else {}
    line = body.get("closing_line")
    line = validate_text(line, request.app[GW].max_message_chars, "closing_line") if line not in (None, "") else None
    conv = await request.app[SERVICE].close(conv["id"], agent["username"], line, agent["display_name"])
    return web.json_response({"conversation": console_view(conv)})


# ---------------------------------------------------------------------------- console WebSocket
async def console_ws(request: web.Request) -> web.WebSocketResponse:
    # Browsers always send Origin on WebSockets; the console is served by the gateway itself.
    if not origin_allowed(request, request.headers.get("Origin"), request.app[GW].allowed_origins):
        raise web.HTTPForbidden(text="Origin not allowed")
    agent = await current_agent(request)
    if agent is None:
        raise web.HTTPUnauthorized(text="Sign in first")
    store = request.app[STORE]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_BODY)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    async with request.app[BUS].subscribe("console") as sub:
        await ws.send_json({"type": "hello", "agent": _agent_json(agent)})

        async def pump():
            async for event in sub:
                if event.get("type") == "session_ended" and event.get("username") == agent["username"]:
                    with contextlib.suppress(Exception):  # say why, then close (disabled or new password)
                        await ws.send_json(event)
                    await ws.close(code=4401, message=b"session ended")
                    return
                await ws.send_str(as_json(event))  # a message's JSON is encoded once (wire.py)

        async def watch_session():
            """A socket that never pings must still stop after logout or when the agent is
            disabled: it streams every buyer's messages."""
            while not ws.closed:
                await asyncio.sleep(request.app[GW].session_check_s)
                if await store.get_session(agent["id_hash"]) is None:
                    await ws.close(code=4401, message=b"session ended")
                    return

        task = asyncio.create_task(pump())
        watcher = asyncio.create_task(watch_session())
        last_touch = time.monotonic()
        typing_sent: Dict[str, float] = {}
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ApiError):
                    data = parse_json(msg.data, max_bytes=MAX_BODY)  # bounded: no RecursionError
                    cid = data.get("conversation_id")
                    if data.get("type") == "typing" and isinstance(cid, str) and len(cid) <= 64:
                        if time.monotonic() - typing_sent.get(cid, 0.0) >= 2:  # at most every 2 s per chat
                            typing_sent[cid] = time.monotonic()
                            await request.app[SERVICE].agent_typing(cid, agent["username"], agent["display_name"])
                    elif data.get("type") == "ping":
                        if time.monotonic() - last_touch > 30:  # presence: "an agent is signed in"
                            last_touch = time.monotonic()
                            if await store.get_session(agent["id_hash"]) is None:
                                await ws.close(code=4401, message=b"session ended")
                                break
                            await store.touch_session(agent["id_hash"])
                        await ws.send_json({"type": "pong"})
        finally:
            for t in (task, watcher):
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
    return ws


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/console", console_page)
    r.add_get("/console/", console_page)
    r.add_get("/console/api/csrf", login_csrf)
    r.add_post("/console/api/login", login)
    r.add_post("/console/api/logout", logout)
    r.add_get("/console/api/me", me)
    r.add_get("/console/api/conversations", list_conversations)
    r.add_post("/console/api/conversations/{cid}/claim", claim)
    r.add_post("/console/api/conversations/{cid}/messages", reply)
    r.add_post("/console/api/conversations/{cid}/handback", hand_back)
    r.add_post("/console/api/conversations/{cid}/close", close)
    r.add_get("/console/ws", console_ws)
