"""Shared helpers for the gateway tests (imported by conftest.py and the tests)."""
from __future__ import annotations

import asyncio

from bot.auth import mint_buyer_token

SECRET = "test-secret-for-gateway-tests-only-0123456789"
RASA_TOKEN = "rasa-test-token"
AGENT_PASSWORD = "correct-horse-battery"


def token_for(buyer_id: str, ttl_s: int = 600, now=None) -> str:
    return mint_buyer_token(buyer_id, SECRET, ttl_s=ttl_s, now=now)


def auth(buyer_id: str) -> dict:
    return {"Authorization": f"Bearer {token_for(buyer_id)}"}


async def login(client, username="alice", password=AGENT_PASSWORD) -> str:
    """Sign in through the console API; returns the session's CSRF token."""
    r = await client.get("/console/api/csrf")
    pre = (await r.json())["csrf_token"]
    r = await client.post("/console/api/login", json={"username": username, "password": password},
                          headers={"X-CSRF-Token": pre})
    assert r.status == 200, await r.text()
    return (await r.json())["csrf_token"]


async def new_conversation(client, buyer_id="buyer-001", client_kind="web"):
    headers = auth(buyer_id) if buyer_id else {}
    r = await client.post("/v1/conversations", json={"client": client_kind}, headers=headers)
    assert r.status == 201, await r.text()
    conv = await r.json()
    if not buyer_id:
        headers = {"X-Conversation-Token": conv["conversation_token"]}
    return conv, headers


async def say(client, conv, headers, text, payload=None):
    body = {"text": text}
    if payload:
        body["payload"] = payload
    return await client.post(f"/v1/conversations/{conv['id']}/messages", json=body, headers=headers)


async def next_of(ws, type_, timeout=3.0, pred=lambda e: True):
    async def loop():
        while True:
            e = await ws.receive_json()
            if e.get("type") == type_ and pred(e):
                return e
    return await asyncio.wait_for(loop(), timeout)


async def open_buyer_ws(client, conv, token=None, conversation_token=None, origin=None, after=0):
    headers = {"Origin": origin} if origin else {}
    ws = await client.ws_connect(f"/v1/conversations/{conv['id']}/ws", headers=headers)
    await ws.send_json({"type": "auth", "token": token, "conversation_token": conversation_token, "after": after})
    return ws
