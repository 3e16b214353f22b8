"""Analytics against the real stack: Rasa's channel tells the gateway what it read (the turn
payload), so an FAQ answer, "yes, it helped", a fallback and a handoff become events; the
rating prompt follows the quick reply; /metrics on the gateway and backend answer."""
from __future__ import annotations

import json
import urllib.request

import sqlalchemy as sa

from bot.auth import mint_buyer_token
from bot.gateway.analytics.tables import events
from bot.gateway.db import make_engine


def _post(url, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.status, json.loads(resp.read())


def test_the_real_bot_records_what_happened(stack):
    base = f"http://127.0.0.1:{stack.ports.gateway}"
    token = mint_buyer_token("buyer-002", stack.env["PAYLATER_JWT_SECRET"])
    auth = {"Authorization": f"Bearer {token}"}
    _, conv = _post(f"{base}/v1/conversations", {"client": "web"}, auth)
    url = f"{base}/v1/conversations/{conv['id']}/messages"
    _, first = _post(url, {"text": "is there a processing fee for pay later?"}, auth)
    yes = [b for m in first["messages"] for b in m.get("buttons") or [] if b["payload"] == "/feedback_helpful"]
    assert yes, first  # the FAQ answer asks "Did this answer your question?"
    _, after = _post(url, {"text": yes[0]["title"], "payload": yes[0]["payload"]}, auth)
    assert any((m.get("data") or {}).get("type") == "csat" for m in after["messages"]), after
    assert all("turn" not in json.dumps(m) for m in first["messages"] + after["messages"])  # removed for the buyer
    _post(url, {"text": "zxqv blorf wibble"}, auth)
    _post(url, {"text": "I want to talk to a person"}, auth)
    engine = make_engine(stack.env["PAYLATER_DATABASE_URL"])
    try:
        with engine.connect() as c:
            rows = c.execute(sa.select(events.c.kind, events.c.topic, events.c.reason).where(
                events.c.conversation_id == conv["id"]).order_by(events.c.id)).all()
    finally:
        engine.dispose()
    kinds = [r.kind for r in rows]
    assert kinds[:3] == ["answer", "helpful", "csat_asked"], rows
    assert rows[0].topic.startswith("faq/"), rows
    assert "handoff" in kinds, rows
    for port in (stack.ports.gateway, stack.ports.backend):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            assert b"paylater_" in resp.read()
