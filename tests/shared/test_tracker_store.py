"""bot.tracker_store.PayLaterTrackerStore against the real databases (SQLite and PostgreSQL):
replicas alternating on one conversation, failover mid-form, a 500-event session, a new
session, a failed turn, the memory bound — each compared with what Rasa's own SQLTrackerStore
reads from the same table — and no bearer token in any stored row."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, SessionStarted, SlotSet, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import PROJECT_ROOT
from bot.tracker_store import PayLaterTrackerStore, without_credentials

# a JWT-shaped credential (header.payload.signature); what the gateway sends as `auth_token`
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJidXllci0wMDEifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """Keyword arguments of a tracker store on a fresh database (what endpoints.yml gives)."""
    if request.param == "sqlite":
        return {"dialect": "sqlite", "db": str(tmp_path / "tracker.db")}
    url = request.getfixturevalue("new_pg_schema")("trk")
    return {"dialect": "postgresql", "host": url}


@pytest.fixture
def replicas(domain, db):
    """Two Rasa replicas' stores (and Rasa's own store as the reference) on one database."""
    a = PayLaterTrackerStore(domain=domain, **db)
    b = PayLaterTrackerStore(domain=domain, **db)
    plain = SQLTrackerStore(domain=domain, **db)
    yield a, b, plain
    for s in (a, b, plain):
        s.engine.dispose()


def user(text, intent="faq", token=TOKEN, **extra):
    meta = {"client": "web", "request_id": "r-1", **extra}
    if token:
        meta["auth_token"] = token
    return UserUttered(text, {"name": intent, "confidence": 0.9}, [], metadata=meta)


def turn(tracker, text, intent="faq", token=TOKEN):
    tracker.update(user(text, intent, token))
    tracker.update(ActionExecuted("utter_" + intent))
    tracker.update(ActionExecuted("action_listen"))


def dump(tracker):
    return [e.as_dict() for e in tracker.events]


async def new_conversation(store, cid):
    tracker = await store.get_or_create_tracker(cid)
    tracker.update(SlotSet("session_started_metadata", {"client": "web", "auth_token": TOKEN}))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return tracker


def stored_rows(store):
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT data FROM events"))]


async def test_replicas_alternating_on_one_conversation_see_every_event(replicas):
    a, b, plain = replicas
    await new_conversation(a, "c1")
    for i in range(6):
        store = a if i % 2 == 0 else b  # the gateway pinned it to a, then failed over, and back...
        tracker = await store.retrieve("c1")
        assert dump(tracker) == dump(await plain.retrieve("c1"))
        turn(tracker, f"question {i}")
        await store.save(tracker)
    final = await a.retrieve("c1")
    assert [e.text for e in final.events if isinstance(e, UserUttered)] == [f"question {i}" for i in range(6)]
    assert dump(final) == dump(await plain.retrieve("c1"))
    assert dump(await b.retrieve("c1")) == dump(final)
    # after the first loads, each replica read only the other's new rows
    assert a.stats["incremental"] >= 2 and b.stats["incremental"] >= 2


async def test_the_same_replica_serves_later_messages_from_memory(replicas):
    a, _, plain = replicas
    await new_conversation(a, "c2")
    for i in range(5):
        tracker = await a.retrieve("c2")
        turn(tracker, f"q{i}")
        await a.save(tracker)
    assert a.stats["hit"] >= 4
    assert dump(await a.retrieve("c2")) == dump(await plain.retrieve("c2"))


async def test_failover_mid_form_keeps_the_form_and_its_slots(replicas):
    a, b, plain = replicas
    await new_conversation(a, "c3")
    tracker = await a.retrieve("c3")
    tracker.update(user("I want to apply for credit", "apply_credit"))
    tracker.update(ActionExecuted("application_form"))
    tracker.update(ActiveLoop("application_form"))
    tracker.update(SlotSet("requested_slot", "business_name"))
    tracker.update(ActionExecuted("action_listen"))
    await a.save(tracker)
    await a.retrieve("c3")  # a has it cached ...

    # ... and stops; b takes the next answer of the form
    tracker_b = await b.retrieve("c3")
    assert tracker_b.active_loop_name == "application_form"
    assert tracker_b.get_slot("requested_slot") == "business_name"
    tracker_b.update(user("Acme Trading LLC", "inform"))
    tracker_b.update(SlotSet("business_name", "Acme Trading LLC"))
    tracker_b.update(SlotSet("requested_slot", "annual_revenue"))
    tracker_b.update(ActionExecuted("action_listen"))
    await b.save(tracker_b)

    # a is back (hand-back to its pinned replica): it sees b's answer, not its stale copy
    back = await a.retrieve("c3")
    assert back.get_slot("business_name") == "Acme Trading LLC"
    assert back.get_slot("requested_slot") == "annual_revenue"
    assert back.active_loop_name == "application_form"
    assert dump(back) == dump(await plain.retrieve("c3"))


async def test_a_turn_is_stored_in_the_rows_rasas_own_store_writes(domain, db, tmp_path):
    """The per-message save runs on the DBAPI connection (bot/adapters/hot_sql.py), not the ORM:
    every column of every row is what Rasa's SQLTrackerStore writes for the same events (no token
    in them, so the credential scrub does not differ), in the same order."""
    ours = PayLaterTrackerStore(domain=domain, **db)
    theirs_db = {"dialect": "sqlite", "db": str(tmp_path / "rasa.db")}
    theirs = SQLTrackerStore(domain=domain, **theirs_db)
    try:
        for store in (ours, theirs):
            tracker = DialogueStateTracker.from_events("c1", [
                ActionExecuted("action_session_start", timestamp=999.5), SessionStarted(timestamp=1000.0),
                ActionExecuted("action_listen", timestamp=1000.5)], domain.slots)
            await store.save(tracker)
            tracker = await store.retrieve("c1")
            tracker.update(UserUttered("how much?", {"name": "loan_cost", "confidence": 0.9}, [],
                                       metadata={"client": "web"}, timestamp=1001.0))
            tracker.update(SlotSet("order_id", "TA-100231", timestamp=1001.5))
            tracker.update(ActiveLoop("credit_form", timestamp=1002.0))
            tracker.update(ActionExecuted("utter_loan_cost", timestamp=1002.5))
            await store.save(tracker)

        def rows(store):
            with store.engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(
                    "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"))]

        assert rows(ours) == rows(theirs) and len(rows(ours)) == 7
        assert dump(await ours.retrieve("c1")) == dump(await theirs.retrieve("c1"))
        assert ours.stats["hit"] >= 1  # the second retrieve came from memory after the DBAPI summary
    finally:
        ours.engine.dispose()
        theirs.engine.dispose()


async def test_a_500_event_session_is_read_from_memory_and_stays_exact(replicas):
    a, b, plain = replicas
    tracker = await new_conversation(a, "c4")
    while len(tracker.events) < 500:
        turn(tracker, f"message {len(tracker.events)}")
    await a.save(tracker)
    await a.retrieve("c4")  # loaded once (a new session is always read from the database) ...
    full_before = a.stats["full"]
    for i in range(3):
        tracker = await a.retrieve("c4")
        turn(tracker, f"more {i}")
        await a.save(tracker)
    assert a.stats["full"] == full_before  # ... and never re-read after that
    assert len(tracker.events) >= 509
    assert dump(await a.retrieve("c4")) == dump(await plain.retrieve("c4"))
    assert dump(await b.retrieve("c4")) == dump(await plain.retrieve("c4"))


async def test_a_new_session_reads_like_rasa(replicas, domain):
    a, _, plain = replicas
    await new_conversation(a, "c5")
    tracker = await a.retrieve("c5")
    turn(tracker, "old session")
    await a.save(tracker)
    tracker = await a.retrieve("c5")
    time.sleep(0.01)
    tracker.update(SessionStarted())
    tracker.update(SlotSet("client", "web"))
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, "new session")
    await a.save(tracker)
    mine = await a.retrieve("c5")
    assert dump(mine) == dump(await plain.retrieve("c5"))
    assert [e.text for e in mine.events if isinstance(e, UserUttered)] == ["new session"]


async def test_a_turn_that_failed_before_saving_is_not_served_from_memory(replicas):
    a, _, plain = replicas
    await new_conversation(a, "c6")
    tracker = await a.retrieve("c6")
    turn(tracker, "this turn crashed")  # never saved
    again = await a.retrieve("c6")
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == []
    assert dump(again) == dump(await plain.retrieve("c6"))


async def test_deleted_rows_are_noticed(replicas):
    a, _, plain = replicas
    await new_conversation(a, "c7")
    tracker = await a.retrieve("c7")
    turn(tracker, "keep")
    turn(tracker, "to be pruned")
    await a.save(tracker)
    with a.engine.begin() as conn:  # an operator prunes (or a backup is restored)
        last = conn.execute(sa.text("SELECT max(id) FROM events WHERE sender_id='c7'")).scalar()
        conn.execute(sa.text("DELETE FROM events WHERE id > :i"), {"i": last - 3})
    assert dump(await a.retrieve("c7")) == dump(await plain.retrieve("c7"))


async def test_memory_is_bounded_and_evicted_trackers_reload(domain, db):
    store = PayLaterTrackerStore(domain=domain, cache_mb=0.02, **db)  # ~20 kB
    try:
        for n in range(8):
            tracker = await new_conversation(store, f"m{n}")
            tracker = await store.retrieve(f"m{n}")
            for i in range(5):
                turn(tracker, f"message {i} of m{n}")
            await store.save(tracker)
        assert store.cache.bytes <= store.cache.max_bytes
        assert len(store.cache) < 8
        first = await store.retrieve("m0")
        assert [e.text for e in first.events if isinstance(e, UserUttered)][-1] == "message 4 of m0"
    finally:
        store.engine.dispose()


async def test_no_token_at_rest_but_the_running_turn_keeps_its_own(replicas):
    a, b, plain = replicas
    await new_conversation(a, "c8")
    tracker = await a.retrieve("c8")
    turn(tracker, "my orders", "orders", token=TOKEN)
    await a.save(tracker)
    # the turn that carried the token still sees it after its save (its actions ran with it)
    assert tracker.latest_message.metadata["auth_token"] == TOKEN
    assert not any(TOKEN in row or "auth_token" in row for row in stored_rows(a))

    # the next turn: the cached tracker no longer holds the earlier token ...
    later = await a.retrieve("c8")
    assert "auth_token" not in later.latest_message.metadata
    assert "auth_token" not in (later.get_slot("session_started_metadata") or {})
    assert dump(later) == dump(await plain.retrieve("c8"))
    # ... and its own message brings its own token, which its actions see
    other = TOKEN.replace("c2ln", "b3Ro")
    later.update(user("and my credit line?", "credit", token=other))
    assert later.latest_message.metadata["auth_token"] == other
    await a.save(later)
    assert not any(other in row for row in stored_rows(a))
    assert "auth_token" not in (await b.retrieve("c8")).latest_message.metadata


def test_credentials_are_removed_at_any_depth():
    data = {"metadata": {"auth_token": TOKEN, "client": "app", "nested": [{"Authorization": "Bearer x"}]},
            "text": f"pasted {TOKEN} here"}
    clean = without_credentials(data)
    assert clean["metadata"] == {"client": "app", "nested": [{}]}
    assert TOKEN not in clean["text"] and "[token removed]" in clean["text"]
    assert data["metadata"]["auth_token"] == TOKEN  # a copy: the caller's dict is untouched


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "deploy/endpoints.scale.yml"])
def test_the_endpoints_files_name_this_store(endpoints, monkeypatch, tmp_path, domain):
    """Rasa falls back to an in-memory store with only a warning when a custom class does not
    import: load it the way Rasa does."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("PAYLATER_TRACKER_DB", str(tmp_path / "t.db"))
    monkeypatch.setenv("PAYLATER_TRACKER_DB_URL", f"sqlite:///{tmp_path / 't2.db'}")
    for var in ("PAYLATER_ACTION_ENDPOINT", "PAYLATER_ACTION_TOKEN", "PAYLATER_REDIS_HOST", "PAYLATER_REDIS_PORT",
                "PAYLATER_REDIS_PASSWORD", "PAYLATER_REDIS_LOCK_DB"):
        monkeypatch.setenv(var, "0")
    config = read_endpoint_config(str(PROJECT_ROOT / endpoints), "tracker_store")
    store = TrackerStore.create(config, domain)
    assert isinstance(store, PayLaterTrackerStore)
    assert store.cache.max_bytes == 128 * 1024 * 1024
    store.engine.dispose()
