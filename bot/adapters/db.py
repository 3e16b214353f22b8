"""Engines: SQLite file by default (directory created, foreign keys and WAL on), PostgreSQL by
URL. Created only when a process asks, never at import."""
from __future__ import annotations

import contextlib
import os
import threading
import weakref
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from bot.files import private_dir, private_file


WRITE_LOCK = "paylater_write_lock"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **kw) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            db_file = Path(u.database).expanduser().resolve()
            if not db_file.parent.exists():
                private_dir(db_file.parent)
            private_file(db_file)  # 0600: buyers' data and messages; SQLite's -wal/-shm follow it
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            # SQLAlchemy 1.4 gives a file database a NullPool: a new connection (open, three
            # PRAGMAs, close) for every query — most of the gateway's CPU per message
            # (bench/profile_gateway.py). Keep a few open instead.
            kw.setdefault("poolclass", sa.pool.QueuePool)
            kw.setdefault("pool_size", 5)
            kw.setdefault("max_overflow", 10)
        engine = sa.create_engine(
            u, future=True, connect_args={"check_same_thread": False, "timeout": 15}, **kw)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # pysqlite's own transaction handling starts transactions late (before the first
            # write, after the reads); we emit BEGIN ourselves in the "begin" hook below.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit no longer waits for fsync; durable against a crash of the
            # process, the last commits can be lost on power loss (as Rasa's tracker store here)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            # A unit of work that will lock (take_draw) takes SQLite's write lock up front:
            # SQLite has no SELECT ... FOR UPDATE, and this serialises the read-check-write.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.pop(WRITE_LOCK, False) else "BEGIN")

        return engine
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("pool_size", 5)
    kw.setdefault("max_overflow", 5)
    return sa.create_engine(u, future=True, **kw)


_WRITERS: "weakref.WeakKeyDictionary[Engine, threading.RLock]" = weakref.WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


@contextlib.contextmanager
def one_writer(engine: Engine) -> Iterator[None]:
    """SQLite: this process's write transactions on `engine` take turns on a lock held from
    BEGIN IMMEDIATE to COMMIT. Without it, worker threads that find the write lock taken wait in
    SQLite's busy handler, which sleeps 1, 2, 5 ... up to 100 ms between tries and lets whoever
    comes next win: under 20 concurrent conversations some turns of the gateway waited seconds
    (bench: the first message of a conversation, p95 ~3 s, with Rasa's part under 0.1 s). A lock
    wakes the next writer as soon as the last commits. Other processes on the same file still
    meet busy_timeout, as before. PostgreSQL: no lock. Reentrant within a thread.
    PAYLATER_SQLITE_ONE_WRITER=0 turns it off (for comparison)."""
    if engine.dialect.name != "sqlite" or os.environ.get("PAYLATER_SQLITE_ONE_WRITER") == "0":
        yield
        return
    with _WRITERS_GUARD:
        lock = _WRITERS.get(engine)
        if lock is None:
            lock = _WRITERS[engine] = threading.RLock()
    with lock:
        yield


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
