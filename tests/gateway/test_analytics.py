"""Issue 12, "done when": a dataset whose figures are worked out by hand below; the dashboard's
JSON and every CSV table equal them, on SQLite and on PostgreSQL, computed live from the events
and again from the daily roll-up. Then the recording itself: events written by the real message
path (fake Rasa), CSAT asked and given, supervisors only."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from analytics_dataset import D1, D2, DATASET, EXPECTED, EXPECTED_DAYS, TODAY, E
from gw_helpers import AGENT_PASSWORD, RASA_TOKEN, SECRET, login, new_conversation, say
from bot.config import Settings
from bot.gateway.analytics.store import AnalyticsStore
from bot.gateway.analytics.tables import events as events_table
from bot.gateway.app import create_app
from bot.gateway.common import ANALYTICS
from bot.gateway.db import Store, ensure_schema, make_engine, utcnow
from bot.gateway.settings import GatewaySettings

@pytest.fixture(params=["sqlite", "postgresql"])
def analytics_db(request, tmp_path, agent_hash):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gateway.db'}"
    else:
        url = request.getfixturevalue("new_pg_schema")("analytics")
    engine = make_engine(url)
    ensure_schema(engine, "auto")  # the Alembic chain, gateway_0006_analytics included
    store = Store(engine)
    store.add_agent("alice", "Alice", agent_hash)
    store.add_agent("sam", "Sam", agent_hash, role="supervisor")
    yield url, engine
    engine.dispose()


async def _gateway(aiohttp_client, fake_rasa, url):
    settings = Settings(database_url=url, jwt_secret=SECRET, rasa_url=str(fake_rasa.make_url("")),
                        rasa_token=RASA_TOKEN, demo_mode=True)
    gw = GatewaySettings(database_url=url, rasa_timeout_s=1.5, schema="none")
    return await aiohttp_client(create_app(settings, gw))


def _csv(text: str):
    return list(csv.reader(io.StringIO(text)))


async def _figures(client, first, last):
    r = await client.get(f"/console/api/analytics?from={first}&to={last}")
    assert r.status == 200, await r.text()
    return await r.json()


async def _check(client, rolled_up_days: int):
    f = await _figures(client, D1, D2)
    assert f["rolled_up_days"] == rolled_up_days
    for key, value in EXPECTED.items():
        assert f[key] == value, key
    days = {s["day"]: s for s in f["series"]}
    assert sorted(days) == sorted(EXPECTED_DAYS)
    for day, want in EXPECTED_DAYS.items():
        for key, value in want.items():
            assert days[day][key] == value, (day, key)
    # the CSV tables say the same
    r = await client.get(f"/console/api/analytics.csv?table=summary&from={D1}&to={D2}")
    assert r.status == 200 and r.content_type == "text/csv"
    summary = {row[0]: row[1] for row in _csv(await r.text())[1:]}
    assert summary["involved"] == "11" and summary["resolved_confirmed"] == "3" and summary["resolved_assumed"] == "2"
    assert summary["bot_resolution_rate"] == str(round(5 / 11, 4)) and summary["csat_average"] == "3.67"
    assert summary["first_response_seconds_p50"] == "210.0" and summary["resolutions_withdrawn"] == "1"
    rows = _csv(await (await client.get(f"/console/api/analytics.csv?table=handoffs&from={D1}&to={D2}")).text())
    assert {r[0]: int(r[1]) for r in rows[1:]} == EXPECTED["handoffs"]
    rows = _csv(await (await client.get(f"/console/api/analytics.csv?table=unanswered&from={D1}&to={D2}")).text())
    assert [[r[0], int(r[1])] for r in rows[1:]] == [[u["text"], u["count"]] for u in EXPECTED["unanswered"]]
    rows = _csv(await (await client.get(f"/console/api/analytics.csv?table=topics&from={D1}&to={D2}")).text())
    assert [(r[0], int(r[1]), int(r[2])) for r in rows[1:]] == [(t["topic"], t["volume"], t["resolved"])
                                                              for t in EXPECTED["topics"]]
    rows = _csv(await (await client.get(f"/console/api/analytics.csv?table=csat&from={D1}&to={D2}")).text())
    assert {r[0]: int(r[1]) for r in rows[1:]} == EXPECTED["csat_scores"]
    rows = _csv(await (await client.get(f"/console/api/analytics.csv?table=series&from={D1}&to={D2}")).text())
    header = rows[0]
    for row in rows[1:]:
        want = EXPECTED_DAYS[row[0]]
        assert int(row[header.index("involved")]) == want["involved"]
        assert int(row[header.index("resolved_assumed")]) == want["resolved_assumed"]
    rows = _csv(await (await client.get(f"/console/api/analytics.csv?table=agents&from={D1}&to={D2}")).text())
    assert {r[0]: int(r[1]) for r in rows[1:]} == EXPECTED["agents"]


async def test_hand_computed_dataset_live_and_rolled_up(analytics_db, aiohttp_client, fake_rasa):
    url, engine = analytics_db
    with engine.begin() as c:
        c.execute(sa.insert(events_table), DATASET)
    client = await _gateway(aiohttp_client, fake_rasa, url)
    await login(client, "sam", AGENT_PASSWORD)
    await _check(client, rolled_up_days=0)           # live, from the events
    assert AnalyticsStore(engine).rollup() >= 2      # settled days into the roll-up
    assert AnalyticsStore(engine).rollup() == 0      # once (a second gateway stores nothing twice)
    await _check(client, rolled_up_days=2)           # from the roll-up: the same numbers
    # a day with nothing: zeros, no rate
    empty = await _figures(client, D1 - dt.timedelta(days=5), D1 - dt.timedelta(days=5))
    assert empty["involved"] == 0 and empty["bot_resolution_rate"] is None and empty["unanswered"] == []


async def test_an_answer_younger_than_24_hours_is_pending_not_assumed(analytics_db, aiohttp_client, fake_rasa):
    url, engine = analytics_db
    at = utcnow() - dt.timedelta(hours=1)  # its own day: in the first hour after midnight, yesterday
    with engine.begin() as c:
        c.execute(sa.insert(events_table), [E("p1", "answer", at, "b1", "faq/fee", text="fee")])
    client = await _gateway(aiohttp_client, fake_rasa, url)
    await login(client, "sam", AGENT_PASSWORD)
    f = await _figures(client, at.date(), at.date())
    assert (f["involved"], f["resolved_assumed"], f["pending"]) == (1, 0, 1)
    assert AnalyticsStore(engine).rollup() == 0  # today is not settled: nothing rolled up


async def test_supervisors_only_and_clear_errors(gateway):
    assert (await gateway.get("/console/api/analytics")).status == 401
    await login(gateway, "alice")
    r = await gateway.get("/console/api/analytics")
    assert r.status == 403 and (await r.json())["error"] == "supervisors_only"
    assert (await gateway.get("/console/api/analytics.csv")).status == 403
    await gateway.post("/console/api/logout", headers={"X-CSRF-Token": "x"})
    gateway.session.cookie_jar.clear()
    await login(gateway, "sam")
    r = await gateway.get("/console/api/analytics?from=2026-13-01")
    assert r.status == 400 and (await r.json())["error"] == "invalid_date"
    r = await gateway.get("/console/api/analytics?from=2026-02-01&to=2026-01-01")
    assert r.status == 400 and (await r.json())["error"] == "invalid_period"
    r = await gateway.get("/console/api/analytics.csv?table=nope")
    assert r.status == 400 and "summary" in (await r.json())["message"]
    r = await gateway.get("/console/api/analytics")  # default: the last 30 days
    assert r.status == 200 and len((await r.json())["series"]) == 30


async def test_the_message_path_records_events_and_csat(gateway, fake_rasa):
    """Through the real gateway: an FAQ answer, "yes it helped" (then the rating prompt, once a
    day), a fallback, a handoff worked by an agent and closed (rating prompt), two ratings."""
    conv, headers = await new_conversation(gateway, "buyer-001")
    cid = conv["id"]
    await say(gateway, conv, headers, "[faq/processing_fee] is there a fee? card 4111 1111 1111 1111")
    r = await say(gateway, conv, headers, "Yes", payload="/feedback_helpful")
    new = (await r.json())["messages"]
    prompt = [m for m in new if m.get("kind") == "csat"]
    assert prompt and prompt[0]["data"]["type"] == "csat"
    r = await gateway.post(f"/v1/conversations/{cid}/csat", json={"score": 9}, headers=headers)
    assert r.status == 400 and (await r.json())["error"] == "invalid_score"
    r = await gateway.post(f"/v1/conversations/{cid}/csat", json={"score": 5, "comment": "quick"}, headers=headers)
    assert r.status == 201
    r = await gateway.post(f"/v1/conversations/{cid}/csat", json={"score": 1}, headers=headers)
    assert r.status == 409  # one rating per ask
    # a second helpful answer the same day: no second prompt
    await say(gateway, conv, headers, "[faq/currency] which currency?")
    r = await say(gateway, conv, headers, "Yes", payload="/feedback_helpful")
    assert not [m for m in (await r.json())["messages"] if m.get("kind") == "csat"]

    conv2, headers2 = await new_conversation(gateway, "buyer-002")
    await say(gateway, conv2, headers2, "[nlu_fallback] blorp")
    await say(gateway, conv2, headers2, "talk to a person")
    csrf = await login(gateway, "alice")
    h = {"X-CSRF-Token": csrf}
    assert (await gateway.post(f"/console/api/conversations/{conv2['id']}/claim", headers=h)).status == 200
    assert (await gateway.post(f"/console/api/conversations/{conv2['id']}/messages", json={"text": "Hi, Alice here"},
                               headers=h)).status in (200, 201)
    r = await gateway.post(f"/console/api/conversations/{conv2['id']}/close", json={}, headers=h)
    assert r.status == 200, await r.text()
    msgs = (await (await gateway.get(f"/v1/conversations/{conv2['id']}/messages", headers=headers2)).json())["messages"]
    closed = [m for m in msgs if m.get("kind") == "closed"][-1]
    assert closed["data"]["type"] == "csat"
    r = await gateway.post(f"/v1/conversations/{conv2['id']}/csat", json={"score": 3}, headers=headers2)
    assert r.status == 201

    store = gateway.server.app[ANALYTICS]
    f = await store.figures(TODAY, TODAY)
    assert f["conversations"] == 2 and f["involved"] == 1
    assert f["resolved_confirmed"] == 1 and f["handoffs"]["requested"] == 1
    assert f["csat_count"] == 2 and f["csat_average"] == 4.0
    assert f["unanswered"] == [{"text": "[nlu_fallback] blorp", "count": 1}]  # as the buyer typed it
    assert f["agents"] == {"alice": 1} and f["first_response_seconds_p50"] is not None
    assert f["topics"][0]["topic"] == "faq/processing_fee"
    # the question text is kept redacted, like the transcript
    with store.sync.engine.connect() as c:
        texts = [r.text for r in c.execute(sa.select(events_table.c.text)) if r.text]
    assert not any("4111" in t for t in texts)
