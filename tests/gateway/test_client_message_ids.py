"""Client message ids: a retried buyer message is the same message (bot/gateway/client_ids.py).
The real gateway over HTTP/WebSocket with the fake Rasa, on SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from gw_helpers import RASA_TOKEN, SECRET, auth, new_conversation, next_of, open_buyer_ws, token_for

from bot.config import Settings
from bot.gateway.app import create_app
from bot.gateway.client_ids import client_messages
from bot.gateway.db import Store, ensure_schema, make_engine, messages
from bot.gateway.settings import GatewaySettings


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, agent_hash):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gateway.db'}"
    else:
        url = request.getfixturevalue("new_pg_schema")("gwids")
    engine = make_engine(url)
    ensure_schema(engine, "auto")  # the gateway's migrations, up to gateway_0007_client_message_ids
    Store(engine).add_agent("alice", "Alice", agent_hash)
    engine.dispose()
    return url


def rasa_calls(fake_rasa, cid):
    return [m for m in fake_rasa.state["messages"] if m["sender"] == cid]


def stored(db_url, cid):
    engine = make_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(sa.select(messages.c.sender, messages.c.text).where(messages.c.conversation_id == cid)
                         .order_by(messages.c.id)).all()
    engine.dispose()
    return [(r.sender, r.text) for r in rows]


async def post(client, conv, headers, text, cmid=None):
    body = {"text": text}
    if cmid is not None:
        body["client_message_id"] = cmid
    return await client.post(f"/v1/conversations/{conv['id']}/messages", json=body, headers=headers)


async def test_a_retry_returns_the_same_replies_and_rasa_runs_once(gateway, fake_rasa, db_url):
    conv, h = await new_conversation(gateway, "buyer-001")
    cmid = str(uuid.uuid4())
    first = await post(gateway, conv, h, "what is pay later", cmid)
    assert first.status == 200
    again = await post(gateway, conv, h, "what is pay later", cmid)
    assert again.status == 200
    assert (await again.json())["messages"] == (await first.json())["messages"]
    assert [m["sender"] for m in (await first.json())["messages"]] == ["buyer", "bot"]
    assert len(rasa_calls(fake_rasa, conv["id"])) == 1
    assert stored(db_url, conv["id"]) == [("buyer", "what is pay later"), ("bot", "You said: what is pay later")]


async def test_a_retry_while_the_first_is_running_waits_for_it(gateway, fake_rasa, db_url):
    conv, h = await new_conversation(gateway, "buyer-001")
    cmid = uuid.uuid4().hex
    a, b = await asyncio.gather(post(gateway, conv, h, "empty", cmid), post(gateway, conv, h, "empty", cmid))
    assert a.status == b.status == 200
    assert (await a.json())["messages"] == (await b.json())["messages"]
    assert len(rasa_calls(fake_rasa, conv["id"])) == 1
    assert [s for s, _ in stored(db_url, conv["id"])].count("buyer") == 1


async def test_two_gateways_on_one_database_run_it_once(make_gateway, fake_rasa, db_url):
    """Two replicas (each with its own locks): the unique constraint decides."""
    gw1, gw2 = await make_gateway(), await make_gateway()
    conv, h = await new_conversation(gw1, "buyer-002")
    cmid = uuid.uuid4().hex
    a, b = await asyncio.gather(post(gw1, conv, h, "hello there", cmid), post(gw2, conv, h, "hello there", cmid))
    assert a.status == b.status == 200, (await a.text(), await b.text())
    assert (await a.json())["messages"] == (await b.json())["messages"]
    assert len(rasa_calls(fake_rasa, conv["id"])) == 1
    assert stored(db_url, conv["id"]).count(("buyer", "hello there")) == 1


async def test_same_id_with_another_text_is_a_clear_409(gateway, fake_rasa, db_url):
    conv, h = await new_conversation(gateway, None)
    cmid = uuid.uuid4().hex
    assert (await post(gateway, conv, h, "first text", cmid)).status == 200
    r = await post(gateway, conv, h, "another text", cmid)
    assert r.status == 409
    body = await r.json()
    assert body["error"] == "client_message_id_reused" and "different message" in body["message"]
    assert ("buyer", "another text") not in stored(db_url, conv["id"])
    # the conversation goes on with a new id
    assert (await post(gateway, conv, h, "another text", uuid.uuid4().hex)).status == 200


async def test_old_clients_without_ids_and_bad_ids(gateway, fake_rasa, db_url):
    conv, h = await new_conversation(gateway, "buyer-001")
    assert (await post(gateway, conv, h, "hi")).status == 200
    assert (await post(gateway, conv, h, "hi")).status == 200  # no id: two messages, as before
    assert len(rasa_calls(fake_rasa, conv["id"])) == 2
    for bad in ("short", "x" * 65, "has space here", 12345678):
        r = await post(gateway, conv, h, "hi", bad)
        assert r.status == 400 and (await r.json())["error"] == "invalid_client_message_id"
    assert len(rasa_calls(fake_rasa, conv["id"])) == 2


async def test_the_same_id_in_another_conversation_is_another_message(gateway, fake_rasa, db_url):
    cmid = uuid.uuid4().hex
    c1, h1 = await new_conversation(gateway, "buyer-001")
    c2, h2 = await new_conversation(gateway, "buyer-001")
    assert (await post(gateway, c1, h1, "hello", cmid)).status == 200
    assert (await post(gateway, c2, h2, "hello", cmid)).status == 200
    assert len(rasa_calls(fake_rasa, c1["id"])) == len(rasa_calls(fake_rasa, c2["id"])) == 1


async def test_websocket_acks_and_a_resend_is_not_a_second_message(gateway, fake_rasa, db_url):
    conv, _ = await new_conversation(gateway, "buyer-001")
    token = token_for("buyer-001")
    ws = await open_buyer_ws(gateway, conv, token=token)
    await next_of(ws, "ready")
    cmid = uuid.uuid4().hex
    await ws.send_json({"type": "message", "text": "over the socket", "client_message_id": cmid})
    ack = await next_of(ws, "ack")
    assert ack["client_message_id"] == cmid and [m["sender"] for m in ack["messages"]] == ["buyer", "bot"]
    await ws.close()
    # the socket dropped before the widget saw the ack: it reconnects and sends again
    ws = await open_buyer_ws(gateway, conv, token=token, after=ack["messages"][0]["id"] - 1)
    ready = await next_of(ws, "ready")
    assert [m["id"] for m in ready["messages"]] == [m["id"] for m in ack["messages"]]  # no gap
    await ws.send_json({"type": "message", "text": "over the socket", "client_message_id": cmid})
    again = await next_of(ws, "ack")
    assert again["messages"] == ack["messages"]
    await ws.close()
    assert len(rasa_calls(fake_rasa, conv["id"])) == 1
    assert stored(db_url, conv["id"]).count(("buyer", "over the socket")) == 1


def _claim_left_by_a_dead_gateway(db_url, cid, cmid, text, message_stored: bool):
    from bot.gateway.client_ids import digest

    engine = make_engine(db_url)
    store = Store(engine)
    mid = store.add_message(cid, "buyer", text)["id"] if message_stored else None
    old = dt.datetime.utcnow() - dt.timedelta(minutes=5)
    with engine.begin() as c:
        c.execute(sa.insert(client_messages).values(conversation_id=cid, client_message_id=cmid, digest=digest(text, None),
                                                    message_id=mid, owner="a-gateway-killed-mid-message",
                                                    created_at=old, updated_at=old))
    engine.dispose()


async def test_a_message_whose_gateway_died_after_storing_it_gets_the_apology_not_a_second_run(gateway, fake_rasa, db_url):
    conv, h = await new_conversation(gateway, "buyer-001")
    cmid = uuid.uuid4().hex
    _claim_left_by_a_dead_gateway(db_url, conv["id"], cmid, "was I answered", message_stored=True)
    r = await post(gateway, conv, h, "was I answered", cmid)
    assert r.status == 200
    msgs = (await r.json())["messages"]
    assert [m["sender"] for m in msgs] == ["buyer", "bot"]
    assert msgs[1]["kind"] == "bot_unavailable" and msgs[1]["buttons"][0]["title"] == "Talk to a person"
    assert rasa_calls(fake_rasa, conv["id"]) == []  # Rasa may have seen it: never twice
    assert (await (await post(gateway, conv, h, "was I answered", cmid)).json())["messages"] == msgs


async def test_a_message_whose_gateway_died_before_storing_it_runs_now(gateway, fake_rasa, db_url):
    conv, h = await new_conversation(gateway, "buyer-001")
    cmid = uuid.uuid4().hex
    _claim_left_by_a_dead_gateway(db_url, conv["id"], cmid, "never stored", message_stored=False)
    r = await post(gateway, conv, h, "never stored", cmid)
    assert r.status == 200
    assert [m["text"] for m in (await r.json())["messages"]] == ["never stored", "You said: never stored"]
    assert len(rasa_calls(fake_rasa, conv["id"])) == 1


def claim_row(db_url, cid, cmid):
    engine = make_engine(db_url)
    with engine.connect() as c:
        row = c.execute(sa.select(client_messages).where(client_messages.c.conversation_id == cid,
                                                         client_messages.c.client_message_id == cmid)).first()
    engine.dispose()
    return row


async def test_the_claim_is_written_with_the_messages_and_a_retry_gets_the_whole_answer(gateway, fake_rasa, db_url):
    """One transaction stores the buyer's message, the removal notice and the claim; the one that
    stores the replies records them all: a retry gets the same three messages, Rasa runs once."""
    conv, h = await new_conversation(gateway, "buyer-001")
    cmid = uuid.uuid4().hex
    first = await post(gateway, conv, h, "my card is 4111 1111 1111 1111", cmid)
    msgs = (await first.json())["messages"]
    assert [(m["sender"], m.get("kind")) for m in msgs] == [("buyer", None), ("system", "redacted"), ("bot", None)]
    row = claim_row(db_url, conv["id"], cmid)
    assert row.message_id == msgs[0]["id"] and row.reply_ids == "[%s]" % ", ".join(str(m["id"]) for m in msgs)
    for _ in range(2):
        again = await post(gateway, conv, h, "my card is 4111 1111 1111 1111", cmid)
        assert again.status == 200 and (await again.json())["messages"] == msgs
        assert (await again.json())["conversation"]["state"] == "bot"
    assert len(rasa_calls(fake_rasa, conv["id"])) == 1
    assert [s for s, _ in stored(db_url, conv["id"])] == ["buyer", "system", "bot"]


async def test_a_retry_while_an_agent_has_the_chat(gateway, fake_rasa, db_url):
    """With an agent the turn ends with the buyer's message: claim and answer in one transaction."""
    from gw_helpers import login

    conv, h = await new_conversation(gateway, "buyer-001")
    csrf = await login(gateway)
    r = await gateway.post(f"/console/api/conversations/{conv['id']}/claim", headers={"X-CSRF-Token": csrf})
    assert r.status == 200, await r.text()
    cmid = uuid.uuid4().hex
    first = await post(gateway, conv, h, "are you there?", cmid)
    body = await first.json()
    assert [m["sender"] for m in body["messages"]] == ["buyer"] and body["conversation"]["state"] == "agent"
    again = await post(gateway, conv, h, "are you there?", cmid)
    assert (await again.json())["messages"] == body["messages"]
    assert rasa_calls(fake_rasa, conv["id"]) == []
    assert stored(db_url, conv["id"]).count(("buyer", "are you there?")) == 1


async def test_a_retry_after_a_handoff_gets_the_queue_notice(gateway, fake_rasa, db_url):
    """The handoff is the turn's last write, recorded after it (the rarer path keeps its own transaction)."""
    conv, h = await new_conversation(gateway, "buyer-001")
    cmid = uuid.uuid4().hex
    first = await post(gateway, conv, h, "talk to a person", cmid)
    body = await first.json()
    assert body["messages"][-1]["kind"] == "queued" and body["conversation"]["state"] == "queued"
    again = await post(gateway, conv, h, "talk to a person", cmid)
    assert (await again.json())["messages"] == body["messages"]
    assert len(rasa_calls(fake_rasa, conv["id"])) == 1
