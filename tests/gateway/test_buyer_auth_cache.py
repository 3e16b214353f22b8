"""The gateway checks a buyer once per token and once per conversation (bot/gateway/buyer_auth.py),
and never lets the cache accept what verification would refuse: an expired token, a changed
token, another buyer's conversation."""
from __future__ import annotations

import time

import pytest
from gw_helpers import SECRET, auth, new_conversation, next_of, open_buyer_ws, say, token_for

from bot.auth import LEEWAY_S, InvalidToken, mint_buyer_token
from bot.gateway import buyer_auth
from bot.gateway.buyer_auth import ConversationAccess, TokenCache
from bot.gateway.common import TOKENS


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


def test_a_cached_token_is_refused_once_it_expires():
    clock = Clock()
    cache = TokenCache(SECRET, clock=clock)
    token = token_for("buyer-001", ttl_s=60)
    assert cache.verify(token).buyer_id == "buyer-001"
    clock.now += 60 + LEEWAY_S - 1  # still inside the leeway, as PyJWT counts it
    assert cache.verify(token).buyer_id == "buyer-001"
    clock.now += 2
    with pytest.raises(InvalidToken, match="expired"):
        cache.verify(token)
    with pytest.raises(InvalidToken, match="expired"):  # and on every later try
        cache.verify(token)


def test_verified_once_per_token_and_changed_tokens_are_verified_afresh(monkeypatch):
    calls = []
    real = buyer_auth.verify_buyer_token
    monkeypatch.setattr(buyer_auth, "verify_buyer_token", lambda t, s: calls.append(t) or real(t, s))
    cache = TokenCache(SECRET)
    token = token_for("buyer-001")
    for _ in range(5):
        cache.verify(token)
    assert len(calls) == 1
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")  # same claims, another signature
    with pytest.raises(InvalidToken):
        cache.verify(forged)
    with pytest.raises(InvalidToken):  # another secret's token, same claims
        cache.verify(mint_buyer_token("buyer-001", "another-secret-of-at-least-32-bytes-xx"))
    assert len(calls) == 3 and len(cache) == 1  # failures are never cached


def test_caches_are_bounded():
    cache = TokenCache(SECRET, max_entries=3)
    for i in range(10):
        cache.verify(token_for(f"buyer-{i:03d}"))
    assert len(cache) == 3
    access = ConversationAccess(max_entries=2)
    for i in range(5):
        access.remember({"id": f"c{i}", "buyer_id": None, "access_key_hash": "h"})
    assert access.get("c0") is None and access.get("c4") == (None, "h")


async def test_the_gateway_refuses_a_cached_token_after_its_expiry(gateway, fake_rasa):
    """REST and WebSocket: the token was verified (and cached) while live; later it is refused."""
    token = token_for("buyer-001", ttl_s=120)
    h = {"Authorization": f"Bearer {token}"}
    r = await gateway.post("/v1/conversations", json={"client": "web"}, headers=h)
    conv = await r.json()
    ws = await open_buyer_ws(gateway, conv, token=token)
    await next_of(ws, "ready")
    assert (await say(gateway, conv, h, "hello")).status == 200
    clock = Clock()
    gateway.app[TOKENS].clock = clock
    clock.now += 120 + LEEWAY_S + 1
    r = await say(gateway, conv, h, "hello again")
    assert r.status == 401 and (await r.json())["error"] == "token_expired"
    await ws.send_json({"type": "message", "text": "over the socket"})
    err = await next_of(ws, "error")
    assert err["error"] == "token_expired"
    await ws.close()
    assert [m["message"] for m in fake_rasa.state["messages"] if m["sender"] == conv["id"]] == ["hello"]


@pytest.mark.parametrize("owner_first", [True, False], ids=["after the owner's first message", "from creation"])
async def test_a_known_conversation_is_still_closed_to_others(gateway, fake_rasa, owner_first):
    """The access columns are cached when the conversation is opened (its first message is not
    read back) and after the owner's first message; anyone else still gets 404."""
    mine, h = await new_conversation(gateway, "buyer-001")
    anon, ah = await new_conversation(gateway, None)
    if owner_first:
        assert (await say(gateway, mine, h, "hi")).status == 200
        assert (await say(gateway, anon, ah, "hi")).status == 200
    for conv, headers in ((mine, auth("buyer-002")), (mine, {}), (mine, ah), (anon, {"X-Conversation-Token": "x" * 43}),
                          (anon, auth("buyer-001")), (anon, {})):
        r = await say(gateway, conv, headers, "let me in")
        assert r.status == 404 and (await r.json())["error"] == "not_found"
    assert (await say(gateway, mine, h, "still mine")).status == 200
    assert (await say(gateway, anon, ah, "still mine")).status == 200

