"""Demo mode only (PAYLATER_DEMO_MODE=1): a demo shop page with the widget, and server-side
minting of tokens for the demo buyers with the demo secret. Never routed otherwise."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.auth import mint_buyer_token

from .common import SETTINGS, ApiError, read_json

STATIC = Path(__file__).resolve().parent / "static"
DEMO_BUYERS = {
    "buyer-001": "Acme Outdoor Supply LLC",
    "buyer-002": "Blue Harbor Imports Inc",
    "buyer-003": "Nordlicht Handel GmbH",
    "buyer-004": "Sunrise Retail Co",
}


async def demo_page(request: web.Request) -> web.FileResponse:
    resp = web.FileResponse(STATIC / "demo.html")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


async def demo_buyers(request: web.Request) -> web.Response:
    return web.json_response({"buyers": [{"buyer_id": k, "business_name": v} for k, v in DEMO_BUYERS.items()]})


async def demo_token(request: web.Request) -> web.Response:
    body = await read_json(request)
    buyer_id = body.get("buyer_id")
    if buyer_id not in DEMO_BUYERS:
        raise ApiError(404, "unknown_demo_buyer", "Only the demo buyers buyer-001 ... buyer-004 can sign in here.")
    secret = request.app[SETTINGS].jwt_secret
    if not secret:
        raise ApiError(503, "no_secret", "PAYLATER_JWT_SECRET is not set.")
    return web.json_response({"buyer_id": buyer_id, "business_name": DEMO_BUYERS[buyer_id],
                              "token": mint_buyer_token(buyer_id, secret, ttl_s=3600)})


async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/demo")


def setup(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/demo", demo_page)
    app.router.add_get("/demo/api/buyers", demo_buyers)
    app.router.add_post("/demo/api/token", demo_token)
