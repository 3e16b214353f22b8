"""Issue 17: the outside probe's findings against the gateway, each reproduced and refused.

Findings 1 (redaction through the gateway), 3 (abuse limits), 4 (sign-in lock-out),
5 (hostile JSON / query parameters) and 8 (origin check, token lifetime, slow clients)."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from bot.auth import mint_buyer_token
from bot.gateway.limits import Limit
from gw_helpers import AGENT_PASSWORD, SECRET, auth, new_conversation, say, token_for

NESTED = "[" * 8000 + "]" * 8000  # 16 KB: RecursionError in json.loads


# ---------------------------------------------------------------- finding 1
@pytest.mark.parametrize("text, secret", [
    ("card 4111/1111/1111/1111", "1111/1111"),
    ("card 4111_1111_1111_1111", "1111_1111"),
    ("ssn 123.45.6789", "45.6789"),
    ("my social is 123456789", "123456789"),
    ("my pw is Tr0ub4dor&3", "Tr0ub4dor"),
    ("my passwd is Tr0ub4dor&3", "Tr0ub4dor"),
])
async def test_probe_formats_are_neither_stored_nor_forwarded(gateway, fake_rasa, text, secret):
    conv, h = await new_conversation(gateway)
    body = await (await say(gateway, conv, h, text)).json()
    assert secret not in fake_rasa.state["messages"][-1]["message"]
    hist = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert all(secret not in m["text"] for m in hist)
    notices = [m for m in body["messages"] if m.get("kind") == "redacted"]
    assert len(notices) == 1 and "removed" in notices[0]["text"]


async def test_ordinary_messages_get_no_removal_notice(gateway):
    conv, h = await new_conversation(gateway)
    body = await (await say(gateway, conv, h, "can I pay TA-100231 ($20,000) with pay later?")).json()
    assert all(m.get("kind") != "redacted" for m in body["messages"])
    assert body["messages"][0]["text"] == "can I pay TA-100231 ($20,000) with pay later?"


# ---------------------------------------------------------------- finding 3
async def test_creating_conversations_is_limited_per_address(make_gateway):
    gateway = await make_gateway(limits={"conversations_per_address": Limit(5, 3600)})
    statuses = [(await gateway.post("/v1/conversations", json={})).status for _ in range(7)]
    assert statuses[:5] == [201] * 5 and statuses[5:] == [429, 429]
    r = await gateway.post("/v1/conversations", json={}, headers=auth("buyer-001"))
    assert r.status == 429 and int(r.headers["Retry-After"]) >= 1  # signing in does not get around it
    assert (await r.json())["error"] == "rate_limited"


async def test_creating_conversations_is_limited_per_buyer(make_gateway):
    gateway = await make_gateway(limits={"conversations_per_buyer": Limit(3, 3600)})
    statuses = [(await gateway.post("/v1/conversations", json={}, headers=auth("buyer-001"))).status for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert (await gateway.post("/v1/conversations", json={}, headers=auth("buyer-002"))).status == 201


async def test_messages_are_limited_per_address_across_conversations(make_gateway, fake_rasa):
    gateway = await make_gateway(limits={"messages_per_address": Limit(6, 3600)})
    convs = [await new_conversation(gateway, None) for _ in range(3)]
    statuses = [(await say(gateway, c, h, f"hello {i}")).status for i in range(3) for c, h in convs]
    assert statuses[:6] == [200] * 6 and set(statuses[6:]) == {429}
    assert len(fake_rasa.state["messages"]) == 6  # refused messages never reach Rasa


async def test_messages_are_limited_per_buyer_across_conversations(make_gateway):
    gateway = await make_gateway(limits={"messages_per_buyer": Limit(4, 3600)})
    convs = [await new_conversation(gateway, "buyer-001") for _ in range(2)]
    statuses = [(await say(gateway, c, h, f"hi {i}")).status for i in range(3) for c, h in convs]
    assert statuses[:4] == [200] * 4 and set(statuses[4:]) == {429}
    other, oh = await new_conversation(gateway, "buyer-002")
    assert (await say(gateway, other, oh, "hi")).status == 200


async def test_limits_are_read_from_the_environment(monkeypatch):
    from bot.config import Settings
    from bot.gateway.settings import GatewaySettings

    monkeypatch.setenv("PAYLATER_LIMIT_MESSAGES_PER_ADDRESS", "7/30")
    monkeypatch.setenv("PAYLATER_PUBLIC_ORIGIN", "https://chat.example.com/")
    gw = GatewaySettings.from_env(Settings())
    assert gw.limits == {"messages_per_address": Limit(7, 30)}
    assert gw.public_origin == "https://chat.example.com"
    monkeypatch.setenv("PAYLATER_LIMIT_MESSAGES_PER_ADDRESS", "lots")
    with pytest.raises(ValueError):
        GatewaySettings.from_env(Settings())


# ---------------------------------------------------------------- finding 4
async def _login_from(session: aiohttp.ClientSession, base: str, username: str, password: str) -> int:
    async with session.get(f"{base}/console/api/csrf") as r:
        pre = (await r.json())["csrf_token"]
    async with session.post(f"{base}/console/api/login", json={"username": username, "password": password},
                            headers={"X-CSRF-Token": pre}) as r:
        return r.status


def _session_from(address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)),
                                 cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_an_attacker_cannot_lock_the_agent_out(gateway):
    base = str(gateway.make_url("")).rstrip("/")
    async with _session_from("127.0.0.2") as attacker:
        statuses = [await _login_from(attacker, base, "alice", f"wrong-{i}") for i in range(8)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}  # the attacker is slowed down ...
    async with _session_from("127.0.0.1") as agent:
        assert await _login_from(agent, base, "alice", AGENT_PASSWORD) == 200  # ... the agent is not


async def test_wrong_passwords_from_one_address_are_limited_even_for_the_right_one(gateway):
    base = str(gateway.make_url("")).rstrip("/")
    async with _session_from("127.0.0.3") as s:
        for i in range(5):
            assert await _login_from(s, base, "bob", f"wrong-{i}") == 401
        assert await _login_from(s, base, "bob", AGENT_PASSWORD) == 429


# ---------------------------------------------------------------- finding 5
@pytest.mark.parametrize("path", ["/v1/conversations", "/demo/api/token", "/console/api/login"])
async def test_deeply_nested_json_is_a_clear_400(gateway, path):
    headers = {"Content-Type": "application/json"}
    if path.startswith("/console"):
        r = await gateway.get("/console/api/csrf")
        headers["X-CSRF-Token"] = (await r.json())["csrf_token"]
    r = await gateway.post(path, data=NESTED, headers=headers)
    assert r.status == 400
    body = await r.json()
    assert body["error"] == "too_deeply_nested" and body["message"]


async def test_deeply_nested_message_is_a_clear_400(gateway, fake_rasa):
    conv, h = await new_conversation(gateway)
    r = await gateway.post(f"/v1/conversations/{conv['id']}/messages", data=NESTED,
                           headers={**h, "Content-Type": "application/json"})
    assert r.status == 400 and (await r.json())["error"] == "too_deeply_nested"
    assert fake_rasa.state["messages"] == []


@pytest.mark.parametrize("after", ["99999999999999999999999", "-1", "2147483648", "1e9", "abc", "9" * 5000])
async def test_out_of_range_after_is_a_clear_400(gateway, after):
    conv, h = await new_conversation(gateway)
    r = await gateway.get(f"/v1/conversations/{conv['id']}/messages", params={"after": after}, headers=h)
    assert r.status == 400
    assert (await r.json())["error"] == "invalid_after"


async def test_hostile_websocket_frames_do_not_break_the_socket(gateway):
    conv, h = await new_conversation(gateway)
    ws = await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws")
    await ws.send_str(NESTED)
    err = await ws.receive_json(timeout=5)
    assert err["type"] == "error"
    assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    ws = await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws")
    await ws.send_json({"type": "auth", "token": h["Authorization"][7:], "after": 10**30})
    err = await ws.receive_json(timeout=5)
    assert err["type"] == "error" and err["error"] == "invalid_after"
    ws = await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws")
    await ws.send_json({"type": "auth", "token": h["Authorization"][7:]})
    assert (await ws.receive_json(timeout=5))["type"] == "ready"
    await ws.send_str(NESTED)
    assert (await ws.receive_json(timeout=5))["error"] == "invalid_json"
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json(timeout=5))["type"] == "pong"  # still open
    await ws.close()


# ---------------------------------------------------------------- finding 8
async def test_dns_rebinding_host_and_origin_are_refused(gateway):
    conv, h = await new_conversation(gateway)
    evil = {"Host": "evil.example:8080", "Origin": "http://evil.example:8080"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws", headers=evil)
    assert exc.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await gateway.ws_connect("/console/ws", headers=evil)
    # a loopback same-origin page (make run) still works without PAYLATER_PUBLIC_ORIGIN
    port = gateway.make_url("").port
    ws = await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws", headers={"Origin": f"http://127.0.0.1:{port}"})
    await ws.close()


async def test_same_origin_means_the_configured_public_origin(make_gateway):
    gateway = await make_gateway(public_origin="https://chat.example.com")
    conv, h = await new_conversation(gateway)
    ws = await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws",
                                  headers={"Origin": "https://chat.example.com", "Host": "10.0.0.5:8080"})
    await ws.close()
    port = gateway.make_url("").port
    for origin, host in [(f"http://127.0.0.1:{port}", None), ("http://chat.example.com", "chat.example.com")]:
        headers = {"Origin": origin, **({"Host": host} if host else {})}
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws", headers=headers)


async def test_tokens_past_expiry_and_overlong_tokens_are_refused(gateway):
    now = int(time.time())
    just_expired = mint_buyer_token("buyer-001", SECRET, ttl_s=60, now=now - 60 - 20)  # 20 s past exp
    r = await gateway.post("/v1/conversations", json={}, headers={"Authorization": f"Bearer {just_expired}"})
    assert r.status == 401 and (await r.json())["error"] == "token_expired"
    week = mint_buyer_token("buyer-001", SECRET, ttl_s=7 * 24 * 3600)
    r = await gateway.post("/v1/conversations", json={}, headers={"Authorization": f"Bearer {week}"})
    assert r.status == 401 and (await r.json())["error"] == "invalid_token"
    day = token_for("buyer-001", ttl_s=24 * 3600)
    assert (await gateway.post("/v1/conversations", json={}, headers={"Authorization": f"Bearer {day}"})).status == 201


async def test_slow_bodies_are_cut_off(make_gateway):
    gateway = await make_gateway(body_timeout_s=0.5)
    base = gateway.make_url("")
    reader, writer = await asyncio.open_connection(base.host, base.port)
    writer.write(b"POST /v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=20)  # a trickling client is answered and cut off
    assert b" 408 " in answer.split(b"\r\n")[0] and b"body_timeout" in answer
    writer.close()


async def test_slow_headers_are_cut_off(unused_tcp_port_factory):
    """The served gateway (bot.serving) closes connections whose headers never finish."""
    from aiohttp import web

    from bot.serving import serve

    app = web.Application()
    app.router.add_get("/", lambda request: web.Response(text="ok"))
    port = unused_tcp_port_factory()
    runner = await serve(app, "127.0.0.1", port, header_timeout_s=0.5, keepalive_timeout_s=1)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # ... and never the blank line
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), timeout=20) == b""  # closed by the server
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)  # a normal client is served
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"200 OK" in await asyncio.wait_for(reader.read(), timeout=20)
        writer.close()
    finally:
        await runner.cleanup()


async def test_console_socket_survives_a_deeply_nested_frame(gateway):
    from gw_helpers import login

    await login(gateway)
    origin = str(gateway.make_url("/")).rstrip("/")
    console = await gateway.ws_connect("/console/ws", headers={"Origin": origin})
    assert (await console.receive_json(timeout=5))["type"] == "hello"
    await console.send_str(NESTED)
    await console.send_json({"type": "ping"})
    assert (await console.receive_json(timeout=5))["type"] == "pong"  # ignored, socket still open
    await console.close()
