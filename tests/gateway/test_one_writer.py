"""bot/adapters/db.py `one_writer`: on SQLite the gateway's write transactions (write_tx and the
hot path's) take turns in the process instead of meeting in SQLite's busy handler, so many
worker threads writing at once all get through, every row stored once, even with no busy wait."""
from __future__ import annotations

import threading

import sqlalchemy as sa

from bot.adapters.db import make_engine, one_writer
from bot.gateway.db import write_tx

rows = sa.Table("rows", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.String))


def no_busy_wait(engine):
    @sa.event.listens_for(engine, "connect")
    def _(dbapi_conn, _record):  # after make_engine's PRAGMAs: a locked database fails at once
        dbapi_conn.execute("PRAGMA busy_timeout=0")


def hammer(n_threads, per_thread, write):
    errors = []

    def worker(t):
        for i in range(per_thread):
            try:
                write(f"{t}-{i}")
            except Exception as exc:  # "database is locked" without the lock
                errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return errors


def test_concurrent_write_transactions_all_commit(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    no_busy_wait(engine)
    rows.metadata.create_all(engine)

    def write(v):
        with write_tx(engine) as c:
            c.execute(sa.insert(rows).values(v=v))
            c.execute(sa.select(sa.func.count()).select_from(rows)).scalar()  # a read inside, as turns do

    assert hammer(8, 25, write) == []
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count(sa.distinct(rows.c.v)))).scalar() == 200
    engine.dispose()


def test_the_lock_is_per_engine_and_reentrant_in_a_thread(tmp_path):
    a = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    b = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with one_writer(a), one_writer(a):  # reentrant
        done = []
        t = threading.Thread(target=lambda: done.append(bool(one_writer(b).__enter__() or True)))
        t.start()
        t.join(5)
        assert done == [True]  # another engine is not held up
    a.dispose()
    b.dispose()


def test_postgresql_engines_take_no_lock():
    engine = sa.create_engine("postgresql://nobody@127.0.0.1:1/none")  # never connects
    with one_writer(engine):
        pass


async def test_on_sqlite_a_buyer_messages_writes_run_on_the_gateways_writer_thread(make_gateway):
    """db.AsyncStore: the hot writes (a turn, a new conversation) go to one thread of their own on
    SQLite, with the request's ids (contextvars) as on the pool; reads stay on the pool; 20
    conversations at once all get their messages and answers stored, each once."""
    import asyncio

    from bot.gateway.common import STORE
    from bot.logging_setup import request_id_var

    gateway = await make_gateway()
    store = gateway.app[STORE]
    assert store.writer is not None
    seen = {}
    real_turn, real_history = store.sync.write_turn, store.sync.history

    def write_turn(*args, **kwargs):
        seen.setdefault("write_turn", set()).add((threading.current_thread().name, request_id_var.get()))
        return real_turn(*args, **kwargs)

    def history(*args, **kwargs):
        seen.setdefault("history", set()).add(threading.current_thread().name)
        return real_history(*args, **kwargs)

    store.sync.write_turn, store.sync.history = write_turn, history
    opened = [await (await gateway.post("/v1/conversations", json={"client": "web"})).json() for _ in range(20)]

    async def talk(conv):
        h = {"X-Conversation-Token": conv["conversation_token"], "X-Request-ID": f"req-{conv['id'][:8]}"}
        r = await gateway.post(f"/v1/conversations/{conv['id']}/messages", json={"text": "hello"}, headers=h)
        assert r.status == 200, await r.text()
        r = await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)
        return [(m["sender"], m["text"]) for m in (await r.json())["messages"]]

    stored = await asyncio.gather(*(talk(c) for c in opened))
    assert all(msgs.count(("buyer", "hello")) == 1 and msgs.count(("bot", "You said: hello")) == 1
               for msgs in stored), stored
    writers = {name for name, _ in seen["write_turn"]}
    assert len(writers) == 1 and next(iter(writers)).startswith("gateway-writer")
    assert {rid for _, rid in seen["write_turn"]} == {f"req-{c['id'][:8]}" for c in opened}
    assert not any(name.startswith("gateway-writer") for name in seen["history"])
