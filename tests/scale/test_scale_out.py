"""Several Rasa replicas on PostgreSQL (trackers) and Redis (locks): a conversation keeps its
state whichever replica answers, and survives the loss of a replica. The gateway pins each
conversation to one replica (stable hash, PAYLATER_RASA_URLS) and fails over to the next one when
its replica is down; these tests do what it does, replica by replica.

Needs PostgreSQL and Redis (skipped with the reason when absent) and a trained model."""
from __future__ import annotations

import urllib.error
import uuid

import pytest

from bot.auth import mint_buyer_token

pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis]

FORM = "pay_later_application_form"
FORM_SLOTS = ["business_name", "us_based", "years_in_business", "annual_revenue", "requested_limit", "application_confirmed"]


def is_product(cluster) -> bool:
    return FORM in (cluster.domain().get("forms") or {})


def script(cluster):
    if is_product(cluster):
        return ["hi", "what is pay later?", "is there a processing fee?", "which currency can I pay in?", "thanks"]
    return ["hello", "I am sad", "yes", "are you a bot?", "bye"]  # the `rasa init` moodbot


def user_texts(tracker: dict) -> list:
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


def bot_count(tracker: dict) -> int:
    return sum(1 for e in tracker["events"] if e["event"] == "bot")


def new_sender(tag: str) -> str:
    return f"scale-{tag}-{uuid.uuid4().hex[:10]}"


def test_replicas_share_one_tracker_store(cluster):
    sender = new_sender("alt")
    messages = script(cluster)
    for n, text in enumerate(messages):
        reply = cluster.send(n % 2, sender, text)  # alternate replica 0, 1, 0, ...
        assert reply, f"no answer to {text!r} from replica {n % 2}"
    t0, t1 = cluster.tracker(0, sender), cluster.tracker(1, sender)
    assert user_texts(t0) == messages
    assert user_texts(t1) == messages
    assert [e["event"] for e in t0["events"]] == [e["event"] for e in t1["events"]]
    assert bot_count(t1) >= len(messages)


def test_application_form_continues_across_replicas(cluster):
    if not is_product(cluster):
        pytest.skip(f"the model has no {FORM} (not the product model)")
    meta = {"client": "web", "auth_token": mint_buyer_token("buyer-002", cluster.env["PAYLATER_JWT_SECRET"])}
    sender = new_sender("form")
    cluster.send(0, sender, "I want to apply for pay later", meta)
    tracker = cluster.tracker(1, sender)
    assert (tracker.get("active_loop") or {}).get("name") == FORM
    assert tracker["slots"]["requested_slot"] == FORM_SLOTS[0]
    answers = ["Blue Harbor Imports Inc", "yes, we are in New Jersey", "6 years", "$800,000 a year"]
    for n, answer in enumerate(answers):
        replica = (n + 1) % 2  # the answer to a question asked by one replica goes to the other
        assert cluster.send(replica, sender, answer, meta), f"no answer from replica {replica}"
        tracker = cluster.tracker(1 - replica, sender)  # and is read back from the first
        assert (tracker.get("active_loop") or {}).get("name") == FORM, f"form lost after {answer!r}"
        assert tracker["slots"]["requested_slot"] == FORM_SLOTS[n + 1], f"after {answer!r}"
    slots = cluster.tracker(0, sender)["slots"]
    assert "blue harbor" in str(slots["business_name"]).lower()
    assert slots["us_based"] not in (None, False, "False", "false")
    assert slots["years_in_business"] and slots["annual_revenue"]


# ---------------------------------------------------------------- two gateways, one Redis

async def _agent_session(http, base: str) -> dict:
    """Sign the demo agent in on gateway `base`; returns headers for state-changing calls."""
    async with http.get(f"{base}/console/api/csrf") as r:
        login_csrf = (await r.json())["csrf_token"]
    async with http.post(f"{base}/console/api/login", json={"username": "agent", "password": "agent-demo-password"},
                         headers={"X-CSRF-Token": login_csrf}) as r:
        assert r.status == 200, await r.text()
        return {"X-CSRF-Token": (await r.json())["csrf_token"]}


async def _next_message(ws, predicate, timeout_s: float = 15.0) -> dict:
    import asyncio

    async def wait():
        while True:
            event = await ws.receive_json()
            if event.get("type") == "message" and predicate(event["message"]):
                return event["message"]

    return await asyncio.wait_for(wait(), timeout_s)


async def test_buyer_socket_on_one_gateway_receives_agent_reply_sent_through_the_other(cluster):
    import aiohttp

    gw_a, gw_b = cluster.gateway_urls
    token = mint_buyer_token("buyer-001", cluster.env["PAYLATER_JWT_SECRET"])
    auth = {"Authorization": f"Bearer {token}"}
    text = f"agent reply via the other gateway {uuid.uuid4().hex[:6]}"
    # Each gateway keeps its own cookie jar: the agent signs in on B only.
    # unsafe=True: aiohttp keeps no cookies for IP-address hosts otherwise.
    async with aiohttp.ClientSession() as buyer_http, aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent_http:
        async with buyer_http.post(f"{gw_a}/v1/conversations", json={"client": "web"}, headers=auth) as r:
            assert r.status == 201, await r.text()
            cid = (await r.json())["id"]
        async with buyer_http.ws_connect(f"{gw_a}/v1/conversations/{cid}/ws") as ws:
            await ws.send_json({"type": "auth", "token": token})
            ready = await ws.receive_json(timeout=10)
            assert ready["type"] == "ready", ready
            await ws.send_json({"type": "message", "text": "hello"})
            await _next_message(ws, lambda m: m["sender"] == "bot")  # the bot answered through A
            headers = await _agent_session(agent_http, gw_b)
            async with agent_http.post(f"{gw_b}/console/api/conversations/{cid}/claim", headers=headers) as r:
                assert r.status == 200, await r.text()
            async with agent_http.post(f"{gw_b}/console/api/conversations/{cid}/messages", json={"text": text},
                                       headers=headers) as r:
                assert r.status == 201, await r.text()
            got = await _next_message(ws, lambda m: m["sender"] == "agent")
            assert got["text"] == text


async def test_each_gateway_answers_the_same_conversation(cluster):
    """A buyer's conversation keeps working whichever gateway the load balancer picks."""
    import aiohttp

    gw_a, gw_b = cluster.gateway_urls
    token = mint_buyer_token("buyer-001", cluster.env["PAYLATER_JWT_SECRET"])
    auth = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw_a}/v1/conversations", json={"client": "web"}, headers=auth) as r:
            cid = (await r.json())["id"]
        for n, text in enumerate(script(cluster)[:4]):
            base = (gw_a, gw_b)[n % 2]
            async with http.post(f"{base}/v1/conversations/{cid}/messages", json={"text": text}, headers=auth) as r:
                assert r.status == 200, await r.text()
                body = await r.json()
            bots = [m for m in body["messages"] if m["sender"] == "bot"]
            assert bots and all(m.get("kind") != "bot_unavailable" for m in bots), body
        async with http.get(f"{gw_b}/v1/conversations/{cid}/messages", headers=auth) as r:
            history = (await r.json())["messages"]
    assert [m["text"] for m in history if m["sender"] == "buyer"] == script(cluster)[:4]
    tracker = cluster.tracker(1, cid)  # whichever replica answered, the tracker is shared
    assert user_texts(tracker) == script(cluster)[:4]


def _gateway(cluster, method: str, path: str, body=None, gateway: int = 0) -> dict:
    """A buyer (buyer-001, signed in) calling gateway `gateway` over HTTP."""
    import json
    import urllib.request

    token = mint_buyer_token("buyer-001", cluster.env["PAYLATER_JWT_SECRET"])
    req = urllib.request.Request(cluster.gateway_urls[gateway] + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def _gateway_conversation_pinned_to(cluster, replica: int) -> str:
    """A new gateway conversation whose id hashes to Rasa replica `replica` (the gateway's pinning)."""
    from bot.gateway.rasa import replica_order

    for _ in range(40):
        cid = str(_gateway(cluster, "POST", "/v1/conversations", {"client": "web"})["id"])
        if replica_order(cid, cluster.rasa_urls)[0] == cluster.rasa_urls[replica]:
            return cid
    pytest.fail(f"no conversation hashed to replica {replica} in 40 tries")


def _say(cluster, cid: str, text: str) -> list:
    """The bot's answers to `text`; never the 'assistant unavailable' notice."""
    body = _gateway(cluster, "POST", f"/v1/conversations/{cid}/messages", {"text": text})
    bots = [m for m in body["messages"] if m["sender"] == "bot"]
    assert bots and all(m.get("kind") != "bot_unavailable" for m in bots), (text, body)
    return bots


def test_no_message_lost_when_a_replica_stops(cluster):
    """Runs after the tests above (file order): it stops replica 0 for good. A conversation
    pinned to replica 0 (directly, and through the gateway) goes on on replica 1 with its history."""
    sender = new_sender("failover")
    messages = script(cluster)
    for text in messages[:3]:
        assert cluster.send(0, sender, text)  # the conversation's own replica
    pinned = _gateway_conversation_pinned_to(cluster, 0)
    for text in messages[:2]:
        _say(cluster, pinned, text)
    assert user_texts(cluster.tracker(0, pinned)) == messages[:2], "the gateway really used replica 0"
    before = cluster.tracker(0, sender)
    cluster.stop_replica(0)
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        cluster.send(0, sender, messages[3])  # gone: the gateway fails over to the next replica
    for text in messages[3:]:
        assert cluster.send(1, sender, text), f"no answer from the surviving replica to {text!r}"
    after = cluster.tracker(1, sender)
    assert user_texts(after) == messages, "every message, before and after the failover, is in the tracker"
    assert after["events"][: len(before["events"])] == before["events"], "earlier events kept as they were"
    assert bot_count(after) >= len(messages)

    # the gateway's conversation pinned to the stopped replica survived: answered by replica 1,
    # with the messages it had before the stop still in its (shared) tracker and history
    for text in messages[2:]:
        _say(cluster, pinned, text)
    assert user_texts(cluster.tracker(1, pinned)) == messages
    history = _gateway(cluster, "GET", f"/v1/conversations/{pinned}/messages", gateway=1)["messages"]
    assert [m["text"] for m in history if m["sender"] == "buyer"] == messages


def test_gateway_fails_over_to_the_surviving_replica(cluster):
    """Runs after replica 0 is stopped: new conversations the gateway pins to it are answered
    by replica 1 (their tracker is there), and so are the others."""
    stopped, alive = cluster.rasa_urls[0], cluster.rasa_urls[1]
    from bot.gateway.rasa import replica_order

    pinned_to_stopped = others = 0
    text = script(cluster)[0]
    for _ in range(40):  # about half of them hash to the stopped replica; test two of each
        cid = str(_gateway(cluster, "POST", "/v1/conversations", {"client": "web"})["id"])
        to_stopped = replica_order(cid, [stopped, alive])[0] == stopped
        if (pinned_to_stopped if to_stopped else others) >= 2:
            continue
        _say(cluster, cid, text)
        assert user_texts(cluster.tracker(1, cid)) == [text]
        pinned_to_stopped += to_stopped
        others += not to_stopped
        if pinned_to_stopped >= 2 and others >= 2:
            break
    assert pinned_to_stopped == 2, "no conversation hashed to the stopped replica: nothing was tested"
