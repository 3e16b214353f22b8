"""Issue 13 end to end, over real HTTP: the lender's calls on the backend API write outbox
events; the relay delivers them to the gateway, which writes the sentence into buyer-001's
conversation (pushed to the open app WebSocket), and signs one webhook delivery per event even
when the receiver's first answer is an error; repeats change nothing; a payment late by the
injected clock gives exactly one apology and one queued handoff."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json

import pytest
from aiohttp import web

from bot.adapters import orm
from bot.adapters.db import make_engine
from bot.adapters.migrate import upgrade
from bot.backend.app import create_app as create_backend
from bot.config import Settings
from bot.demo_data import load
from bot.gateway.app import create_app as create_gateway
from bot.gateway.events.routes import EVENT_STORE, LATE_JOB, RELAY, WEBHOOK
from bot.gateway.events.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from bot.gateway.settings import GatewaySettings

from gw_helpers import RASA_TOKEN, SECRET, next_of, open_buyer_ws, token_for, new_conversation

TODAY = dt.date(2025, 3, 12)  # a Wednesday
LENDER = {"Authorization": "Bearer lender-token"}
WEBHOOK_SECRET = "webhook-secret-0123456789"
AGR = "/v1/lender/agreements/AGR-TA-100245"


@pytest.fixture
def shared_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'all.db'}"
    upgrade(url)
    engine = make_engine(url)
    load(engine, TODAY)
    with engine.begin() as conn:  # the lender has not completed TA-100245's agreement yet
        conn.execute(orm.draws.update().where(orm.draws.c.agreement_id == "AGR-TA-100245")
                     .values(agreement_completed_on=None))
    engine.dispose()
    return url


@pytest.fixture
async def receiver(aiohttp_server):
    """The marketplace's webhook endpoint: its first answer is a 500, then it records."""
    seen = {"calls": 0, "ok": []}

    async def hook(request: web.Request):
        seen["calls"] += 1
        body = await request.read()
        if seen["calls"] == 1:
            return web.Response(status=500)
        seen["ok"].append((request.headers, body))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = await aiohttp_server(app)
    server.seen = seen
    return server


@pytest.fixture
def apps(aiohttp_client, fake_rasa, receiver, shared_db):
    async def make(today=TODAY):
        settings = Settings(database_url=shared_db, jwt_secret=SECRET, rasa_url=str(fake_rasa.make_url("")),
                            rasa_token=RASA_TOKEN, backend_service_token="svc-token", lender_token="lender-token")
        backend = await aiohttp_client(create_backend(settings, today=lambda: today))
        gw = GatewaySettings(database_url=shared_db, schema="none", events_token="events-token",
                             webhook_url=str(receiver.make_url("/hook")), webhook_secret=WEBHOOK_SECRET,
                             extra={"today": lambda: today, "webhook_backoff_s": (0, 0, 0)})
        gateway = await aiohttp_client(create_gateway(settings, gw))
        return backend, gateway
    return make


async def test_money_arrived_reaches_the_open_app_socket_and_the_webhook_once_per_event(apps, receiver, fake_rasa):
    backend, gateway = await apps()
    conv, headers = await new_conversation(gateway, "buyer-001", "app")
    ws = await open_buyer_ws(gateway, conv, token=token_for("buyer-001"))
    r = await backend.post(AGR + "/complete", json={}, headers={**LENDER, "Idempotency-Key": "agr-245-complete"})
    assert r.status == 200, await r.text()
    r = await backend.post(AGR + "/disbursement/arrived", json={}, headers={**LENDER, "Idempotency-Key": "agr-245-arrived"})
    assert r.status == 200, await r.text()

    assert await gateway.app[RELAY].run_once() == 2
    first = await next_of(ws, "message", pred=lambda e: e["message"].get("kind") == "proactive")
    assert first["message"]["text"].startswith("Your loan agreement for TA-100245 is complete")
    arrived = await next_of(ws, "message", pred=lambda e: e["message"].get("kind") == "proactive")
    assert arrived["message"]["text"] == "The $8,680.00 for TA-100245 reached your supplier today, Wednesday, March 12."
    assert arrived["message"]["sender"] == "bot"
    await ws.close()
    # Rasa's tracker knows what was said and about which order ("when exactly?" next)
    appended = [evs for sender, evs in fake_rasa.state["appended"] if sender == conv["id"]]
    assert appended[-1] == [
        {"event": "slot", "name": "order_id", "value": "TA-100245"},
        {"event": "slot", "name": "proactive_event", "value": "disbursement_arrived"},
        {"event": "slot", "name": "proactive_context", "value": {
            "type": "disbursement_arrived", "order_id": "TA-100245", "stage": "balance", "amount": "8680.00",
            "currency": "USD", "on": "2025-03-12"}},
        {"event": "bot", "text": arrived["message"]["text"]}]

    await gateway.app[WEBHOOK].drain()
    ok = receiver.seen["ok"]
    assert receiver.seen["calls"] == 3 and len(ok) == 2  # the first attempt failed and was retried
    types = []
    for h, body in ok:
        assert verify(WEBHOOK_SECRET, h[TIMESTAMP_HEADER], body, h[SIGNATURE_HEADER])
        types.append(json.loads(body)["type"])
    assert sorted(types) == ["agreement_completed", "disbursement_arrived"]
    log = await gateway.app[EVENT_STORE].deliveries()
    assert sorted(d["delivered"] for d in log) == [False, True, True]  # the delivery log keeps the failure
    assert sorted(d["event_id"] for d in log if d["delivered"]) == sorted({d["event_id"] for d in log})

    # replays change nothing: the relay has nothing left, the same event again is a duplicate,
    # the same request again is answered from the key
    history = await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=headers)).json()
    assert await gateway.app[RELAY].run_once() == 0
    event = json.loads(ok[-1][1])["event"]
    r = await gateway.post("/v1/events", json=event, headers={"Authorization": "Bearer events-token"})
    assert r.status == 202 and (await r.json())["status"] == "duplicate"
    r = await backend.post(AGR + "/disbursement/arrived", json={}, headers={**LENDER, "Idempotency-Key": "agr-245-arrived"})
    assert r.status == 200 and r.headers["Idempotency-Replayed"] == "true"
    assert await gateway.app[RELAY].run_once() == 0
    again = await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=headers)).json()
    assert again == history
    await gateway.app[WEBHOOK].drain()
    assert len(receiver.seen["ok"]) == 2


async def test_an_offline_buyer_without_a_conversation_gets_one_with_the_message(apps):
    backend, gateway = await apps()
    await backend.post(AGR + "/complete", json={}, headers={**LENDER, "Idempotency-Key": "agr-245-complete"})
    assert await gateway.app[RELAY].run_once() == 1
    buyer = {"Authorization": f"Bearer {token_for('buyer-001')}"}
    r = await gateway.get("/v1/buyers/me/conversation", headers=buyer)
    assert r.status == 200, await r.text()
    conv = await r.json()
    assert conv["client"] == "app" and conv["signed_in"] is True
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=buyer)).json())["messages"]
    assert [m["kind"] for m in msgs] == ["proactive"]
    assert "TA-100245" in msgs[0]["text"] and "$8,680.00" in msgs[0]["text"]
    assert (await gateway.get("/v1/buyers/me/conversation")).status == 401
    other = {"Authorization": f"Bearer {token_for('buyer-002')}"}
    assert (await gateway.get("/v1/buyers/me/conversation", headers=other)).status == 404


async def test_events_route_needs_its_token_and_a_valid_event(apps):
    _, gateway = await apps()
    r = await gateway.post("/v1/events", json={"event_id": "E1", "type": "disbursement_arrived"})
    assert r.status == 401
    r = await gateway.post("/v1/events", json={"event_id": "E1", "type": "nonsense", "buyer_id": "buyer-001"},
                           headers={"Authorization": "Bearer events-token"})
    assert r.status == 400 and (await r.json())["error"] == "invalid_event"


async def test_late_by_the_clock_gives_one_apology_and_one_queued_handoff(apps):
    backend, gateway = await apps()
    await backend.post(AGR + "/complete", json={"completed_on": "2025-03-12"},
                       headers={**LENDER, "Idempotency-Key": "agr-245-complete"})
    conv, headers = await new_conversation(gateway, "buyer-001", "app")
    await gateway.app[RELAY].run_once()

    def apologies(msgs, order="TA-100245"):
        return [m for m in msgs if m.get("kind") == "late_apology" and order in m["text"]]

    job = gateway.app[LATE_JOB]
    job.today = lambda: dt.date(2025, 3, 17)  # the 3rd working day: not late yet
    await job.run_once()
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=headers)).json())["messages"]
    assert apologies(msgs) == []
    job.today = lambda: dt.date(2025, 3, 18)  # the 4th working day, no arrival: late
    await job.run_once()
    await job.run_once()
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=headers)).json())["messages"]
    assert len(apologies(msgs)) == 1
    assert apologies(msgs)[0]["text"].startswith("I'm sorry: the $8,680.00 for TA-100245 should have reached")
    assert sum(1 for m in msgs if m.get("kind") == "queued") == 1
    state = await (await gateway.get(f"/v1/conversations/{conv['id']}", headers=headers)).json()
    assert state["state"] == "queued"


async def test_make_demo_events_plays_buyer_001s_events(aiohttp_server, aiohttp_client, fake_rasa, tmp_path,
                                                        monkeypatch, capsys):
    from bot.gateway.events import demo

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    load(engine, TODAY)  # as `make demo-data`: TA-100245's agreement done, money on its way
    engine.dispose()
    settings = Settings(database_url=url, jwt_secret=SECRET, rasa_url=str(fake_rasa.make_url("")),
                        rasa_token=RASA_TOKEN, backend_service_token="svc-token", lender_token="lender-token")
    backend = await aiohttp_server(create_backend(settings, today=lambda: TODAY))
    gateway = await aiohttp_client(create_gateway(settings, GatewaySettings(
        database_url=url, schema="none", extra={"today": lambda: TODAY})))
    monkeypatch.setenv("PAYLATER_LENDER_TOKEN", "lender-token")
    assert await asyncio.to_thread(demo.main, ["--backend", str(backend.make_url("")), "--pause", "0"]) == 0
    assert "✓ The money for TA-100245 reaches the supplier" in capsys.readouterr().out
    assert await gateway.app[RELAY].run_once() == 3
    buyer = {"Authorization": f"Bearer {token_for('buyer-001')}"}
    conv = await (await gateway.get("/v1/buyers/me/conversation", headers=buyer)).json()
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=buyer)).json())["messages"]
    assert "The $8,680.00 for TA-100245 reached your supplier today, Wednesday, March 12." in [m["text"] for m in msgs]


async def test_demo_mode_starts_quiet_about_the_demo_late_payment_but_tells_new_ones(aiohttp_client, fake_rasa,
                                                                                    shared_db):
    """make run (demo mode, relay on): TA-100212, late in the demo data's story, is not announced
    at start (no unasked apology, no queued chat); TA-100245 becoming late later still is."""
    settings = Settings(database_url=shared_db, jwt_secret=SECRET, rasa_url=str(fake_rasa.make_url("")),
                        rasa_token=RASA_TOKEN, backend_service_token="svc-token", lender_token="lender-token",
                        demo_mode=True)
    backend = await aiohttp_client(create_backend(settings, today=lambda: TODAY))
    clock = {"today": TODAY}
    gateway = await aiohttp_client(create_gateway(settings, GatewaySettings(
        database_url=shared_db, schema="none", events_relay=True, late_check_s=3600,
        extra={"today": lambda: clock["today"]})))
    job = gateway.app[LATE_JOB]
    # the test drives the late job itself: the background round started with the app would read the
    # clock whenever its first awaits end (on uvloop sometimes after the change below) and tell first
    background = next(t for t in asyncio.all_tasks() if t.get_name() == "late-detection")
    background.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await background
    assert await job.run_once() == 0  # TA-100212 is late, and settled quietly at start
    buyer = {"Authorization": f"Bearer {token_for('buyer-001')}"}
    assert (await gateway.get("/v1/buyers/me/conversation", headers=buyer)).status == 404

    await backend.post(AGR + "/complete", json={"completed_on": "2025-03-12"},
                       headers={**LENDER, "Idempotency-Key": "agr-245-complete"})
    clock["today"] = dt.date(2025, 3, 18)  # TA-100245: 4th working day, not arrived
    await gateway.app[RELAY].run_once()
    assert await job.run_once() == 1
    conv = await (await gateway.get("/v1/buyers/me/conversation", headers=buyer)).json()
    msgs = (await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=buyer)).json())["messages"]
    late = [m["text"] for m in msgs if m.get("kind") == "late_apology"]
    assert len(late) == 1 and "TA-100245" in late[0] and not any("TA-100212" in m["text"] for m in msgs)
    appended = [evs for sender, evs in fake_rasa.state["appended"] if sender == conv["id"]]
    assert {"event": "slot", "name": "proactive_event", "value": "late_payment"} in appended[-1]


async def test_an_event_relayed_twice_reaches_the_buyer_and_the_webhook_once(apps, receiver, fake_rasa, shared_db):
    """At least once, seen once: the gateway stops after writing the message but before the
    outbox row is marked delivered (a crash); the next round hands the same event on again."""
    backend, gateway = await apps()
    conv, headers = await new_conversation(gateway, "buyer-001", "app")
    await backend.post(AGR + "/complete", json={}, headers={**LENDER, "Idempotency-Key": "agr-245-complete"})
    assert await gateway.app[RELAY].run_once() == 1
    await gateway.app[WEBHOOK].drain()
    history = await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=headers)).json()
    appended = len(fake_rasa.state["appended"])

    engine = make_engine(shared_db)
    with engine.begin() as c:  # as if the crash came before the row was marked
        c.execute(orm.outbox.update().values(delivered_at=None))
    engine.dispose()
    assert await gateway.app[RELAY].run_once() == 1  # handed on again ...
    await gateway.app[WEBHOOK].drain()
    again = await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=headers)).json()
    assert again == history  # ... and dropped by event id: one message,
    assert len(receiver.seen["ok"]) == 1  # one webhook delivery,
    assert len(fake_rasa.state["appended"]) == appended  # nothing new in Rasa's tracker
    assert await gateway.app[RELAY].run_once() == 0
