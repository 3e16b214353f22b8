"""A fake Rasa for the gateway tests: the REST channel and the tracker events endpoint.

Answers by message text:
  "talk to a person"  -> a text + the handoff custom payload (docs/CONTRACT.md)
  "boom"              -> HTTP 500
  "slow"              -> sleeps longer than the gateway's timeout
  "empty"             -> []   (what Rasa returns when the action server was down)
  anything else       -> "You said: <text>" with a "Pay Later facts" button
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import jwt
from aiohttp import web

STATE = web.AppKey("state", dict)
SLOW_S = 3.0


BUSINESSES = {"buyer-001": ("Acme Outdoor Supply LLC", "US"), "buyer-002": ("Blue Harbor Imports Inc", "US")}


def handoff_payload(metadata: Dict[str, Any]) -> Dict[str, Any]:
    token = metadata.get("auth_token")
    if not token:  # anonymous: the real action sends no summary
        return {"custom": {"handoff": {"reason": "requested", "reason_text": "Buyer asked for a person", "summary": None}}}
    buyer_id = jwt.decode(token, options={"verify_signature": False})["sub"]  # the real actions verify it
    business, country = BUSINESSES.get(buyer_id, ("Unknown Co", "US"))
    return {"custom": {"handoff": {
        "reason": "requested",
        "reason_text": "Buyer asked for a person",
        "summary": {
            "buyer_id": buyer_id, "business_name": business, "country": country,
            "orders_mentioned": ["TA-100212"],
            "application": {"state": "approved"},
            "credit_line": {"limit": "50000.00", "used": "18380.00", "available": "31620.00"},
        },
    }}}


async def webhook(request: web.Request) -> web.Response:
    body = await request.json()
    state = request.app[STATE]
    state["messages"].append(body)
    text = (body.get("message") or "").strip()
    sender = body.get("sender")
    low = text.lower()
    if low == "boom":
        return web.Response(status=500, text="internal error")
    if low == "slow":
        await asyncio.sleep(SLOW_S)
        return web.json_response([{"recipient_id": sender, "text": "too late"}])
    if low == "empty":
        return web.json_response([])
    if low == "talk to a person":
        return web.json_response([
            {"recipient_id": sender, "text": "I'm connecting you with a person from our support team."},
            {"recipient_id": sender, **handoff_payload(body.get("metadata") or {})},
        ])
    return web.json_response([{
        "recipient_id": sender,
        "text": f"You said: {text}",
        "buttons": [{"title": "Pay Later facts", "payload": "/faq"}],
    }])


async def tracker_events(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if request.query.get("token") != state["token"]:
        return web.json_response({"message": "unauthorized"}, status=401)
    state["events"].append((request.match_info["sender"], (await request.json())["event"]))
    return web.json_response({"sender_id": request.match_info["sender"], "events": []})


async def status(request: web.Request) -> web.Response:
    """Rasa's /status with a model loaded (the gateway's /health/ready reads it)."""
    if request.query.get("token") != request.app[STATE]["token"]:
        return web.json_response({"message": "unauthorized"}, status=401)
    return web.json_response({"model_file": "fake.tar.gz", "model_id": "fake"})


def make_fake_rasa(token: str = "rasa-test-token") -> web.Application:
    app = web.Application()
    app[STATE] = {"messages": [], "events": [], "token": token}
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", tracker_events)
    app.router.add_get("/status", status)
    return app


def state_of(app: web.Application) -> Dict[str, List]:
    return app[STATE]
