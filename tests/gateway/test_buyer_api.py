"""Buyer <-> bot through the gateway's REST API, with the fake Rasa."""
from __future__ import annotations

import time

from gw_helpers import SECRET, auth, new_conversation, say, token_for

from bot.config import Settings
from bot.gateway.app import create_app
from bot.gateway.settings import GatewaySettings


async def test_health_and_openapi(gateway):
    r = await gateway.get("/health")
    assert r.status == 200
    doc = await (await gateway.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    assert "/v1/conversations/{cid}/messages" in doc["paths"]
    assert "/v1/conversations/{cid}/ws" in doc["paths"]


async def test_buyer_talks_to_bot_with_metadata(gateway, fake_rasa):
    conv, h = await new_conversation(gateway, "buyer-001", "app")
    assert conv["state"] == "bot" and conv["client"] == "app" and conv["signed_in"] is True
    assert "conversation_token" not in conv  # bound to the buyer's JWT instead
    r = await say(gateway, conv, h, "what is pay later")
    assert r.status == 200
    body = await r.json()
    senders = [m["sender"] for m in body["messages"]]
    assert senders == ["buyer", "bot"]
    bot = body["messages"][1]
    assert bot["text"] == "You said: what is pay later"
    assert bot["buttons"] == [{"title": "Pay Later facts", "payload": "/faq"}]
    sent = fake_rasa.state["messages"][-1]
    assert sent["sender"] == conv["id"]
    assert sent["metadata"]["client"] == "app"
    assert sent["metadata"]["auth_token"] == h["Authorization"][7:]


async def test_button_payload_is_forwarded_title_is_shown(gateway, fake_rasa):
    conv, h = await new_conversation(gateway)
    r = await say(gateway, conv, h, "Pay Later facts", payload="/faq")
    body = await r.json()
    assert body["messages"][0]["text"] == "Pay Later facts"
    assert fake_rasa.state["messages"][-1]["message"] == "/faq"


async def test_anonymous_conversation_uses_its_own_token(gateway, fake_rasa):
    conv, h = await new_conversation(gateway, None)
    assert conv["signed_in"] is False and conv["conversation_token"]
    r = await say(gateway, conv, h, "hello")
    assert r.status == 200
    assert "auth_token" not in fake_rasa.state["messages"][-1]["metadata"]
    assert fake_rasa.state["messages"][-1]["metadata"]["client"] == "web"
    # without the conversation token: nothing
    r = await gateway.get(f"/v1/conversations/{conv['id']}/messages")
    assert r.status == 404
    r = await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers={"X-Conversation-Token": "guess"})
    assert r.status == 404


async def test_history_after_and_sensitive_data_redacted(gateway, fake_rasa):
    conv, h = await new_conversation(gateway)
    await say(gateway, conv, h, "my card is 4111 1111 1111 1111")
    assert "4111" not in fake_rasa.state["messages"][-1]["message"]
    hist = await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json()
    assert "4111" not in hist["messages"][0]["text"] and "[card number removed]" in hist["messages"][0]["text"]
    last = hist["messages"][0]["id"]
    after = await (await gateway.get(f"/v1/conversations/{conv['id']}/messages?after={last}", headers=h)).json()
    # the buyer is told what was removed, then the bot answers
    assert [(m["sender"], m.get("kind")) for m in after["messages"]] == [("system", "redacted"), ("bot", None)]
    assert "card number" in after["messages"][0]["text"]


async def test_forged_and_expired_tokens_are_refused(gateway):
    forged = token_for("buyer-001")[:-3] + "abc"
    r = await gateway.post("/v1/conversations", json={}, headers={"Authorization": f"Bearer {forged}"})
    assert r.status == 401 and (await r.json())["error"] == "invalid_token"
    other_secret = __import__("bot.auth", fromlist=["x"]).mint_buyer_token("buyer-001", "another-secret-entirely-another-secret-entirely")
    r = await gateway.post("/v1/conversations", json={}, headers={"Authorization": f"Bearer {other_secret}"})
    assert r.status == 401
    expired = token_for("buyer-001", ttl_s=60, now=int(time.time()) - 3600)
    r = await gateway.post("/v1/conversations", json={}, headers={"Authorization": f"Bearer {expired}"})
    assert r.status == 401 and (await r.json())["error"] == "token_expired"
    conv, h = await new_conversation(gateway)
    r = await say(gateway, conv, {"Authorization": f"Bearer {expired}"}, "hi")
    assert r.status == 401


async def test_other_buyers_conversation_is_not_reachable(gateway, fake_rasa):
    conv, h = await new_conversation(gateway, "buyer-001")
    await say(gateway, conv, h, "my orders")
    n = len(fake_rasa.state["messages"])
    for headers in (auth("buyer-002"), {}, {"X-Conversation-Token": "x"}):
        assert (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=headers)).status in (403, 404)
        assert (await say(gateway, conv, headers, "let me in")).status in (403, 404)
        assert (await gateway.get(f"/v1/conversations/{conv['id']}", headers=headers)).status in (403, 404)
    assert len(fake_rasa.state["messages"]) == n
    # and an anonymous conversation is not readable by a signed-in buyer
    anon, ah = await new_conversation(gateway, None)
    r = await gateway.get(f"/v1/conversations/{anon['id']}/messages", headers={**ah, **auth("buyer-002")})
    assert r.status in (403, 404)


async def test_script_is_stored_and_returned_as_text(gateway):
    conv, h = await new_conversation(gateway)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    body = await (await say(gateway, conv, h, evil)).json()
    assert body["messages"][0]["text"] == evil  # exact text; the clients render it with textContent
    r = await gateway.get("/health")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_oversized_and_empty_messages(gateway, fake_rasa):
    conv, h = await new_conversation(gateway)
    r = await say(gateway, conv, h, "x" * 2001)
    assert r.status == 413
    err = await r.json()
    assert err["error"] == "message_too_long" and "2,000" in err["message"]
    assert (await say(gateway, conv, h, "x" * 2000)).status == 200
    for empty in ("", "   \n"):
        r = await say(gateway, conv, h, empty)
        assert r.status == 400 and (await r.json())["error"] == "empty_message"
    r = await gateway.post(f"/v1/conversations/{conv['id']}/messages", data="not json", headers=h)
    assert r.status == 400
    r = await gateway.post(f"/v1/conversations/{conv['id']}/messages", data="x" * 100_000,
                           headers={**h, "Content-Type": "application/json"})
    assert r.status == 413


def test_token_bucket_10_per_10_seconds():
    from bot.gateway.security import RateLimiter

    now = [100.0]
    rl = RateLimiter(10, 10.0, clock=lambda: now[0])
    assert all(rl.take("c")[0] for _ in range(10))
    ok, wait = rl.take("c")
    assert not ok and 0.9 < wait <= 1.0
    assert rl.take("other")[0]  # per conversation
    now[0] += 1.0
    assert rl.take("c")[0] and not rl.take("c")[0]


async def test_rate_limit_per_conversation(make_gateway):
    # a long window so a slow CI machine cannot refill the bucket during the test
    from bot.gateway.limits import Limit

    gateway = await make_gateway(limits={"messages_per_conversation": Limit(10, 3600)})
    conv, h = await new_conversation(gateway)
    statuses = [(await say(gateway, conv, h, f"m{i}")).status for i in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    r = await say(gateway, conv, h, "again")
    assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
    assert "too fast" in (await r.json())["message"]
    other, oh = await new_conversation(gateway, "buyer-002")
    assert (await say(gateway, other, oh, "hi")).status == 200  # buckets are per conversation


async def test_rasa_failures_get_an_apology_and_keep_the_message(gateway, fake_rasa):
    conv, h = await new_conversation(gateway)
    for text in ("boom", "slow", "empty"):
        r = await say(gateway, conv, h, text)
        assert r.status == 200
        msgs = (await r.json())["messages"]
        assert msgs[0]["sender"] == "buyer" and msgs[0]["text"] == text
        assert msgs[1]["sender"] == "bot" and msgs[1]["kind"] == "bot_unavailable"
        assert "Sorry" in msgs[1]["text"]
        assert msgs[1]["buttons"][0]["title"] == "Talk to a person"
    hist = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert [m["text"] for m in hist if m["sender"] == "buyer"] == ["boom", "slow", "empty"]


async def test_rasa_down_then_person_button_queues(make_gateway, fake_rasa):
    client = await make_gateway(rasa_url="http://127.0.0.1:9")  # nothing listens there
    conv, h = await new_conversation(client)
    msgs = (await (await say(client, conv, h, "hello")).json())["messages"]
    assert msgs[1]["kind"] == "bot_unavailable"
    button = msgs[1]["buttons"][0]
    body = await (await say(client, conv, h, button["title"], payload=button["payload"])).json()
    assert body["conversation"]["state"] == "queued"
    assert body["messages"][-1]["kind"] == "queued"
    assert "No support agent is signed in" in body["messages"][-1]["text"]


async def test_restart_loses_no_message(db_url, fake_rasa, aiohttp_client):
    def app():
        s = Settings(database_url=db_url, jwt_secret=SECRET, rasa_url=str(fake_rasa.make_url("")), rasa_token="rasa-test-token")
        return create_app(s, GatewaySettings(database_url=db_url, rasa_timeout_s=1.5, schema="none"))

    first = await aiohttp_client(app())
    conv, h = await new_conversation(first)
    for t in ("one", "two", "talk to a person", "three (to the agent)"):
        assert (await say(first, conv, h, t)).status == 200
    before = (await (await first.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    await first.close()
    second = await aiohttp_client(app())
    after = await (await second.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json()
    assert after["messages"] == before
    assert after["conversation"]["state"] == "queued"
    assert [m["text"] for m in before if m["sender"] == "buyer"] == ["one", "two", "talk to a person", "three (to the agent)"]


async def test_demo_token_endpoint(gateway):
    r = await gateway.post("/demo/api/token", json={"buyer_id": "buyer-001"})
    tok = (await r.json())["token"]
    r = await gateway.post("/v1/conversations", json={}, headers={"Authorization": f"Bearer {tok}"})
    assert r.status == 201
    assert (await gateway.post("/demo/api/token", json={"buyer_id": "buyer-999"})).status == 404


async def test_demo_routes_absent_outside_demo_mode(db_url, fake_rasa, aiohttp_client):
    s = Settings(database_url=db_url, jwt_secret=SECRET, rasa_url=str(fake_rasa.make_url("")))
    client = await aiohttp_client(create_app(s, GatewaySettings(database_url=db_url, schema="none")))
    assert (await client.post("/demo/api/token", json={"buyer_id": "buyer-001"})).status == 404
    assert (await client.get("/demo")).status == 404
