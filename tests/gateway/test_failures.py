"""Internal failures give the buyer a clear answer and lose nothing: a broker that is down, a
database error, an exception inside a WebSocket message."""
from __future__ import annotations

import sqlalchemy.exc

from bot.gateway.common import BUS, SERVICE, STORE
from gw_helpers import new_conversation, say, token_for


async def test_broker_down_still_answers_and_keeps_the_message(gateway):
    async def broken_publish(channel, event):
        raise ConnectionError("redis is down")

    gateway.app[BUS].publish = broken_publish
    conv, h = await new_conversation(gateway)
    resp = await say(gateway, conv, h, "hello")
    assert resp.status == 200, await resp.text()
    assert [m["sender"] for m in (await resp.json())["messages"]] == ["buyer", "bot"]
    hist = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert [m["text"] for m in hist if m["sender"] == "buyer"] == ["hello"]


async def test_database_error_is_a_clear_json_500(gateway, monkeypatch):
    conv, h = await new_conversation(gateway)

    async def broken_history(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(gateway.app[STORE], "history", broken_history)
    resp = await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)
    assert resp.status == 500
    body = await resp.json()
    assert body["error"] == "internal_error" and "try again" in body["message"]


async def test_websocket_keeps_going_after_an_internal_error(gateway, monkeypatch):
    conv, _ = await new_conversation(gateway)

    async def broken(*args, **kwargs):
        raise RuntimeError("boom inside the service")

    monkeypatch.setattr(gateway.app[SERVICE], "buyer_message", broken)
    async with gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws") as ws:
        await ws.send_json({"type": "auth", "token": token_for("buyer-001")})
        assert (await ws.receive_json(timeout=5))["type"] == "ready"
        await ws.send_json({"type": "message", "text": "hello"})
        err = await ws.receive_json(timeout=5)
        assert err["type"] == "error" and err["error"] == "internal_error"
        await ws.send_json({"type": "ping"})
        assert (await ws.receive_json(timeout=5))["type"] == "pong"  # still open


async def test_an_internal_error_keeps_every_header_and_is_logged(gateway, monkeypatch, caplog):
    """The one middleware (app.gateway_middleware) still does what the chain of three did on a
    failure: the JSON 500 with the security headers and the caller's request id, the traceback
    in the log and the 500 in the access log."""
    conv, h = await new_conversation(gateway)

    async def broken_history(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(gateway.app[STORE], "history", broken_history)
    with caplog.at_level("INFO"):
        resp = await gateway.get(f"/v1/conversations/{conv['id']}/messages",
                                 headers={**h, "X-Request-ID": "req-broken-1"})
    assert resp.status == 500
    assert resp.headers["X-Request-ID"] == "req-broken-1"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in resp.headers
    failed = [r for r in caplog.records if r.levelname == "ERROR" and "failed" in r.getMessage()]
    assert failed and failed[0].exc_info is not None
    assert any(r.name == "bot.access" and " 500 " in r.getMessage() for r in caplog.records)
