"""The agent workspace over HTTP: transfer / release, private notes, canned replies, the team
and the supervisor's routes (sign-in, CSRF and role checks on every new endpoint)."""
from __future__ import annotations

import contextlib
import datetime as dt

import aiohttp
import pytest
from gw_helpers import AGENT_PASSWORD, login, new_conversation, next_of, say


@contextlib.asynccontextmanager
async def agent_session(client, username):
    """A second signed-in console user (its own cookie jar) on the same gateway."""
    base = str(client.make_url("/"))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        pre = (await (await s.get(base + "console/api/csrf")).json())["csrf_token"]
        r = await s.post(base + "console/api/login", json={"username": username, "password": AGENT_PASSWORD},
                         headers={"X-CSRF-Token": pre})
        assert r.status == 200, await r.text()
        csrf = (await r.json())["csrf_token"]

        def call(method, path, **kw):
            return s.request(method, base + path.lstrip("/"), headers={"X-CSRF-Token": csrf}, **kw)

        call.session, call.csrf = s, csrf
        yield call


async def claimed_by_alice(client, buyer="buyer-001"):
    conv, h = await new_conversation(client, buyer)
    await say(client, conv, h, "talk to a person")
    csrf = await login(client)
    r = await client.post(f"/console/api/conversations/{conv['id']}/claim", headers={"X-CSRF-Token": csrf})
    assert r.status == 200, await r.text()
    return conv, h, csrf


def post(client, csrf, path, **kw):
    return client.post(path, headers={"X-CSRF-Token": csrf}, **kw)


# ---------------------------------------------------------------------------- transfer & release
async def test_transfer_to_a_signed_in_agent_tells_the_buyer_and_notifies_the_receiver(gateway):
    conv, h, csrf = await claimed_by_alice(gateway)
    async with agent_session(gateway, "bob") as bob:
        ws = await bob.session.ws_connect(str(gateway.make_url("/console/ws")),
                                          headers={"Origin": str(gateway.make_url("")).rstrip("/")})
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        r = await post(gateway, csrf, f"/console/api/conversations/{conv['id']}/transfer", json={"to": "bob"})
        assert r.status == 200, await r.text()
        assert (await r.json())["conversation"]["assigned_agent"] == "bob"
        event = await next_of(ws, "transferred", timeout=5)
        assert event["to"] == "bob" and event["from"] == "alice" and event["conversation_id"] == conv["id"]
        await ws.close()
        # bob may now reply; alice may not
        r = await bob("POST", f"/console/api/conversations/{conv['id']}/messages", json={"text": "Bob here."})
        assert r.status == 201
    r = await post(gateway, csrf, f"/console/api/conversations/{conv['id']}/messages", json={"text": "still me?"})
    assert r.status == 409
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert "Bob from our support team is taking over this chat." in [m["text"] for m in msgs]
    assert msgs[-1]["text"] == "Bob here." and msgs[-1]["agent_name"] == "Bob"


async def test_transfer_refused_to_an_agent_who_is_not_signed_in_or_unknown(gateway):
    conv, h, csrf = await claimed_by_alice(gateway)
    url = f"/console/api/conversations/{conv['id']}/transfer"
    r = await post(gateway, csrf, url, json={"to": "bob"})  # bob never signed in
    assert r.status == 409 and "not signed in" in (await r.json())["message"]
    assert (await post(gateway, csrf, url, json={"to": "nobody"})).status == 404
    assert (await post(gateway, csrf, url, json={})).status == 400
    assert (await post(gateway, csrf, url, json={"to": "alice"})).status == 409


async def test_transfer_needs_sign_in_csrf_and_ownership(gateway):
    conv, h = await new_conversation(gateway)
    await say(gateway, conv, h, "talk to a person")
    url = f"/console/api/conversations/{conv['id']}/transfer"
    assert (await gateway.post(url, json={"to": "bob"})).status == 401
    csrf = await login(gateway)
    assert (await gateway.post(url, json={"to": "bob"})).status == 403  # no CSRF token
    async with agent_session(gateway, "bob"):
        r = await post(gateway, csrf, url, json={"to": "bob"})  # alice does not own it
        assert r.status == 409 and (await r.json())["error"] == "not_yours"


async def test_release_puts_it_back_in_the_queue_and_tells_the_buyer(gateway, fake_rasa):
    conv, h, csrf = await claimed_by_alice(gateway)
    url = f"/console/api/conversations/{conv['id']}/release"
    assert (await gateway.post(url)).status == 403
    r = await post(gateway, csrf, url)
    assert r.status == 200 and (await r.json())["conversation"]["state"] == "queued"
    listing = await (await gateway.get("/console/api/conversations")).json()
    assert [c["id"] for c in listing["queue"]] == [conv["id"]]
    body = await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json()
    assert body["conversation"]["state"] == "queued"
    assert body["messages"][-1]["text"].startswith("A colleague from our support team will take over shortly.")
    n = len(fake_rasa.state["messages"])  # still with the people: the bot stays quiet
    await say(gateway, conv, h, "hello?")
    assert len(fake_rasa.state["messages"]) == n
    assert (await post(gateway, csrf, url)).status == 409  # not with an agent any more


# ---------------------------------------------------------------------------- notes
async def test_a_private_note_reaches_agents_only_never_the_buyer_or_rasa(gateway, fake_rasa):
    conv, h, csrf = await claimed_by_alice(gateway)
    secret = "NOTE: buyer was rude last week, check TA-100231 refund first"
    buyer_ws = await gateway.ws_connect(f"/v1/conversations/{conv['id']}/ws")
    from gw_helpers import token_for
    await buyer_ws.send_json({"type": "auth", "token": token_for("buyer-001")})
    assert (await buyer_ws.receive_json(timeout=5))["type"] == "ready"
    url = f"/console/api/conversations/{conv['id']}/notes"
    assert (await gateway.post(url, json={"text": secret})).status == 403  # CSRF
    r = await post(gateway, csrf, url, json={"text": secret})
    assert r.status == 201
    note = (await r.json())["note"]
    assert note["author_name"] == "Alice" and note["text"] == secret
    # the buyer's socket gets the agent's next message, and never the note
    await post(gateway, csrf, f"/console/api/conversations/{conv['id']}/messages", json={"text": "Looking now."})
    seen = []
    while True:
        e = await buyer_ws.receive_json(timeout=5)
        seen.append(e)
        if e.get("type") == "message" and e["message"]["text"] == "Looking now.":
            break
    assert secret not in str(seen)
    await buyer_ws.close()
    # nor the buyer's history, nor Rasa (after hand back the conversation talks to Rasa again)
    await post(gateway, csrf, f"/console/api/conversations/{conv['id']}/handback")
    await say(gateway, conv, h, "thanks")
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert secret not in str(msgs)
    assert secret not in str(fake_rasa.state["messages"]) and secret not in str(fake_rasa.state["events"])
    # agents see it, beside the transcript
    detail = await (await gateway.get(f"/console/api/conversations/{conv['id']}")).json()
    assert [n["text"] for n in detail["notes"]] == [secret]
    assert secret not in str(detail["messages"])
    assert [n["text"] for n in (await (await gateway.get(url)).json())["notes"]] == [secret]


async def test_notes_need_sign_in_and_a_text(gateway):
    conv, h, csrf = await claimed_by_alice(gateway)
    await gateway.post("/console/api/logout", headers={"X-CSRF-Token": csrf})
    url = f"/console/api/conversations/{conv['id']}/notes"
    assert (await gateway.get(url)).status == 401
    assert (await gateway.post(url, json={"text": "x"})).status == 401
    csrf = await login(gateway, "bob")  # any agent may leave a note
    assert (await post(gateway, csrf, url, json={"text": "  "})).status == 400
    r = await post(gateway, csrf, url, json={"text": "buyer read out card 4111 1111 1111 1111"})
    assert "4111" not in (await r.json())["note"]["text"]  # redacted like every message
    assert (await post(gateway, csrf, "/console/api/conversations/nope/notes", json={"text": "x"})).status == 404


# ---------------------------------------------------------------------------- canned replies
async def test_supervisor_manages_canned_replies_agents_search_and_fill_variables(gateway):
    conv, h, csrf_alice = await claimed_by_alice(gateway)
    body = {"shortcut": "order-check", "title": "Checking your order",
            "text": "Hi {buyer_name}, I'm checking order {order_id} for you now. {agent_name}"}
    # an agent cannot manage them
    r = await post(gateway, csrf_alice, "/console/api/canned-replies", json=body)
    assert r.status == 403 and (await r.json())["error"] == "supervisors_only"
    async with agent_session(gateway, "sam") as sam:
        assert (await sam.session.post(str(gateway.make_url("/console/api/canned-replies")), json=body)).status == 403
        r = await sam("POST", "/console/api/canned-replies", json=body)
        assert r.status == 201, await r.text()
        rid = (await r.json())["reply"]["id"]
        assert (await sam("POST", "/console/api/canned-replies", json=body)).status == 409  # shortcut taken
        assert (await sam("POST", "/console/api/canned-replies", json={**body, "shortcut": "Bad Shortcut"})).status == 400
        r = await sam("PUT", f"/console/api/canned-replies/{rid}", json={**body, "title": "Checking the order"})
        assert r.status == 200 and (await r.json())["reply"]["title"] == "Checking the order"
        assert (await sam("PUT", "/console/api/canned-replies/faq%2Fterm", json=body)).status == 404
        extra = await sam("POST", "/console/api/canned-replies", json={**body, "shortcut": "bye", "title": "Bye"})
        extra_id = (await extra.json())["reply"]["id"]
        assert (await sam("DELETE", f"/console/api/canned-replies/{extra_id}")).status == 200
        assert (await sam("DELETE", f"/console/api/canned-replies/{extra_id}")).status == 404
    assert (await post(gateway, csrf_alice, f"/console/api/canned-replies/{rid}", json=body)).status == 405
    r = await gateway.put(f"/console/api/canned-replies/{rid}", json=body, headers={"X-CSRF-Token": csrf_alice})
    assert r.status == 403
    # the agent searches and gets the text filled in for this conversation
    r = await gateway.get("/console/api/canned-replies", params={"q": "order", "conversation": conv["id"]})
    replies = (await r.json())["replies"]
    mine = next(x for x in replies if x["shortcut"] == "order-check")
    assert mine["rendered"] == ("Hi Acme Outdoor Supply LLC, I'm checking order TA-100212 for you now. Alice")
    assert mine["missing"] == []
    assert all(x["shortcut"] != "bye" for x in replies)


async def test_the_bots_faq_answers_are_offered_as_replies(gateway):
    await login(gateway)
    replies = (await (await gateway.get("/console/api/canned-replies", params={"q": "processing fee"})).json())["replies"]
    faq = next(x for x in replies if x["id"] == "faq/processing_fee")
    assert faq["source"] == "faq" and faq["text"].startswith("There's no processing fee")
    everything = (await (await gateway.get("/console/api/canned-replies")).json())["replies"]
    assert len([x for x in everything if x["source"] == "faq"]) >= 10


async def test_an_unknown_variable_value_stays_visible_for_the_agent(gateway):
    conv, h = await new_conversation(gateway, None)  # anonymous: no name, no order
    await say(gateway, conv, h, "talk to a person")
    async with agent_session(gateway, "sam") as sam:
        await sam("POST", "/console/api/canned-replies",
                  json={"shortcut": "hello", "title": "Hello", "text": "Hi {buyer_name}, about {order_id}:"})
        r = await sam("GET", f"/console/api/canned-replies?q=hello&conversation={conv['id']}")
        reply = next(x for x in (await r.json())["replies"] if x["shortcut"] == "hello")
        assert reply["rendered"] == "Hi [buyer name], about [order id]:"
        assert reply["missing"] == ["buyer_name", "order_id"]


async def test_canned_replies_need_sign_in(gateway):
    assert (await gateway.get("/console/api/canned-replies")).status == 401
    assert (await gateway.post("/console/api/canned-replies", json={})).status == 401
    assert (await gateway.delete("/console/api/canned-replies/1")).status == 401


# ---------------------------------------------------------------------------- the team (supervisors)
async def test_agents_see_the_team_but_only_supervisors_change_it(gateway):
    csrf = await login(gateway)
    team = (await (await gateway.get("/console/api/agents")).json())["agents"]
    alice = next(m for m in team if m["username"] == "alice")
    assert alice == {"username": "alice", "display_name": "Alice", "role": "agent", "active": True, "online": True,
                     "status": "available"}
    assert next(m for m in team if m["username"] == "bob")["online"] is False
    for method, path, body in (("POST", "/console/api/agents", {"username": "x", "password": "p" * 12}),
                               ("PATCH", "/console/api/agents/bob", {"active": False})):
        r = await gateway.request(method, path, json=body, headers={"X-CSRF-Token": csrf})
        assert r.status == 403 and (await r.json())["error"] == "supervisors_only"
        assert (await gateway.request(method, path, json=body)).status == 403  # CSRF first
    await gateway.post("/console/api/logout", headers={"X-CSRF-Token": csrf})
    assert (await gateway.get("/console/api/agents")).status == 401
    assert (await gateway.patch("/console/api/agents/bob", json={})).status == 401


async def test_supervisor_adds_sets_role_resets_password_and_disables(gateway):
    async with agent_session(gateway, "sam") as sam:
        r = await sam("POST", "/console/api/agents",
                      json={"username": "carol", "display_name": "Carol", "password": "carol-password-1"})
        assert r.status == 201 and (await r.json())["agent"]["role"] == "agent"
        assert (await sam("POST", "/console/api/agents", json={"username": "carol", "password": "x" * 12})).status == 409
        assert (await sam("POST", "/console/api/agents", json={"username": "dave", "password": "short"})).status == 400
        r = await sam("PATCH", "/console/api/agents/carol", json={"role": "supervisor"})
        assert (await r.json())["agent"]["role"] == "supervisor"
        assert (await sam("PATCH", "/console/api/agents/carol", json={"role": "boss"})).status == 400
        assert (await sam("PATCH", "/console/api/agents/nobody", json={"active": False})).status == 404
        assert (await sam("PATCH", "/console/api/agents/sam", json={"active": False})).status == 409
        r = await sam("PATCH", "/console/api/agents/carol", json={"password": "carol-new-password"})
        assert r.status == 200
        async with agent_session(gateway, "bob") as bob:
            # bob has a live console socket: disabling him ends it and his API calls
            ws = await bob.session.ws_connect(str(gateway.make_url("/console/ws")),
                                              headers={"Origin": str(gateway.make_url("")).rstrip("/")})
            assert (await ws.receive_json(timeout=5))["type"] == "hello"
            r = await sam("PATCH", "/console/api/agents/bob", json={"active": False})
            assert r.status == 200 and (await r.json())["agent"]["active"] is False
            assert (await bob("GET", "/console/api/me")).status == 401
            assert (await next_of(ws, "session_ended", timeout=5))["username"] == "bob"  # told why
            closed = await ws.receive(timeout=5)
            assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    # the new password works, the old sign-in of a disabled agent does not
    await login(gateway, "carol", "carol-new-password")
    pre = (await (await gateway.get("/console/api/csrf")).json())["csrf_token"]
    r = await gateway.post("/console/api/login", json={"username": "bob", "password": AGENT_PASSWORD},
                           headers={"X-CSRF-Token": pre})
    assert r.status == 401


@pytest.mark.parametrize("path", ["/console/api/conversations/x/transfer", "/console/api/conversations/x/release",
                                  "/console/api/me/status",
                                  "/console/api/conversations/x/notes", "/console/api/canned-replies",
                                  "/console/api/agents"])
async def test_every_new_post_needs_sign_in(gateway, path):
    assert (await gateway.post(path, json={})).status == 401


# ---------------------------------------------------------------------------- search
async def test_search_finds_open_and_closed_conversations_by_buyer_order_text_and_date(gateway):
    conv, h, csrf = await claimed_by_alice(gateway)
    await say(gateway, conv, h, "Where is my order ta100231? 100% urgent_please")
    await post(gateway, csrf, f"/console/api/conversations/{conv['id']}/close")
    other, h2 = await new_conversation(gateway, "buyer-002")
    await say(gateway, other, h2, "hello there")

    async def ids(**params):
        r = await gateway.get("/console/api/search", params=params)
        assert r.status == 200, await r.text()
        return [x["conversation"]["id"] for x in (await r.json())["results"]]

    assert await ids(q="TA-100231") == [conv["id"]]  # a closed conversation, by order id
    hit = (await (await gateway.get("/console/api/search", params={"q": "TA-100231"})).json())["results"][0]
    assert hit["conversation"]["state"] == "closed" and hit["matched"] == "order"
    assert "ta100231" in hit["snippet"]
    assert await ids(q="buyer-002") == [other["id"]]
    assert await ids(q="HELLO THERE") == [other["id"]]
    assert await ids(q="100%") == [conv["id"]]  # LIKE wildcards are searched as text
    assert await ids(q="%") == [conv["id"]]
    today = dt.date.today().isoformat()
    assert set(await ids(**{"from": today, "to": today})) == {conv["id"], other["id"]}
    assert await ids(q="hello", to="2000-01-01") == []
    # a transcript found so is readable (read-only: it is closed)
    detail = await (await gateway.get(f"/console/api/conversations/{conv['id']}")).json()
    assert detail["conversation"]["state"] == "closed"
    for bad in ({}, {"q": "x" * 101}, {"from": "yesterday"}, {"from": "2026-11-30", "to": "2026-11-01"}):
        assert (await gateway.get("/console/api/search", params=bad)).status == 400


async def test_search_needs_sign_in(gateway):
    assert (await gateway.get("/console/api/search", params={"q": "buyer-001"})).status == 401


# ---------------------------------------------------------------------------- typing, both ways
async def test_typing_is_shown_both_ways_over_the_websockets(gateway):
    from gw_helpers import open_buyer_ws, token_for

    conv, h, csrf = await claimed_by_alice(gateway)
    origin = {"Origin": str(gateway.make_url("")).rstrip("/")}
    console = await gateway.ws_connect("/console/ws", headers=origin)
    assert (await console.receive_json(timeout=5))["type"] == "hello"
    buyer = await open_buyer_ws(gateway, conv, token=token_for("buyer-001"))
    assert (await buyer.receive_json(timeout=5))["type"] == "ready"
    async with agent_session(gateway, "bob") as bob:  # not his chat: the buyer sees nothing from him
        bob_ws = await bob.session.ws_connect(str(gateway.make_url("/console/ws")), headers=origin)
        await bob_ws.receive_json(timeout=5)
        await bob_ws.send_json({"type": "typing", "conversation_id": conv["id"]})
        await buyer.send_json({"type": "typing"})
        e = await next_of(console, "typing", timeout=5)
        assert e == {"type": "typing", "conversation_id": conv["id"], "who": "buyer"}
        await console.send_json({"type": "typing", "conversation_id": conv["id"]})
        e = await next_of(buyer, "typing", timeout=5)
        assert e == {"type": "typing", "who": "agent", "name": "Alice"}  # the first one is the owner's
        await bob_ws.close()
    # typing is never stored
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert all(m.get("kind") != "typing" for m in msgs)
    await buyer.close()
    await console.close()


# ---------------------------------------------------------------------------- close with a closing line
async def test_close_with_a_closing_line_sends_it_first(gateway):
    conv, h, csrf = await claimed_by_alice(gateway)
    url = f"/console/api/conversations/{conv['id']}/close"
    assert (await post(gateway, csrf, url, json={"closing_line": 42})).status == 400
    async with agent_session(gateway, "bob") as bob:  # not his chat: no words to the buyer
        r = await bob("POST", url, json={"closing_line": "Bye from Bob"})
        assert r.status == 409
    r = await post(gateway, csrf, url, json={"closing_line": "Glad I could help!"})
    assert r.status == 200 and (await r.json())["conversation"]["state"] == "closed"
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert [(m["sender"], m["text"][:18]) for m in msgs[-2:]] == [("agent", "Glad I could help!"),
                                                                ("system", "This conversation ")]
    assert "Bye from Bob" not in str(msgs)


# ---------------------------------------------------------------------------- business hours
async def test_outside_business_hours_the_buyer_is_told_when_the_team_is_back(make_gateway):
    from bot.gateway.hours import BusinessHours

    now = dt.datetime.now(dt.timezone.utc)
    # open for one minute, six hours from now, every day: closed now whatever the day
    start = (now + dt.timedelta(hours=6)).replace(second=0, microsecond=0)
    end = start + dt.timedelta(minutes=1)
    if end.date() != start.date():
        start, end = start - dt.timedelta(minutes=2), start - dt.timedelta(minutes=1)
    spec = f"mon-sun {start:%H:%M}-{end:%H:%M}"
    gateway = await make_gateway(business_hours=BusinessHours.parse(spec, "UTC"))
    await login(gateway)  # even with an agent signed in
    conv, h = await new_conversation(gateway)
    body = await (await say(gateway, conv, h, "talk to a person")).json()
    notice = body["messages"][-1]
    assert notice["kind"] == "queued" and "Our support team is away right now." in notice["text"]  # after the bot's takeover sentence
    assert f"at {start:%H:%M} (UTC time)" in notice["text"] and "waits in the queue" in notice["text"]
    listing = await (await gateway.get("/console/api/conversations")).json()
    assert [c["id"] for c in listing["queue"]] == [conv["id"]]  # the message waits for the team


# ---------------------------------------------------------------------------- available / away
async def test_an_away_agent_gets_no_transfers_and_does_not_count_as_joining_soon(gateway):
    conv, h, csrf = await claimed_by_alice(gateway)
    async with agent_session(gateway, "bob") as bob:
        assert (await bob.session.post(str(gateway.make_url("/console/api/me/status")), json={"status": "away"})).status == 403
        assert (await bob("POST", "/console/api/me/status", json={"status": "asleep"})).status == 400
        r = await bob("POST", "/console/api/me/status", json={"status": "away"})
        assert r.status == 200 and (await r.json())["agent"]["status"] == "away"
        assert (await (await bob("GET", "/console/api/me")).json())["agent"]["status"] == "away"
        r = await post(gateway, csrf, f"/console/api/conversations/{conv['id']}/transfer", json={"to": "bob"})
        assert r.status == 409 and (await r.json())["error"] == "agent_away"
        await post(gateway, csrf, "/console/api/me/status", json={"status": "away"})  # alice too: nobody available
        other, h2 = await new_conversation(gateway, "buyer-002")
        body = await (await say(gateway, other, h2, "talk to a person")).json()
        assert "No support agent is signed in" in body["messages"][-1]["text"]
        await bob("POST", "/console/api/me/status", json={"status": "available"})
        r = await post(gateway, csrf, f"/console/api/conversations/{conv['id']}/transfer", json={"to": "bob"})
        assert r.status == 200
    assert (await gateway.post("/console/api/me/status", json={"status": "away"})).status == 403  # CSRF


# ---------------------------------------------------------------------------- demo accounts
def test_demo_mode_has_two_agents_and_a_supervisor_and_each_blocks_a_production_start(tmp_path):
    import sqlalchemy as sa

    from bot.gateway.db import Store, agents, make_engine
    from bot.gateway.demo import load_demo_agent
    from bot.startup_checks import demo_agent_still_open

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    load_demo_agent(url, "create")
    engine = make_engine(url)
    roles = {u: Store(engine).get_agent(u)["role"] for u in ("agent", "agent2", "supervisor")}
    assert roles == {"agent": "agent", "agent2": "agent", "supervisor": "supervisor"}
    assert demo_agent_still_open(url) == "agent"
    with engine.begin() as c:
        c.execute(sa.update(agents).where(agents.c.username.in_(("agent", "agent2"))).values(active=False))
    assert demo_agent_still_open(url) == "supervisor"  # the published supervisor password counts too
    with engine.begin() as c:
        c.execute(sa.update(agents).values(active=False))
    engine.dispose()
    assert demo_agent_still_open(url) is None


async def test_a_disabled_agent_s_open_chats_go_back_to_the_queue_and_the_buyer_is_told(gateway):
    conv, h, alice_csrf = await claimed_by_alice(gateway)
    other, h2 = await new_conversation(gateway, "buyer-002")
    await say(gateway, other, h2, "talk to a person")
    assert (await post(gateway, alice_csrf, f"/console/api/conversations/{other['id']}/claim")).status == 200
    async with agent_session(gateway, "sam") as sam:
        r = await sam("PATCH", "/console/api/agents/alice", json={"active": False})
        assert r.status == 200, await r.text()
        listing = await (await sam("GET", "/console/api/conversations")).json()
        # first in line, as the buyers are told: they keep the time they first asked for a person
        assert [c["id"] for c in listing["queue"]] == [conv["id"], other["id"]]
        assert listing["queue"][0]["queued_at"] <= listing["queue"][1]["queued_at"]
        assert listing["others"] == []
    for c, headers in ((conv, h), (other, h2)):
        body = await (await gateway.get(f"/v1/conversations/{c['id']}/messages", headers=headers)).json()
        assert body["conversation"]["state"] == "queued"
        assert body["messages"][-1]["kind"] == "released"
        assert body["messages"][-1]["text"].startswith("A colleague from our support team will take over shortly.")
