"""Handoff, the agent console API (sign-in, CSRF, claim race, reply, hand back, close)."""
from __future__ import annotations

import asyncio

import aiohttp
from gw_helpers import AGENT_PASSWORD, RASA_TOKEN, login, new_conversation, say


async def handed_off(client, buyer="buyer-001"):
    conv, h = await new_conversation(client, buyer)
    body = await (await say(client, conv, h, "talk to a person")).json()
    return conv, h, body


async def test_handoff_payload_is_stripped_and_conversation_queued(gateway, fake_rasa):
    conv, h, body = await handed_off(gateway)
    assert body["conversation"]["state"] == "queued"
    assert all("handoff" not in str(m) for m in body["messages"])
    # announced once: the bot's sentence and the queue state in one system line, no bot bubble beside it
    announcing = [m for m in body["messages"] if "connecting you with a person" in m["text"]]
    assert len(announcing) == 1 and announcing[0]["sender"] == "system", body["messages"]
    assert body["messages"][-1]["kind"] == "queued"
    assert body["messages"][-1]["text"].startswith("I'm connecting you with a person from our support team. ")
    assert "No support agent is signed in" in body["messages"][-1]["text"]  # nobody signed in yet
    assert (conv["id"], "pause") in fake_rasa.state["events"]
    # while queued, buyer messages go to the agents only, not to Rasa
    n = len(fake_rasa.state["messages"])
    r = await say(gateway, conv, h, "hello? anyone")
    assert [m["sender"] for m in (await r.json())["messages"]] == ["buyer"]
    assert len(fake_rasa.state["messages"]) == n


async def test_queue_notice_when_an_agent_is_signed_in(gateway):
    await login(gateway)
    conv, h, body = await handed_off(gateway)
    assert "A support agent will join" in body["messages"][-1]["text"]


async def test_console_requires_sign_in_and_rejects_bad_passwords(gateway):
    assert (await gateway.get("/console/api/conversations")).status == 401
    assert (await gateway.get("/console")).status == 200
    pre = (await (await gateway.get("/console/api/csrf")).json())["csrf_token"]
    r = await gateway.post("/console/api/login", json={"username": "alice", "password": "wrong-password"},
                           headers={"X-CSRF-Token": pre})
    assert r.status == 401 and (await r.json())["message"] == "Wrong username or password."
    r = await gateway.post("/console/api/login", json={"username": "nobody", "password": "wrong-password"},
                           headers={"X-CSRF-Token": pre})
    assert r.status == 401
    # the login itself needs the CSRF token (double submit)
    r = await gateway.post("/console/api/login", json={"username": "alice", "password": AGENT_PASSWORD})
    assert r.status == 403
    csrf = await login(gateway)
    r = await gateway.get("/console/api/me")
    assert (await r.json())["agent"] == {"username": "alice", "display_name": "Alice", "role": "agent",
                                                "status": "available"}
    cookie = r.request_info  # noqa: F841
    jar = {c.key: c for c in gateway.session.cookie_jar}
    morsel = jar["pl_agent"]
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and morsel["path"] == "/console"
    assert csrf


async def test_passwords_are_stored_hashed(db_url):
    import sqlalchemy as sa

    from bot.gateway.db import agents, make_engine
    from bot.gateway.security import verify_password

    engine = make_engine(db_url)
    with engine.connect() as c:
        stored = c.execute(sa.select(agents.c.password_hash).where(agents.c.username == "alice")).scalar()
    engine.dispose()
    assert AGENT_PASSWORD not in stored and stored.startswith("scrypt$")
    assert verify_password(AGENT_PASSWORD, stored) and not verify_password("nope", stored)


async def test_csrf_missing_or_wrong_is_403(gateway):
    conv, h, _ = await handed_off(gateway)
    csrf = await login(gateway)
    url = f"/console/api/conversations/{conv['id']}/claim"
    assert (await gateway.post(url)).status == 403
    r = await gateway.post(url, headers={"X-CSRF-Token": "wrong"})
    assert r.status == 403 and (await r.json())["error"] == "csrf_failed"
    assert (await gateway.post(url, headers={"X-CSRF-Token": csrf})).status == 200
    assert (await gateway.post("/console/api/logout")).status == 403


async def test_agent_takes_over_replies_hands_back(gateway, fake_rasa):
    conv, h, _ = await handed_off(gateway)
    await say(gateway, conv, h, "my order TA-100212 has not arrived")
    csrf = await login(gateway)
    hdr = {"X-CSRF-Token": csrf}
    queue = await (await gateway.get("/console/api/conversations")).json()
    item = next(q for q in queue["queue"] if q["id"] == conv["id"])
    assert item["wait_seconds"] >= 0 and item["buyer_id"] == "buyer-001"
    summary = item["handoff"]["summary"]
    assert item["handoff"]["reason"] == "requested" and item["handoff"]["reason_text"] == "Buyer asked for a person"
    assert summary["business_name"] == "Acme Outdoor Supply LLC" and summary["orders_mentioned"] == ["TA-100212"]
    detail = await (await gateway.get(f"/console/api/conversations/{conv['id']}")).json()
    assert any(m["text"] == "my order TA-100212 has not arrived" for m in detail["messages"])

    r = await gateway.post(f"/console/api/conversations/{conv['id']}/claim", headers=hdr)
    assert r.status == 200 and (await r.json())["conversation"]["assigned_agent"] == "alice"
    state = await (await gateway.get(f"/v1/conversations/{conv['id']}", headers=h)).json()
    assert state["state"] == "agent" and state["agent"] == {"name": "Alice"}

    r = await gateway.post(f"/console/api/conversations/{conv['id']}/messages", json={"text": "Hi, I'm Alice. Checking TA-100212."}, headers=hdr)
    assert r.status == 201
    n = len(fake_rasa.state["messages"])
    await say(gateway, conv, h, "thanks")
    assert len(fake_rasa.state["messages"]) == n  # still with the agent
    hist = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert any(m["sender"] == "agent" and m["agent_name"] == "Alice" and "TA-100212" in m["text"] for m in hist)
    assert any(m.get("kind") == "agent_joined" and "Alice" in m["text"] for m in hist)

    r = await gateway.post(f"/console/api/conversations/{conv['id']}/handback", headers=hdr)
    assert r.status == 200 and (await r.json())["conversation"]["state"] == "bot"
    assert fake_rasa.state["events"][-1] == (conv["id"], "resume")
    body = await (await say(gateway, conv, h, "what is pay later")).json()
    assert body["messages"][-1]["text"] == "You said: what is pay later"  # the bot answers again


async def test_agent_takes_over_a_live_bot_conversation_pauses_rasa(gateway, fake_rasa):
    conv, h = await new_conversation(gateway, "buyer-002")
    await say(gateway, conv, h, "hello")
    csrf = await login(gateway)
    live = (await (await gateway.get("/console/api/conversations")).json())["live"]
    assert conv["id"] in [c["id"] for c in live]
    r = await gateway.post(f"/console/api/conversations/{conv['id']}/claim", headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    assert (conv["id"], "pause") in fake_rasa.state["events"]


async def test_two_agents_race_one_wins(gateway):
    conv, h, _ = await handed_off(gateway)
    csrf_a = await login(gateway, "alice")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as bob:
        base = str(gateway.make_url("/"))
        pre = (await (await bob.get(base + "console/api/csrf")).json())["csrf_token"]
        r = await bob.post(base + "console/api/login", json={"username": "bob", "password": AGENT_PASSWORD},
                           headers={"X-CSRF-Token": pre})
        csrf_b = (await r.json())["csrf_token"]
        url = f"console/api/conversations/{conv['id']}/claim"
        ra, rb = await asyncio.gather(
            gateway.post("/" + url, headers={"X-CSRF-Token": csrf_a}),
            bob.post(base + url, headers={"X-CSRF-Token": csrf_b}),
        )
        statuses = sorted([ra.status, rb.status])
        assert statuses == [200, 409]
        loser = rb if rb.status == 409 else None
        winner = "alice" if ra.status == 200 else "bob"
        if loser is not None:
            assert (await loser.json())["error"] == "already_taken"
        # the loser cannot reply, hand back or close
        loser_post = (lambda p, **kw: bob.post(base + p, headers={"X-CSRF-Token": csrf_b}, **kw)) if winner == "alice" \
            else (lambda p, **kw: gateway.post("/" + p, headers={"X-CSRF-Token": csrf_a}, **kw))
        assert (await loser_post(f"console/api/conversations/{conv['id']}/messages", json={"text": "me too"})).status == 409
        assert (await loser_post(f"console/api/conversations/{conv['id']}/handback")).status == 409
        assert (await loser_post(f"console/api/conversations/{conv['id']}/close")).status == 409
        listing = await (await gateway.get("/console/api/conversations")).json()
        where = "mine" if winner == "alice" else "others"
        assert conv["id"] in [c["id"] for c in listing[where]]


async def test_close_resumes_tracker_and_next_message_reopens(gateway, fake_rasa):
    conv, h, _ = await handed_off(gateway)
    csrf = await login(gateway)
    hdr = {"X-CSRF-Token": csrf}
    await gateway.post(f"/console/api/conversations/{conv['id']}/claim", headers=hdr)
    r = await gateway.post(f"/console/api/conversations/{conv['id']}/close", headers=hdr)
    assert r.status == 200 and (await r.json())["conversation"]["state"] == "closed"
    assert fake_rasa.state["events"][-1] == (conv["id"], "resume")
    hist = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert hist[-1]["kind"] == "closed"
    body = await (await say(gateway, conv, h, "one more question")).json()
    assert body["conversation"]["state"] == "bot"
    assert body["messages"][-1]["text"] == "You said: one more question"
    assert (await gateway.post(f"/console/api/conversations/{conv['id']}/close", headers=hdr)).status == 200


async def test_offline_reply_is_seen_when_the_buyer_comes_back(gateway):
    conv, h, body = await handed_off(gateway)
    assert "No support agent is signed in" in body["messages"][-1]["text"]
    await say(gateway, conv, h, "I'll check back later")
    csrf = await login(gateway)
    hdr = {"X-CSRF-Token": csrf}
    await gateway.post(f"/console/api/conversations/{conv['id']}/claim", headers=hdr)
    await gateway.post(f"/console/api/conversations/{conv['id']}/messages", json={"text": "Answer while you were away"}, headers=hdr)
    hist = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json())["messages"]
    assert hist[-1]["sender"] == "agent" and hist[-1]["text"] == "Answer while you were away"


async def test_logout_ends_the_session(gateway):
    csrf = await login(gateway)
    assert (await gateway.post("/console/api/logout", headers={"X-CSRF-Token": csrf})).status == 200
    assert (await gateway.get("/console/api/me")).status == 401


async def test_agents_cli_and_demo_agent(db_url, monkeypatch, capsys):
    import io

    from bot.gateway import agents as cli
    from bot.gateway import demo
    from bot.gateway.db import Store, make_engine
    from bot.gateway.security import verify_password

    monkeypatch.setenv("PAYLATER_GATEWAY_DATABASE_URL", db_url)
    monkeypatch.setenv("PAYLATER_GATEWAY_SCHEMA", "create")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert cli.main(["add", "carol", "--name", "Carol"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["add", "dave"]) == 2
    monkeypatch.delenv("PAYLATER_DEMO_MODE", raising=False)
    assert demo.main() == 1  # refused outside demo mode
    monkeypatch.setenv("PAYLATER_DEMO_MODE", "1")
    assert demo.main() == 0
    engine = make_engine(db_url)
    store = Store(engine)
    assert verify_password("a-long-enough-password", store.get_agent("carol")["password_hash"])
    assert store.get_agent("dave") is None
    assert verify_password("agent-demo-password", store.get_agent("agent")["password_hash"])
    engine.dispose()


async def test_anonymous_handoff_has_no_summary(gateway):
    conv, h = await new_conversation(gateway, None)
    body = await (await say(gateway, conv, h, "talk to a person")).json()
    assert body["conversation"]["state"] == "queued"
    await login(gateway)
    queue = (await (await gateway.get("/console/api/conversations")).json())["queue"]
    item = next(q for q in queue if q["id"] == conv["id"])
    assert item["buyer_id"] is None and item["handoff"]["summary"] is None


async def test_queue_is_oldest_first(gateway):
    first, _, _ = await handed_off(gateway, "buyer-001")
    second, _, _ = await handed_off(gateway, "buyer-002")
    await login(gateway)
    queue = (await (await gateway.get("/console/api/conversations")).json())["queue"]
    ids = [q["id"] for q in queue]
    assert ids.index(first["id"]) < ids.index(second["id"])


async def test_sign_in_attempts_are_limited_per_address_not_only_per_username(make_gateway):
    """Random usernames must not get around the limit (each attempt costs a scrypt)."""
    from bot.gateway.limits import Limit

    # a long window: a slow machine must not refill the bucket during 30 scrypt checks
    gateway = await make_gateway(limits={"signin_per_address": Limit(30, 3600)})
    pre = (await (await gateway.get("/console/api/csrf")).json())["csrf_token"]
    statuses = []
    for i in range(31):
        r = await gateway.post("/console/api/login", json={"username": f"nobody-{i}", "password": "x"},
                               headers={"X-CSRF-Token": pre})
        statuses.append(r.status)
    assert set(statuses[:30]) == {401} and statuses[30] == 429
    assert "Retry-After" in r.headers
