"""`GET /health/ready`: is every part of the product answering, and how fast.

Checked live on each call, all at once, each with a 2 s limit, so a part that stopped shows
as down on the next call (the console polls it every 5 s):

    rasa      GET <each Rasa URL>/status (with the Rasa token): up once the model is loaded
    actions   GET <PAYLATER_ACTION_ENDPOINT's host>/health
    backend   GET <PAYLATER_BACKEND_URL>/health
    database  SELECT 1 on the gateway's database
    redis     PING, only when PAYLATER_GATEWAY_REDIS_URL is set

200 {"status": "ready", ...} when all are up, else 503 {"status": "degraded", ...}; each part
as {"status": "up"|"down", "latency_ms": ..., "detail"?: why it is down}. Nothing secret is
reported (no URLs, no tokens). One answer serves every caller for CACHE_S (every open console
polls it): a part that stops shows as down within CACHE_S + CHECK_TIMEOUT_S = 3 s.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Awaitable, Callable, Dict, Tuple
from urllib.parse import urlparse

import aiohttp
import sqlalchemy as sa
from aiohttp import web

from bot.rasa_status import rasa_has_model

from .common import GW, SETTINGS, STORE

CHECK_TIMEOUT_S = 2.0
CACHE_S = 1.0
_LAST = web.AppKey("ready_last", dict)


async def _http_ok(session: aiohttp.ClientSession, url: str, params=None,
                   accept: Callable[[int, bytes], bool] = lambda status, body: status == 200) -> Tuple[bool, str]:
    async with session.get(url, params=params, timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_S)) as resp:
        body = await resp.read()
        return accept(resp.status, body), f"HTTP {resp.status}"



async def _timed(check: Callable[[], Awaitable[Tuple[bool, str]]]) -> Dict[str, Any]:
    started = time.monotonic()
    try:
        ok, detail = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except asyncio.TimeoutError:
        ok, detail = False, f"no answer within {CHECK_TIMEOUT_S:g} s"
    except aiohttp.ClientConnectorError:
        ok, detail = False, "connection refused"
    except Exception as exc:  # any failure of a check is "down", with its kind
        ok, detail = False, type(exc).__name__
    out: Dict[str, Any] = {"status": "up" if ok else "down", "latency_ms": round((time.monotonic() - started) * 1000, 1)}
    if not ok:
        out["detail"] = detail
    return out


def action_server_health_url() -> str | None:
    endpoint = os.environ.get("PAYLATER_ACTION_ENDPOINT")
    if not endpoint:
        return None
    u = urlparse(endpoint)
    return f"{u.scheme}://{u.netloc}/health"


async def ready(request: web.Request) -> web.Response:
    app = request.app
    last = app[_LAST]
    async with last["lock"]:  # callers arriving during a check share its answer
        if time.monotonic() - last["at"] >= CACHE_S:
            last["answer"] = await _check_all(app)
            last["at"] = time.monotonic()
        body, status = last["answer"]
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})


async def _check_all(app: web.Application) -> Tuple[Dict[str, Any], int]:
    gw, settings = app[GW], app[SETTINGS]
    checks: Dict[str, Callable[[], Awaitable[Tuple[bool, str]]]] = {}
    async with aiohttp.ClientSession() as session:
        rasa_urls = list(gw.rasa_urls or (settings.rasa_url,))
        params = {"token": settings.rasa_token} if settings.rasa_token else None
        for i, url in enumerate(rasa_urls):
            name = "rasa" if len(rasa_urls) == 1 else f"rasa[{i}]"
            checks[name] = lambda url=url: _http_ok(session, f"{url}/status", params, rasa_has_model)
        actions = action_server_health_url()
        if actions:
            checks["actions"] = lambda: _http_ok(session, actions)
        checks["backend"] = lambda: _http_ok(session, settings.backend_url.rstrip("/") + "/health")

        async def database() -> Tuple[bool, str]:
            def select_one() -> None:
                with app[STORE].sync.engine.connect() as c:
                    c.execute(sa.text("SELECT 1"))

            await asyncio.to_thread(select_one)
            return True, ""

        checks["database"] = database
        if gw.redis_url:
            async def redis() -> Tuple[bool, str]:
                import redis.asyncio as aioredis

                client = aioredis.from_url(gw.redis_url, socket_connect_timeout=CHECK_TIMEOUT_S)
                try:
                    return bool(await client.ping()), ""
                finally:
                    await client.close()

            checks["redis"] = redis
        results = await asyncio.gather(*(_timed(c) for c in checks.values()))
    parts = dict(zip(checks, results))
    all_up = all(p["status"] == "up" for p in parts.values())
    return {"status": "ready" if all_up else "degraded", "parts": parts}, 200 if all_up else 503


def setup(app: web.Application) -> None:
    app[_LAST] = {"lock": asyncio.Lock(), "at": -CACHE_S, "answer": None}
    app.router.add_get("/health/ready", ready)
