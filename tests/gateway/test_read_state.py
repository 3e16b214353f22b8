"""Read state per message over HTTP: the widget says what it has shown, the gateway keeps it per
conversation (unread badge after a reload, "Seen" in the console), and each agent's unread
counts are stored per agent (sign-in, CSRF and ownership checks on the new routes)."""
from __future__ import annotations

from gw_helpers import auth, login, new_conversation, next_of, say
from test_workspace_api import agent_session, claimed_by_alice, post


async def _history(client, conv, h):
    r = await client.get(f"/v1/conversations/{conv['id']}/messages", headers=h)
    assert r.status == 200
    return await r.json()


async def _agent_says(client, csrf, conv, text):
    r = await post(client, csrf, f"/console/api/conversations/{conv['id']}/messages", json={"text": text})
    assert r.status == 201, await r.text()


async def test_the_buyer_s_unread_replies_survive_a_reload_until_the_widget_says_it_showed_them(gateway):
    conv, h, csrf = await claimed_by_alice(gateway)
    seen_so_far = (await _history(gateway, conv, h))["messages"][-1]["id"]
    r = await gateway.post(f"/v1/conversations/{conv['id']}/read", json={"up_to": seen_so_far}, headers=h)
    assert r.status == 200 and (await r.json())["unread"] == 0
    await _agent_says(gateway, csrf, conv, "Hi, I'm Alice.")
    await _agent_says(gateway, csrf, conv, "I can see your order TA-100231.")
    body = await _history(gateway, conv, h)  # the widget reloads while closed
    first_agent = [m for m in body["messages"] if m["sender"] == "agent"][0]
    assert body["read"] == {"last_read_id": seen_so_far, "unread": 2}
    # the buyer opens the widget: it reports the first reply shown, then all of them
    r = await gateway.post(f"/v1/conversations/{conv['id']}/read", json={"up_to": first_agent["id"]}, headers=h)
    assert (await r.json()) == {"last_read_id": first_agent["id"], "unread": 1}
    last = body["messages"][-1]["id"]
    r = await gateway.post(f"/v1/conversations/{conv['id']}/read", json={"up_to": last + 1000}, headers=h)
    assert (await r.json()) == {"last_read_id": last, "unread": 0}  # clamped to the last message
    r = await gateway.post(f"/v1/conversations/{conv['id']}/read", json={"up_to": 1}, headers=h)
    assert (await r.json())["last_read_id"] == last  # never moves back
    assert (await _history(gateway, conv, h))["read"] == {"last_read_id": last, "unread": 0}


async def test_a_read_call_needs_the_conversation_s_owner_and_a_message_id(gateway):
    conv, h = await new_conversation(gateway, "buyer-001")
    url = f"/v1/conversations/{conv['id']}/read"
    for bad in ({}, {"up_to": "7"}, {"up_to": -1}, {"up_to": True}, {"up_to": 2**40}):
        r = await gateway.post(url, json=bad, headers=h)
        assert r.status == 400 and (await r.json())["error"] == "invalid_up_to", bad
    assert (await gateway.post(url, json={"up_to": 1})).status in (401, 403, 404)  # no token
    other = await gateway.post(url, json={"up_to": 1}, headers=auth("buyer-002"))
    assert other.status in (403, 404)
    anon, ah = await new_conversation(gateway, None)
    r = await gateway.post(f"/v1/conversations/{anon['id']}/read", json={"up_to": 0}, headers=ah)
    assert r.status == 200


async def test_the_console_shows_whether_the_buyer_has_seen_the_agent_s_reply_live(gateway):
    conv, h, csrf = await claimed_by_alice(gateway)
    await _agent_says(gateway, csrf, conv, "Hello from Alice.")
    detail = await (await gateway.get(f"/console/api/conversations/{conv['id']}")).json()
    reply = detail["messages"][-1]
    assert reply["sender"] == "agent" and detail["buyer_last_read_id"] < reply["id"]  # not seen yet
    ws = await gateway.ws_connect("/console/ws", headers={"Origin": str(gateway.make_url("")).rstrip("/")})
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    await gateway.post(f"/v1/conversations/{conv['id']}/read", json={"up_to": reply["id"]}, headers=h)
    event = await next_of(ws, "read", timeout=5)
    assert event == {"type": "read", "conversation_id": conv["id"], "who": "buyer", "last_read_id": reply["id"]}
    await ws.close()
    detail = await (await gateway.get(f"/console/api/conversations/{conv['id']}")).json()
    assert detail["buyer_last_read_id"] == reply["id"]


async def test_each_agent_s_unread_counts_are_stored_and_survive_a_console_reload(gateway):
    conv, h = await new_conversation(gateway, "buyer-001")
    await say(gateway, conv, h, "talk to a person")
    await say(gateway, conv, h, "my order TA-100231 was charged twice")
    csrf = await login(gateway)
    queue = (await (await gateway.get("/console/api/conversations")).json())["queue"]
    assert [(c["id"], c["unread"]) for c in queue] == [(conv["id"], 2)]
    detail = await (await gateway.get(f"/console/api/conversations/{conv['id']}")).json()
    last = detail["messages"][-1]["id"]
    r = await post(gateway, csrf, f"/console/api/conversations/{conv['id']}/read", json={"up_to": last})
    assert r.status == 200 and (await r.json())["last_read_id"] == last
    await say(gateway, conv, h, "are you there?")
    await login(gateway)  # a new session (a reload, another tab): the counts come from the server
    queue = (await (await gateway.get("/console/api/conversations")).json())["queue"]
    assert queue[0]["unread"] == 1
    async with agent_session(gateway, "bob") as bob:  # bob has read nothing: his own count
        queue = (await (await bob("GET", "/console/api/conversations")).json())["queue"]
        assert queue[0]["unread"] == 3


async def test_the_console_read_route_needs_sign_in_csrf_and_a_real_conversation(gateway):
    conv, h = await new_conversation(gateway, "buyer-001")
    url = f"/console/api/conversations/{conv['id']}/read"
    assert (await gateway.post(url, json={"up_to": 1})).status == 401
    csrf = await login(gateway)
    r = await gateway.post(url, json={"up_to": 1})
    assert r.status == 403 and (await r.json())["error"] == "csrf_failed"
    assert (await post(gateway, csrf, "/console/api/conversations/nope/read", json={"up_to": 1})).status == 404
    assert (await post(gateway, csrf, url, json={"up_to": "x"})).status == 400
    assert (await post(gateway, csrf, url, json={"up_to": 0})).status == 200
