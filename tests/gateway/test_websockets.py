"""Live updates: the buyer WebSocket and the console WebSocket."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
from gw_helpers import auth, login, new_conversation, next_of, open_buyer_ws, say, token_for


async def test_buyer_ws_ready_with_history_and_live_bot_replies(gateway):
    conv, h = await new_conversation(gateway)
    await say(gateway, conv, h, "first")
    ws = await open_buyer_ws(gateway, conv, token=h["Authorization"][7:])
    ready = await next_of(ws, "ready")
    assert [m["text"] for m in ready["messages"]] == ["first", "You said: first"]
    assert ready["conversation"]["state"] == "bot"
    await ws.send_json({"type": "message", "text": "over the socket"})
    e = await next_of(ws, "message", pred=lambda e: e["message"]["sender"] == "bot")
    assert e["message"]["text"] == "You said: over the socket"
    await ws.send_json({"type": "ping"})
    await next_of(ws, "pong")
    await ws.send_json({"type": "message", "text": ""})
    err = await next_of(ws, "error")
    assert err["error"] == "empty_message"
    await ws.close()


async def test_buyer_ws_rejects_bad_auth(gateway):
    conv, h = await new_conversation(gateway, "buyer-001")
    for token in (token_for("buyer-002"), "forged.token.value", None):
        ws = await open_buyer_ws(gateway, conv, token=token)
        msg = await ws.receive(timeout=3)
        if msg.type == aiohttp.WSMsgType.TEXT:
            assert msg.json()["type"] == "error"
            msg = await ws.receive(timeout=3)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        assert ws.close_code in (4401, 4403)
        await ws.close()


async def test_ws_origin_checks(gateway):
    conv, h = await new_conversation(gateway)
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws", headers={"Origin": "https://evil.example.net"})
    assert exc.value.status == 403
    # exact match only: a look-alike of the allowed origin is refused too
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws", headers={"Origin": "https://shop.example.com.evil.net"})
    ok = await open_buyer_ws(gateway, conv, token=h["Authorization"][7:], origin="https://shop.example.com")
    assert (await next_of(ok, "ready"))["conversation"]["id"] == conv["id"]
    await ok.close()
    same = await open_buyer_ws(gateway, conv, token=h["Authorization"][7:], origin=str(gateway.make_url("/")).rstrip("/"))
    await next_of(same, "ready")
    await same.close()
    await login(gateway)
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await gateway.ws_connect("/console/ws", headers={"Origin": "https://evil.example.net"})
    assert exc.value.status == 403


async def test_console_ws_needs_a_session(gateway):
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await gateway.ws_connect("/console/ws", headers={"Origin": str(gateway.make_url("/")).rstrip("/")})
    assert exc.value.status == 401


async def test_live_handoff_agent_join_and_reply_reach_both_sides(gateway):
    conv, h = await new_conversation(gateway)
    csrf = await login(gateway)
    origin = str(gateway.make_url("/")).rstrip("/")
    console = await gateway.ws_connect("/console/ws", headers={"Origin": origin})
    assert (await next_of(console, "hello"))["agent"]["username"] == "alice"
    buyer = await open_buyer_ws(gateway, conv, token=h["Authorization"][7:])
    await next_of(buyer, "ready")

    await buyer.send_json({"type": "message", "text": "talk to a person"})
    st = await next_of(buyer, "state", pred=lambda e: e["conversation"]["state"] == "queued")
    assert st["conversation"]["agents_online"] is True
    queued = await next_of(console, "conversation", pred=lambda e: e["conversation"]["state"] == "queued")
    assert queued["conversation"]["handoff"]["summary"]["buyer_id"] == "buyer-001"

    r = await gateway.post(f"/console/api/conversations/{conv['id']}/claim", headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    joined = await next_of(buyer, "state", pred=lambda e: e["conversation"]["state"] == "agent")
    assert joined["conversation"]["agent"] == {"name": "Alice"}

    await buyer.send_json({"type": "message", "text": "<script>alert(1)</script> hi agent"})
    e = await next_of(console, "message", pred=lambda e: e["message"]["sender"] == "buyer" and "hi agent" in e["message"]["text"])
    assert e["conversation_id"] == conv["id"]
    assert e["message"]["text"] == "<script>alert(1)</script> hi agent"

    await gateway.post(f"/console/api/conversations/{conv['id']}/messages", json={"text": "Hello from Alice"},
                       headers={"X-CSRF-Token": csrf})
    e = await next_of(buyer, "message", pred=lambda e: e["message"]["sender"] == "agent")
    assert e["message"]["text"] == "Hello from Alice" and e["message"]["agent_name"] == "Alice"

    await gateway.post(f"/console/api/conversations/{conv['id']}/handback", headers={"X-CSRF-Token": csrf})
    await next_of(buyer, "state", pred=lambda e: e["conversation"]["state"] == "bot")
    await console.send_json({"type": "ping"})
    await next_of(console, "pong")
    await buyer.close()
    await console.close()


async def test_ws_rate_limit_reports_retry_after(make_gateway):
    from bot.gateway.limits import Limit

    client = await make_gateway(limits={"messages_per_conversation": Limit(2, 3600)})
    conv, h = await new_conversation(client)
    ws = await open_buyer_ws(client, conv, token=h["Authorization"][7:])
    await next_of(ws, "ready")
    for i in range(3):
        await ws.send_json({"type": "message", "text": f"m{i}"})
    err = await next_of(ws, "error")
    assert err["error"] == "rate_limited" and err["retry_after"] >= 1
    await ws.close()


async def test_in_process_broadcaster_fan_out():
    from bot.gateway.broadcast import InProcessBroadcaster

    bus = InProcessBroadcaster()
    async with bus.subscribe("c") as a, bus.subscribe("c") as b, bus.subscribe("other") as o:
        await bus.publish("c", {"n": 1})
        assert await a.get() == {"n": 1} and await b.get() == {"n": 1}
        assert o.queue.empty()
    assert bus.subscriber_count("c") == 0


@pytest.mark.redis
async def test_redis_broadcaster_between_two_instances(redis_url):
    from bot.gateway.broadcast import RedisBroadcaster

    one, two = RedisBroadcaster(redis_url, prefix="test:gw:"), RedisBroadcaster(redis_url, prefix="test:gw:")
    await one.start()
    await two.start()
    try:
        async with two.subscribe("conv:x") as sub:
            await asyncio.sleep(0.2)
            await one.publish("conv:x", {"type": "message", "n": 1})
            assert await asyncio.wait_for(sub.get(), 3) == {"type": "message", "n": 1}
    finally:
        await one.close()
        await two.close()


async def test_console_ws_closes_after_logout_even_without_pings(make_gateway):
    """A stolen or forgotten console socket must not keep streaming buyers' messages."""
    gateway = await make_gateway(session_check_s=0.2)
    csrf = await login(gateway)
    origin = str(gateway.make_url("/")).rstrip("/")
    console = await gateway.ws_connect("/console/ws", headers={"Origin": origin})
    assert (await next_of(console, "hello"))["agent"]["username"] == "alice"
    assert (await gateway.post("/console/api/logout", headers={"X-CSRF-Token": csrf})).status == 200
    msg = await console.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert console.close_code == 4401
    conv, h = await new_conversation(gateway)
    await say(gateway, conv, h, "secret buyer text after logout")
    assert console.closed


async def test_buyer_ws_closes_when_the_sign_in_expires(gateway):
    conv, _ = await new_conversation(gateway)
    ws = await open_buyer_ws(gateway, conv, token=token_for("buyer-001", ttl_s=1))
    await next_of(ws, "ready")
    err = await next_of(ws, "error", timeout=5)
    assert err["error"] == "token_expired"
    msg = await ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) and ws.close_code == 4401
