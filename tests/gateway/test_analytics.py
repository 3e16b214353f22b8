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

from gw_helpers import AGENT_PASSWORD, RASA_TOKEN, SECRET, login, new_conversation, say
from bot.config import Settings
from bot.gateway.analytics.store import AnalyticsStore
from bot.gateway.analytics.tables import events as events_table
from bot.gateway.app import create_app
from bot.gateway.common import ANALYTICS
from bot.gateway.db import Store, ensure_schema, make_engine, utcnow
from bot.gateway.settings import GatewaySettings

TODAY = utcnow().date()
D1 = TODAY - dt.timedelta(days=10)
D2 = D1 + dt.timedelta(days=1)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = hhmm.split(":")
    return dt.datetime(day.year, day.month, day.day, int(h), int(m))


def E(cid, kind, when, buyer=None, topic=None, reason=None, agent=None, value=None, text=None):
    return dict(conversation_id=cid, kind=kind, at=when, buyer_id=buyer, topic=topic, reason=reason, agent=agent,
                value=value, text=text)


# Each conversation, and what the definitions (docs/ANALYTICS.md) say of it:
DATASET = [
    # c1: answered, then "yes, it helped"                       -> involved, confirmed; CSAT 5
    E("c1", "answer", at(D1, "09:00"), "b1", "faq/fee", text="Is there a fee?"),
    E("c1", "helpful", at(D1, "09:01"), "b1"),
    E("c1", "csat_asked", at(D1, "09:01"), "b1"),
    E("c1", "csat", at(D1, "09:02"), "b1", value=5),
    # c2: anonymous, answered, then a thank-you right after      -> involved, confirmed
    E("c2", "answer", at(D1, "09:10"), None, "faq/currency", text="Which currency?"),
    E("c2", "thanks", at(D1, "09:11")),
    # c3: answered, then silence ... but b2 asks about the fee again 5 h later (c9) -> withdrawn
    E("c3", "answer", at(D1, "10:00"), "b2", "faq/fee", text="what does it cost"),
    # c4: answered, then not understood within 24 h               -> involved, not resolved; unanswered "blorp zzz"
    E("c4", "answer", at(D1, "10:00"), "b3", "list_orders", text="my orders"),
    E("c4", "fallback", at(D1, "10:05"), "b3", text="blorp zzz"),
    # c5: answered, then "not really"                             -> involved, not resolved; unanswered: its question
    E("c5", "answer", at(D1, "11:00"), "b4", "faq/term", text="How long can I borrow?"),
    E("c5", "not_helpful", at(D1, "11:01"), "b4"),
    # c6: only a message the bot did not understand               -> not involved; unanswered
    E("c6", "fallback", at(D1, "12:00"), "b5", text="what's the weather"),
    # c7: answered, handed off (late disbursement), alice replies after 300 s, closes after 1080 s; CSAT 4
    E("c7", "answer", at(D1, "12:00"), "b6", "disbursement_status", text="where is my money"),
    E("c7", "handoff", at(D1, "12:00"), "b6", reason="late_disbursement"),
    E("c7", "agent_joined", at(D1, "12:02"), agent="alice"),
    E("c7", "agent_reply", at(D1, "12:05"), agent="alice"),
    E("c7", "agent_reply", at(D1, "12:06"), agent="alice"),
    E("c7", "closed", at(D1, "12:20"), agent="alice"),
    E("c7", "csat", at(D1, "12:21"), value=4),
    # c8: anonymous, asked for a person at once (not involved); bob: first response 120 s, handling 540 s; CSAT 2
    E("c8", "handoff", at(D1, "13:00"), reason="requested"),
    E("c8", "agent_joined", at(D1, "13:01"), agent="bob"),
    E("c8", "agent_reply", at(D1, "13:02"), agent="bob"),
    E("c8", "closed", at(D1, "13:10"), agent="bob"),
    E("c8", "csat", at(D1, "13:11"), value=2, text="took a while"),
    # c9: b2 back on the fee (withdraws c3), says it helped     -> involved, confirmed
    E("c9", "answer", at(D1, "15:00"), "b2", "faq/fee", text="fee again?"),
    E("c9", "helpful", at(D1, "15:02"), "b2"),
    # c10: answered; b7 returns on the same topic 26 h later (c11): outside 24 h -> assumed
    E("c10", "answer", at(D1, "16:00"), "b7", "faq/fee", text="fee?"),
    # day 2
    E("c11", "answer", at(D2, "18:00"), "b7", "faq/fee", text="and the fee?"),                  # assumed
    E("c12", "answer", at(D2, "09:00"), "b8", "loan_cost", text="cost of 10000"),               # not resolved
    E("c12", "fallback", at(D2, "09:02"), "b8", text="Blorp, zzz!"),                            # groups with "blorp zzz"
    E("c13", "answer", at(D2, "10:00"), "b9", "faq/fee", text="fee"),                           # handed off
    E("c13", "fallback", at(D2, "10:01"), "b9", text="asdf"),
    E("c13", "fallback", at(D2, "10:02"), "b9", text="asdf"),
    E("c13", "handoff", at(D2, "10:02"), "b9", reason="misunderstood"),
]

# Worked out by hand from the comments above.
EXPECTED = {
    "conversations": 13,
    "involved": 11,                  # all but c6 and c8
    "resolved_confirmed": 3,         # c1, c2, c9
    "resolved_assumed": 2,           # c10, c11 (c3 withdrawn)
    "bot_resolution_rate": round(5 / 11, 4),
    "resolutions_withdrawn": 1,
    "pending": 0,
    "handed_off": 3,                 # c7, c8, c13
    "handoff_rate": round(3 / 13, 4),
    "handoffs": {"requested": 1, "misunderstood": 1, "late_disbursement": 1, "dispute": 0, "backend_down": 0},
    "csat_count": 3,
    "csat_average": 3.67,            # (5 + 4 + 2) / 3
    "csat_scores": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
    "first_response_seconds_p50": 210.0,   # median of 300 and 120
    "handling_seconds_p50": 810.0,         # median of 1080 and 540
    "agents": {"alice": 1, "bob": 1},
    "unanswered_total": 6,
    "unanswered": [{"text": "asdf", "count": 2}, {"text": "blorp zzz", "count": 2},
                   {"text": "How long can I borrow?", "count": 1}, {"text": "what's the weather", "count": 1}],
    "topics": [
        {"topic": "faq/fee", "volume": 6, "resolved": 4, "resolution_rate": round(4 / 6, 4)},  # c1 c3 c9 c10 c11 c13
        {"topic": "disbursement_status", "volume": 1, "resolved": 0, "resolution_rate": 0.0},
        {"topic": "faq/currency", "volume": 1, "resolved": 1, "resolution_rate": 1.0},
        {"topic": "faq/term", "volume": 1, "resolved": 0, "resolution_rate": 0.0},
        {"topic": "list_orders", "volume": 1, "resolved": 0, "resolution_rate": 0.0},
        {"topic": "loan_cost", "volume": 1, "resolved": 0, "resolution_rate": 0.0},
    ],
}
EXPECTED_DAYS = {
    D1.isoformat(): {"conversations": 10, "involved": 8, "resolved_confirmed": 3, "resolved_assumed": 1,
                     "handed_off": 2, "csat_count": 3, "unanswered": 3},
    D2.isoformat(): {"conversations": 3, "involved": 3, "resolved_confirmed": 0, "resolved_assumed": 1,
                     "handed_off": 1, "csat_count": 0, "unanswered": 3},
}


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
    assert AnalyticsStore(engine).rollup() == 0      # once
    await _check(client, rolled_up_days=2)           # from the roll-up: the same numbers
    # a day with nothing: zeros, no rate
    empty = await _figures(client, D1 - dt.timedelta(days=5), D1 - dt.timedelta(days=5))
    assert empty["involved"] == 0 and empty["bot_resolution_rate"] is None and empty["unanswered"] == []


async def test_an_answer_younger_than_24_hours_is_pending_not_assumed(analytics_db, aiohttp_client, fake_rasa):
    url, engine = analytics_db
    now = utcnow()
    with engine.begin() as c:
        c.execute(sa.insert(events_table), [E("p1", "answer", now - dt.timedelta(hours=1), "b1", "faq/fee", text="fee")])
    client = await _gateway(aiohttp_client, fake_rasa, url)
    await login(client, "sam", AGENT_PASSWORD)
    f = await _figures(client, TODAY, TODAY)
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
