"""The message path's statements on the DBAPI connection (bot/adapters/hot_sql.py) write what
SQLAlchemy Core would: same rows, same stored formats, same errors, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from bot.gateway.analytics.tables import events
from bot.gateway.client_ids import ClaimInTurn, ClaimTaken
from bot.gateway.db import NewMessage, Store, conversations, ensure_schema, make_engine, messages


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gateway.db'}"
    else:
        url = request.getfixturevalue("new_pg_schema")("gwhot")
    engine = make_engine(url)
    ensure_schema(engine, "create")
    yield Store(engine)
    engine.dispose()


def test_a_turn_reads_back_through_core_as_it_was_returned(store):
    conv = store.create_conversation("buyer-001", "web", None)
    cid = conv["id"]
    answer = [{"kind": "answer", "buyer_id": "buyer-001", "topic": "faq/fee", "text": "any fee?"}]
    got, stored, reopened = store.write_turn(cid, [
        NewMessage("buyer", "any fee?"),
        NewMessage("bot", "No processing fee.", [{"title": "More", "payload": "/more"}], data={"type": "note"},
                   events=answer),
        NewMessage("system", "Alice joined", agent_name="Alice", kind="agent_joined"),
    ])
    assert not reopened and got["id"] == cid and got["state"] == "bot" and got["created_at"] == conv["created_at"]
    assert store.history(cid) == stored  # Core's reading of the rows equals what the hot path returned
    fresh = store.get_conversation(cid)
    assert {k: fresh[k] for k in got} == got  # incl. last_message_at / updated_at as touched
    with store.engine.connect() as c:
        ev = c.execute(sa.select(events).where(events.c.conversation_id == cid)).one()
    assert (ev.kind, ev.buyer_id, ev.topic, ev.text) == ("answer", "buyer-001", "faq/fee", "any fee?")
    assert isinstance(ev.at, dt.datetime)


def test_a_new_conversation_reads_back_through_core_as_it_was_returned(store):
    for buyer, client, key in (("buyer-001", "web", None), (None, "app", "h" * 64)):
        conv = store.create_conversation(buyer, client, key)
        assert conv == store.get_conversation(conv["id"])
        assert conv["state"] == "bot" and conv["buyer_id"] == buyer and conv["access_key_hash"] == key


def test_reopen_and_a_missing_conversation(store):
    cid = store.create_conversation(None, "app", "h" * 64)["id"]
    with store.engine.begin() as c:
        c.execute(sa.update(conversations).where(conversations.c.id == cid).values(state="closed"))
    conv, stored, reopened = store.write_turn(cid, [NewMessage("buyer", "hello again")], reopen=True)
    assert reopened and conv["state"] == "bot" == store.get_conversation(cid)["state"]
    assert store.write_turn("no-such-conversation", [NewMessage("buyer", "hi")]) == (None, [], False)


def test_sqlite_stores_datetimes_in_cores_format(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'gw.db'}")
    ensure_schema(engine, "create")
    store = Store(engine)
    cid = store.create_conversation("buyer-001", "web", None)["id"]
    store.write_turn(cid, [NewMessage("buyer", "hi")])  # hot path
    with engine.connect() as c:
        created = c.exec_driver_sql("SELECT created_at FROM gateway_conversations").scalar()
        touched = c.exec_driver_sql("SELECT last_message_at FROM gateway_conversations").scalar()
        msg_at = c.exec_driver_sql("SELECT created_at FROM gateway_messages").scalar()
    fmt = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
    assert fmt.match(created) and fmt.match(touched) and fmt.match(msg_at)
    engine.dispose()


def test_a_taken_claim_rolls_the_whole_turn_back_with_coreish_errors(store):
    cid = store.create_conversation("buyer-001", "web", None)["id"]

    def claim(owner):
        c = ClaimInTurn(cid, "client-id-0001", "d" * 64, owner)
        return lambda tx, conv, msgs: c.stored(tx, msgs[0]["id"])

    store.write_turn(cid, [NewMessage("buyer", "first")], hook=claim("gw-a"))
    with pytest.raises(ClaimTaken):
        store.write_turn(cid, [NewMessage("buyer", "second"), NewMessage("system", "notice")], hook=claim("gw-b"))
    assert [m["text"] for m in store.history(cid)] == ["first"]  # nothing of the second attempt
    with pytest.raises(sa.exc.IntegrityError):  # DBAPI errors arrive as Core's exception classes
        with store.hot.transaction() as tx:
            tx.execute(sa.insert(messages).values(conversation_id=sa.bindparam("cid"), sender="buyer", text="x",
                                                  created_at=sa.bindparam("now")), {"cid": None, "now": dt.datetime.utcnow()})
    with pytest.raises(KeyError):  # every value explicitly: no silent NULL
        store.write_turn(cid, [NewMessage("buyer", "fine")], hook=lambda tx, conv, msgs: tx.execute(
            sa.update(conversations).where(conversations.c.id == sa.bindparam("cid")).values(
                state=sa.bindparam("state")), {"cid": cid}))
    assert [m["text"] for m in store.history(cid)] == ["first"]


def test_kept_sqlite_connections_never_take_the_whole_pool_and_close_with_the_engine(tmp_path):
    """SQLite: a thread keeps its connection between transactions (no checkout per transaction);
    at most a few threads do, the others and Core still get pooled connections, a failed
    transaction leaves nothing open on a kept connection, and dispose() closes the kept ones."""
    import threading

    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}", pool_size=3, max_overflow=0, pool_timeout=2)
    ensure_schema(engine, "create")
    store = Store(engine)
    assert store.hot.keep and store.hot.max_kept == 2
    cid = store.create_conversation("buyer-001", "web", None)["id"]
    errors = []

    def writer(i):
        try:
            for k in range(5):
                store.write_turn(cid, [NewMessage("buyer", f"{i}.{k}")])
            with engine.connect() as c:  # Core still finds a connection in the pool
                c.exec_driver_sql("SELECT 1").scalar()
        except Exception as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(store.history(cid)) == 40 and len(store.hot._kept) <= 2
    with pytest.raises(KeyError):  # a transaction that fails midway is rolled back on the kept connection
        store.write_turn(cid, [NewMessage("buyer", "half")], hook=lambda tx, conv, msgs: tx.execute(
            sa.update(conversations).where(conversations.c.id == sa.bindparam("cid")).values(
                state=sa.bindparam("state")), {"cid": cid}))
    kept = store.hot._local.conn
    assert kept.is_valid and not kept.dbapi_connection.in_transaction and len(store.history(cid)) == 40
    engine.dispose()
    assert not kept.is_valid  # closed with the engine; the next transaction checks out a new one
    store.write_turn(cid, [NewMessage("buyer", "after")])
    assert store.hot._local.conn is not kept and len(store.history(cid)) == 41
    engine.dispose()
