"""Statements on the DBAPI connection, compiled once per dialect: the gateway's buyer message path
(bot/gateway/db.py) and the Rasa tracker store's per-message reads and writes (bot/tracker_store.py).

Why: after the message path went down to two transactions (service.py), SQLAlchemy Core's
per-statement execution machinery (execution context, cache key, result set-up, events) was most
of their CPU: the first transaction took 416 µs through Core and 99 µs this way, on the same
SQLite file (bench/profile_gateway.py, docs/SCALING.md "Gateway profile").

What stays the same as Core:
- the SQL: compiled by SQLAlchemy from db.py's Table objects for this engine's dialect (SQLite,
  PostgreSQL), once per statement;
- the values: each bound column type's own bind processor for the dialect (SQLite stores
  datetimes as SQLAlchemy's text format), and its result processor on the rows read back;
- the errors: DBAPI errors are wrapped into the same `sqlalchemy.exc` classes (IntegrityError,
  OperationalError ...), and a lost connection is invalidated, not put back in the pool;
- the transaction: from the engine's pool, `BEGIN IMMEDIATE` on SQLite (the write lock up front,
  as db.write_tx), committed or rolled back as a whole.

Only statements whose values are all given explicitly belong here: Python-side column defaults
are not applied (a missing value is a KeyError, caught by the tests).
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Dict, Iterator, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.adapters.db import one_writer


class Prepared:
    """One statement compiled for one dialect: its SQL text, parameter order and bind processors."""

    def __init__(self, stmt, dialect):
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        self.order = list(compiled.positiontup) if dialect.positional else None
        self.procs: Dict[str, Any] = {}
        self.literals: Dict[str, Any] = {}  # values written into the statement (state="bot")
        for bind, name in compiled.bind_names.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                self.procs[name] = proc
            if not bind.required:
                self.literals[name] = bind.effective_value

    def params(self, values: Dict[str, Any]):
        values = {**self.literals, **values}
        for name, proc in self.procs.items():
            values[name] = proc(values[name])
        return tuple(values[n] for n in self.order) if self.order is not None else values


class HotTx:
    """Statements inside one transaction (`HotPath.transaction()`)."""

    def __init__(self, hot: "HotPath", conn, cursor):
        self.hot, self.conn, self.cursor = hot, conn, cursor

    def _run(self, prepared: Prepared, params, many: bool = False):
        try:
            if many:
                self.cursor.executemany(prepared.sql, params)
            else:
                self.cursor.execute(prepared.sql, params)
        except self.hot.dbapi.Error as exc:
            raise self.hot.wrap(exc, prepared.sql, params, self.conn, self.cursor) from exc

    def execute(self, stmt, values: Dict[str, Any]) -> int:
        """Run `stmt` with `values` (keyed by bind name); returns the affected row count."""
        p = self.hot.prepared(stmt)
        self._run(p, p.params(values))
        return self.cursor.rowcount

    def executemany(self, stmt, rows: Sequence[Dict[str, Any]]) -> None:
        p = self.hot.prepared(stmt)
        self._run(p, [p.params(r) for r in rows], many=True)

    def insert(self, stmt, values: Dict[str, Any]) -> int:
        """An INSERT into a table with an integer primary key: the new row's id."""
        p = self.hot.prepared(stmt, returning_id=True)
        self._run(p, p.params(values))
        return self.cursor.fetchone()[0] if self.hot.returning else self.cursor.lastrowid

    def row(self, stmt, values: Dict[str, Any]) -> Optional[tuple]:
        """The first row of a SELECT as the driver returns it (no result processors), or None."""
        p = self.hot.prepared(stmt)
        self._run(p, p.params(values))
        return self.cursor.fetchone()

    def first(self, stmt, values: Dict[str, Any], table: sa.Table) -> Optional[Dict[str, Any]]:
        """The first row of a SELECT of `table`'s columns, as {column name: value}, or None."""
        p = self.hot.prepared(stmt)
        self._run(p, p.params(values))
        row = self.cursor.fetchone()
        if row is None:
            return None
        out = dict(zip([d[0] for d in self.cursor.description], row))
        for name, proc in self.hot.result_procs(table).items():
            if name in out:
                out[name] = proc(out[name])
        return out


class HotPath:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect
        self.dbapi = engine.dialect.dbapi
        self.sqlite = engine.dialect.name == "sqlite"
        self.returning = not self.sqlite  # PostgreSQL: INSERT ... RETURNING id; SQLite: lastrowid
        self._prepared: Dict[tuple, Prepared] = {}
        self._results: Dict[str, Dict[str, Any]] = {}
        # SQLite file: each thread keeps its pooled connection between transactions instead of a
        # pool checkout and check-in per transaction (~60 us each, most of what was left around
        # the statements). A file has no server to drop it; a connection found invalid (a
        # disconnect-class error) is replaced; engine.dispose() closes every kept one.
        # PostgreSQL keeps the pool's checkout (and its pre-ping). PAYLATER_SQLITE_KEEP_CONNECTIONS=0: off.
        database = engine.url.database
        self.keep = (self.sqlite and database not in (None, "", ":memory:") and not database.startswith("file:")
                     and os.environ.get("PAYLATER_SQLITE_KEEP_CONNECTIONS") != "0")
        pool_size = getattr(engine.pool, "size", lambda: 0)()
        self.max_kept = max(0, min(4, pool_size - 1))  # at most 4 threads, and never the whole pool
        self.keep = self.keep and self.max_kept > 0
        self._local = threading.local()
        self._kept: List[Any] = []
        self._kept_guard = threading.Lock()
        if self.keep:
            sa.event.listen(engine, "engine_disposed", self._close_kept)

    def prepared(self, stmt, returning_id: bool = False) -> Prepared:
        key = (id(stmt), returning_id)  # module-level statements: they live as long as the process
        p = self._prepared.get(key)
        if p is None:
            if len(self._prepared) >= 256:  # statements built per call do not belong here; stay bounded
                self._prepared.clear()
            compiled_stmt = stmt
            if returning_id and self.returning:
                compiled_stmt = stmt.returning(*stmt.table.primary_key.columns)
            p = self._prepared[key] = Prepared(compiled_stmt, self.dialect)
            p.stmt = stmt  # keep it alive with its id
        return p

    def result_procs(self, table: sa.Table) -> Dict[str, Any]:
        procs = self._results.get(table.name)
        if procs is None:
            procs = {}
            for col in table.columns:
                proc = col.type.dialect_impl(self.dialect).result_processor(self.dialect, None)
                if proc is not None:
                    procs[col.name] = proc
            self._results[table.name] = procs
        return procs

    def wrap(self, exc: Exception, sql: str, params, conn, cursor) -> Exception:
        invalidated = False
        try:
            invalidated = self.dialect.is_disconnect(exc, conn.dbapi_connection, cursor)
        except Exception:  # deciding must never hide the original error
            pass
        if invalidated:
            conn.invalidate(exc)
        return sa.exc.DBAPIError.instance(sql, params, exc, self.dbapi.Error, connection_invalidated=invalidated,
                                          dialect=self.dialect)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[HotTx]:
        """One write transaction on a pooled connection: committed when the block ends, rolled
        back when it raises. SQLite: this process's writers take turns (bot/adapters/db.py
        `one_writer`) instead of sleeping in SQLite's busy handler."""
        with one_writer(self.engine):
            with self._transaction() as tx:
                yield tx

    def _checkout(self):
        if not self.keep:
            return self.engine.raw_connection()
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.is_valid:
            return conn
        conn = self.engine.raw_connection()
        with self._kept_guard:
            self._kept = [c for c in self._kept if c.is_valid]
            if len(self._kept) < self.max_kept:  # the rest of the pool stays for everything else
                self._kept.append(conn)
                self._local.conn = conn
        return conn

    def _checkin(self, conn) -> None:
        if not self.keep or getattr(self._local, "conn", None) is not conn:
            conn.close()  # back to the pool (or discarded when invalidated)
        elif conn.is_valid and conn.dbapi_connection.in_transaction:
            conn.rollback()  # never keep an open transaction (a kept connection is reused as it is)

    def _close_kept(self, _engine=None) -> None:
        with self._kept_guard:
            kept, self._kept = self._kept, []
        for conn in kept:
            with contextlib.suppress(Exception):
                conn.invalidate()  # closes the DBAPI connection; the thread checks out a new one

    @contextlib.contextmanager
    def read(self) -> Iterator[HotTx]:
        """Reads on a pooled connection: no write lock, nothing to commit (the pool ends whatever
        transaction the driver opened when the connection goes back, as Core's connections do)."""
        conn = self._checkout()
        try:
            cursor = conn.cursor()
            try:
                yield HotTx(self, conn, cursor)
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()
        finally:
            self._checkin(conn)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[HotTx]:
        conn = self._checkout()
        try:
            cursor = conn.cursor()
            tx = HotTx(self, conn, cursor)
            try:
                if self.sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                yield tx
                conn.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.rollback()
                raise
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()
        except self.dbapi.Error as exc:  # BEGIN / COMMIT themselves (e.g. a busy or read-only database)
            raise self.wrap(exc, "BEGIN/COMMIT", (), conn, None) from exc
        finally:
            self._checkin(conn)


def insert_stmt(table: sa.Table, *columns: str):
    """INSERT of the named columns, one bind parameter per column, named after it."""
    return sa.insert(table).values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
