"""The gateway's own tables and every query on them (SQLAlchemy Core, 2.0 style).

SQLAlchemy 1.4 is synchronous: `Store` methods are plain functions, and `AsyncStore` runs each
of them in a worker thread so the event loop never blocks on the database.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import functools
import json
import logging
import uuid
from dataclasses import dataclass
from concurrent.futures import Executor
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from bot.adapters.db import WRITE_LOCK, make_engine, one_writer  # noqa: F401  (one SQLite/PostgreSQL engine setup for both parts)
from bot.adapters.migrate import alembic_config

from bot.adapters.hot_sql import HotPath, HotTx, insert_stmt

log = logging.getLogger(__name__)

metadata = sa.MetaData()

conversations = sa.Table(
    "gateway_conversations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("buyer_id", sa.String(128), nullable=True, index=True),
    sa.Column("access_key_hash", sa.String(64), nullable=True),  # anonymous conversations only
    sa.Column("client", sa.String(8), nullable=False),
    # bot | queued | agent | closed
    sa.Column("state", sa.String(16), nullable=False, default="bot"),
    sa.Column("assigned_agent", sa.String(64), nullable=True),
    sa.Column("handoff_reason", sa.String(32), nullable=True),
    sa.Column("handoff_reason_text", sa.String(500), nullable=True),
    sa.Column("handoff_summary", sa.Text, nullable=True),  # JSON
    sa.Column("queued_at", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("last_message_at", sa.DateTime, nullable=True),
)
sa.Index("ix_gateway_conversations_state_queued", conversations.c.state, conversations.c.queued_at)

messages = sa.Table(
    "gateway_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("gateway_conversations.id"), nullable=False, index=True),
    # buyer | bot | agent | system
    sa.Column("sender", sa.String(8), nullable=False),
    sa.Column("agent_name", sa.String(128), nullable=True),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("buttons", sa.Text, nullable=True),  # JSON list of {title, payload}
    sa.Column("kind", sa.String(32), nullable=True),  # system notices: agent_joined, handed_back, ...
    sa.Column("data", sa.Text, nullable=True),  # JSON: a structured bot message (bot/gateway/rich.py)
    sa.Column("created_at", sa.DateTime, nullable=False),
)

agents = sa.Table(
    "gateway_agents",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("password_hash", sa.String(512), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # agent | supervisor (gateway_0003_workspace)
    sa.Column("role", sa.String(16), nullable=False, default="agent", server_default="agent"),
    # away: signed in but taking no new chats (no transfers to them; not counted for the buyer's notice)
    sa.Column("away", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
)

agent_sessions = sa.Table(
    "gateway_agent_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),  # sha256 of the cookie value
    sa.Column("username", sa.String(64), sa.ForeignKey("gateway_agents.username"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
)

# Private notes: agents only. A table of their own, so no buyer query and nothing sent to Rasa
# can ever pick one up by mistake (gateway_0003_workspace).
notes = sa.Table(
    "gateway_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("gateway_conversations.id"), nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("author_name", sa.String(128), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

canned_replies = sa.Table(
    "gateway_canned_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("shortcut", sa.String(40), nullable=False, unique=True),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# How far each reader has read a conversation (gateway_0005_read_state): reader "buyer" (the
# widget says what it has shown) or "agent:<username>" (the console). Unread counts and "Seen"
# come from it, so they survive a reload.
read_marks = sa.Table(
    "gateway_read_marks",
    metadata,
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("gateway_conversations.id"), primary_key=True),
    sa.Column("reader", sa.String(80), primary_key=True),
    sa.Column("last_read_id", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

TABLES = (conversations, messages, agents, agent_sessions, notes, canned_replies, read_marks)


def utcnow() -> dt.datetime:
    """Naive UTC (portable across SQLite and PostgreSQL `timestamp without time zone`)."""
    return dt.datetime.utcnow()


def iso(value: Optional[dt.datetime]) -> Optional[str]:
    """A stored (naive UTC) time as ISO 8601 with "Z". A message formats the same few times over
    and over (the turn's `now`, the conversation's created / updated / last message: ~14 calls per
    buyer message, bench/profile_gateway.py), so naive ones are remembered; an aware one (equal to
    naive ones in no case, but equal across offsets) is formatted each time."""
    if value is None:
        return None
    if value.tzinfo is None:
        return _iso_naive(value)
    return value.replace(tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z")


@functools.lru_cache(maxsize=4096)
def _iso_naive(value: dt.datetime) -> str:
    return value.replace(tzinfo=dt.timezone.utc).isoformat().replace("+00:00", "Z")


def ensure_schema(engine: Engine, mode: str = "auto") -> None:
    """`auto`: run the gateway's Alembic branch (migrations/, branch "gateway"), falling back
    to creating the gateway tables directly if the upgrade fails (idempotent). `create`: create
    the gateway tables directly (tests). `none`: trust that the schema is there."""
    if mode == "none":
        return
    if mode != "create":
        try:
            # only the gateway's branch: the gateway may use its own database
            command.upgrade(alembic_config(engine.url.render_as_string(hide_password=False)), "gateway@head")
            return
        except Exception:
            log.exception("alembic upgrade of the gateway branch failed; creating the gateway tables directly")
    metadata.create_all(engine, checkfirst=True)


def _msg_row(row) -> Dict[str, Any]:
    d = {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "sender": row.sender,
        "text": row.text,
        "buttons": json.loads(row.buttons) if row.buttons else [],
        "created_at": iso(row.created_at),
    }
    if row.agent_name:
        d["agent_name"] = row.agent_name
    if row.kind:
        d["kind"] = row.kind
    if row.data:
        d["data"] = json.loads(row.data)
    return d


def _conv_row(row) -> Dict[str, Any]:
    return {
        "id": row.id,
        "buyer_id": row.buyer_id,
        "client": row.client,
        "state": row.state,
        "assigned_agent": row.assigned_agent,
        "handoff_reason": row.handoff_reason,
        "handoff_reason_text": row.handoff_reason_text,
        "handoff_summary": json.loads(row.handoff_summary) if row.handoff_summary else None,
        "queued_at": iso(row.queued_at),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "last_message_at": iso(row.last_message_at),
        "access_key_hash": row.access_key_hash,
    }


# Statements of every buyer message, built once (bench/profile_gateway.py: building a statement
# and its cache key on each call was a good part of the gateway's CPU per message).
_GET_CONVERSATION = sa.select(conversations).where(conversations.c.id == sa.bindparam("cid"))
_INSERT_MESSAGE = sa.insert(messages)
_TOUCH_CONVERSATION = sa.update(conversations).where(conversations.c.id == sa.bindparam("cid")).values(
    last_message_at=sa.bindparam("now"), updated_at=sa.bindparam("now"))
_REOPEN = sa.update(conversations).where(conversations.c.id == sa.bindparam("cid"), conversations.c.state == "closed").values(
    state="bot", updated_at=sa.bindparam("now"))


@dataclass(frozen=True)
class NewMessage:
    """A message to store (`Store.write_turn`); `events`: its analytics events, same transaction."""
    sender: str
    text: str
    buttons: Optional[list] = None
    agent_name: Optional[str] = None
    kind: Optional[str] = None
    data: Optional[Dict[str, Any]] = None
    events: Optional[List[Dict[str, Any]]] = None


# Called inside a turn's transaction, after its messages are inserted: (hot_sql.HotTx, the
# conversation as read at the start, the stored messages). What it writes commits with them.
TurnHook = Callable[[Any, Dict[str, Any], List[Dict[str, Any]]], None]


# The same, run on the DBAPI connection (hot_sql.py): every value given explicitly.
_HOT_INSERT_MESSAGE = insert_stmt(messages, "conversation_id", "sender", "agent_name", "text", "buttons", "kind", "data",
                                  "created_at")


_HOT_INSERT_CONVERSATION = insert_stmt(conversations, "id", "buyer_id", "client", "access_key_hash", "state",
                                       "created_at", "updated_at")


def _insert_message(tx: HotTx, cid: str, m: NewMessage, now: dt.datetime) -> Dict[str, Any]:
    values = dict(conversation_id=cid, sender=m.sender, text=m.text, kind=m.kind, agent_name=m.agent_name,
                  buttons=json.dumps(m.buttons) if m.buttons else None, created_at=now,
                  data=json.dumps(m.data) if m.data else None)
    _analytics.record_hot(tx, cid, m.events, now)
    mid = tx.insert(_HOT_INSERT_MESSAGE, values)
    # the row as stored, without reading it back (one statement less per message)
    return _msg_row(SimpleNamespace(id=mid, **values))


@contextlib.contextmanager
def write_tx(engine: Engine):
    """A write transaction that takes SQLite's write lock up front (BEGIN IMMEDIATE). In a deferred
    one, a read followed by a write fails at once with "database is locked" when another writer
    committed in between (busy_timeout does not help there); IMMEDIATE waits its turn instead.
    PostgreSQL: a plain transaction."""
    with one_writer(engine), engine.connect() as c:  # SQLite: this process's writers take turns
        c.info[WRITE_LOCK] = True
        with c.begin():
            yield c


class Store:
    """Synchronous queries. Every method opens its own short transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.hot = HotPath(engine)  # the message path's statements (hot_sql.py)

    # ---------------------------------------------------------------- conversations
    def create_conversation(self, buyer_id: Optional[str], client: str, access_key_hash: Optional[str]) -> Dict[str, Any]:
        """One INSERT on the hot path (every conversation a buyer opens; the bench opens one per
        five messages); the new row is returned as written, not read back."""
        now = utcnow()
        values = dict(id=uuid.uuid4().hex, buyer_id=buyer_id, client=client, access_key_hash=access_key_hash,
                      state="bot", created_at=now, updated_at=now)
        with self.hot.transaction() as tx:
            tx.execute(_HOT_INSERT_CONVERSATION, values)
        return _conv_row(SimpleNamespace(assigned_agent=None, handoff_reason=None, handoff_reason_text=None,
                                         handoff_summary=None, queued_at=None, last_message_at=None, **values))

    def get_conversation(self, cid: str) -> Optional[Dict[str, Any]]:
        with self.engine.connect() as c:
            row = c.execute(_GET_CONVERSATION, {"cid": cid}).first()
        return _conv_row(row) if row else None

    def queue(self, cid: str, reason: str, reason_text: str, summary: Optional[dict],
              events: Optional[List[Dict[str, Any]]] = None) -> bool:
        """bot -> queued (a conversation already queued or with an agent stays where it is).
        `events`: analytics events recorded in the same transaction when it is queued."""
        now = utcnow()
        with write_tx(self.engine) as c:
            res = c.execute(sa.update(conversations).where(
                conversations.c.id == cid, conversations.c.state.in_(("bot", "closed"))
            ).values(
                state="queued", assigned_agent=None, handoff_reason=reason, handoff_reason_text=reason_text,
                handoff_summary=json.dumps(summary) if summary is not None else None,
                queued_at=now, updated_at=now,
            ))
            if res.rowcount == 1:
                _analytics.record(c, cid, events, now)
            return res.rowcount == 1

    def claim(self, cid: str, username: str) -> Optional[str]:
        """Atomic: the conversation becomes `username`'s only if nobody owns it. Returns the
        previous state ("queued" or "bot") or None when another agent won / it is closed."""
        now = utcnow()
        with write_tx(self.engine) as c:
            prev = c.execute(sa.select(conversations.c.state).where(conversations.c.id == cid)).scalar()
            if prev not in ("queued", "bot"):
                return None
            res = c.execute(sa.update(conversations).where(
                conversations.c.id == cid,
                conversations.c.assigned_agent.is_(None),
                conversations.c.state.in_(("queued", "bot")),
            ).values(state="agent", assigned_agent=username, updated_at=now))
            return prev if res.rowcount == 1 else None

    def release_to_bot(self, cid: str, username: str) -> bool:
        now = utcnow()
        with write_tx(self.engine) as c:
            res = c.execute(sa.update(conversations).where(
                conversations.c.id == cid, conversations.c.assigned_agent == username, conversations.c.state == "agent",
            ).values(state="bot", assigned_agent=None, queued_at=None, updated_at=now))
            return res.rowcount == 1

    def close(self, cid: str, username: str) -> Optional[str]:
        """The owner closes, or any agent closes a queued/bot conversation nobody owns.
        Returns the previous state or None."""
        now = utcnow()
        with write_tx(self.engine) as c:
            prev = c.execute(sa.select(conversations.c.state).where(conversations.c.id == cid)).scalar()
            if prev is None or prev == "closed":
                return None
            res = c.execute(sa.update(conversations).where(
                conversations.c.id == cid,
                conversations.c.state != "closed",
                sa.or_(conversations.c.assigned_agent == username, conversations.c.assigned_agent.is_(None)),
            ).values(state="closed", assigned_agent=None, queued_at=None, updated_at=now))
            return prev if res.rowcount == 1 else None

    def reopen(self, cid: str) -> bool:
        now = utcnow()
        with write_tx(self.engine) as c:
            res = c.execute(sa.update(conversations).where(
                conversations.c.id == cid, conversations.c.state == "closed"
            ).values(state="bot", updated_at=now))
            return res.rowcount == 1

    def list_for_console(self, live_since: dt.datetime) -> List[Dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(conversations).where(sa.or_(
                conversations.c.state.in_(("queued", "agent")),
                sa.and_(conversations.c.state == "bot", conversations.c.last_message_at >= live_since),
            )).order_by(conversations.c.queued_at.asc(), conversations.c.last_message_at.desc()).limit(500)).all()
        return [_conv_row(r) for r in rows]

    # ---------------------------------------------------------------- messages
    def add_message(self, cid: str, sender: str, text: str, buttons: Optional[list] = None,
                    agent_name: Optional[str] = None, kind: Optional[str] = None,
                    data: Optional[Dict[str, Any]] = None,
                    events: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
        """`events`: analytics events (bot/gateway/analytics) recorded in the same transaction."""
        now = utcnow()
        with self.hot.transaction() as tx:
            msg = _insert_message(tx, cid, NewMessage(sender, text, buttons, agent_name, kind, data, events), now)
            tx.execute(_TOUCH_CONVERSATION, {"cid": cid, "now": now})
        return msg

    def write_turn(self, cid: str, new: Sequence[NewMessage], reopen: bool = False,
                   hook: Optional[TurnHook] = None) -> Tuple[Optional[Dict[str, Any]], List[Dict[str, Any]], bool]:
        """One transaction for one step of a buyer message (bot/gateway/service.py): read the
        conversation, reopen it if it was closed (`reopen`), store `new` with their analytics
        events, touch the conversation, then `hook` (client message ids) on the same connection.
        Returns (the conversation as it now is, the stored messages, whether it was reopened);
        (None, [], False) when there is no such conversation (nothing written)."""
        now = utcnow()
        with self.hot.transaction() as tx:
            row = tx.first(_GET_CONVERSATION, {"cid": cid}, conversations)
            if row is None:
                return None, [], False
            conv = _conv_row(SimpleNamespace(**row))
            reopened = reopen and conv["state"] == "closed"
            if reopened:
                tx.execute(_REOPEN, {"cid": cid, "now": now})
                conv["state"], conv["updated_at"] = "bot", iso(now)
            stored = [_insert_message(tx, cid, m, now) for m in new]
            if stored:
                tx.execute(_TOUCH_CONVERSATION, {"cid": cid, "now": now})
                conv["last_message_at"] = conv["updated_at"] = iso(now)
            if hook is not None:
                hook(tx, conv, stored)
        return conv, stored, reopened

    def run_in_transaction(self, fn: Callable[[HotTx], Any]) -> Any:
        """`fn(tx)` inside one write transaction (client message ids' bookkeeping)."""
        with self.hot.transaction() as tx:
            return fn(tx)

    def latest_conversation_for_buyer(self, buyer_id: str) -> Optional[Dict[str, Any]]:
        """The buyer's most recent conversation (where a proactive message goes), or None."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(conversations).where(conversations.c.buyer_id == buyer_id).order_by(
                sa.func.coalesce(conversations.c.last_message_at, conversations.c.created_at).desc(),
                conversations.c.created_at.desc()).limit(1)).first()
        return _conv_row(row) if row else None

    def history(self, cid: str, after: int = 0, limit: int = 500) -> List[Dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(messages).where(
                messages.c.conversation_id == cid, messages.c.id > after
            ).order_by(messages.c.id.asc()).limit(limit)).all()
        return [_msg_row(r) for r in rows]

    def last_buyer_texts(self, cid: str, limit: int = 3) -> List[str]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(messages.c.text).where(
                messages.c.conversation_id == cid, messages.c.sender == "buyer"
            ).order_by(messages.c.id.desc()).limit(limit)).all()
        return [r.text for r in rows]

    # ---------------------------------------------------------------- agents
    def add_agent(self, username: str, display_name: str, password_hash: str, role: Optional[str] = None) -> None:
        with write_tx(self.engine) as c:
            exists = c.execute(sa.select(agents.c.username).where(agents.c.username == username)).first()
            if exists:
                values = dict(display_name=display_name, password_hash=password_hash, active=True)
                if role:
                    values["role"] = role
                c.execute(sa.update(agents).where(agents.c.username == username).values(**values))
            else:
                c.execute(sa.insert(agents).values(
                    username=username, display_name=display_name, password_hash=password_hash,
                    active=True, created_at=utcnow(), role=role or "agent"))

    def get_agent(self, username: str) -> Optional[Dict[str, Any]]:
        with self.engine.connect() as c:
            row = c.execute(sa.select(agents).where(agents.c.username == username)).first()
        return dict(row._mapping) if row else None

    def rehash_password(self, username: str, old_hash: str, new_hash: str) -> bool:
        """Replace an agent's password hash by a stronger one of the same password, only if it
        is still `old_hash` (a password changed meanwhile stays changed)."""
        with write_tx(self.engine) as c:
            return c.execute(sa.update(agents).where(agents.c.username == username, agents.c.password_hash == old_hash)
                             .values(password_hash=new_hash)).rowcount == 1

    def create_session(self, id_hash: str, username: str, csrf: str, ttl: dt.timedelta) -> None:
        now = utcnow()
        with write_tx(self.engine) as c:
            c.execute(sa.insert(agent_sessions).values(
                id_hash=id_hash, username=username, csrf_token=csrf, created_at=now,
                last_seen_at=now, expires_at=now + ttl, revoked=False))

    def get_session(self, id_hash: str) -> Optional[Dict[str, Any]]:
        now = utcnow()
        with write_tx(self.engine) as c:
            row = c.execute(sa.select(agent_sessions, agents.c.display_name, agents.c.role, agents.c.away).join(
                agents, agents.c.username == agent_sessions.c.username
            ).where(
                agent_sessions.c.id_hash == id_hash, agent_sessions.c.revoked.is_(False),
                agent_sessions.c.expires_at > now, agents.c.active.is_(True),
            )).first()
            if not row:
                return None
            if (now - row.last_seen_at).total_seconds() > 30:
                c.execute(sa.update(agent_sessions).where(agent_sessions.c.id_hash == id_hash).values(last_seen_at=now))
        return dict(row._mapping)

    def touch_session(self, id_hash: str) -> None:
        with write_tx(self.engine) as c:
            c.execute(sa.update(agent_sessions).where(agent_sessions.c.id_hash == id_hash).values(last_seen_at=utcnow()))

    def revoke_session(self, id_hash: str) -> None:
        with write_tx(self.engine) as c:
            c.execute(sa.update(agent_sessions).where(agent_sessions.c.id_hash == id_hash).values(revoked=True))

    def agents_online(self, since: dt.datetime) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count(sa.distinct(agent_sessions.c.username))).join(
                agents, agents.c.username == agent_sessions.c.username
            ).where(
                agents.c.active.is_(True), agents.c.away.is_(False),
                agent_sessions.c.revoked.is_(False), agent_sessions.c.last_seen_at >= since,
                agent_sessions.c.expires_at > utcnow(),
            )).scalar() or 0)

    def purge_sessions(self) -> int:
        with write_tx(self.engine) as c:
            res = c.execute(sa.delete(agent_sessions).where(sa.or_(
                agent_sessions.c.expires_at < utcnow(), agent_sessions.c.revoked.is_(True))))
            return res.rowcount


class AsyncStore:
    """`await store.method(...)` runs `Store.method` in a worker thread.

    `writer` (SQLite: an executor of one thread, made in bot/gateway/app.py): the hot writes of a
    buyer message (`HOT_WRITES`) run on that thread instead of the default pool. They took turns
    anyway (`one_writer`: one SQLite writer at a time per process), so nothing that could run at
    once is held back; they queue for the thread instead of waking six pool threads that then
    wait on the lock, and the thread keeps one warm connection (hot_sql). Reads and everything
    else stay on the pool. PostgreSQL: no writer, every call on the pool as before."""

    HOT_WRITES = frozenset({"write_turn", "run_in_transaction", "create_conversation", "add_message"})

    def __init__(self, store: Any, writer: Optional[Executor] = None):
        self.sync = store
        self.writer = writer

    def __getattr__(self, name: str):
        fn = getattr(self.sync, name)
        if self.writer is not None and name in self.HOT_WRITES:
            writer = self.writer

            async def on_writer(*args, **kwargs):
                ctx = contextvars.copy_context()  # the request and conversation ids, as to_thread
                return await asyncio.get_running_loop().run_in_executor(
                    writer, functools.partial(ctx.run, fn, *args, **kwargs))

            return on_writer

        async def call(*args, **kwargs):
            return await asyncio.to_thread(fn, *args, **kwargs)

        return call


# the events room's tables live on the same metadata (bot/gateway/events/store.py)
from bot.gateway.events import store as _events_store  # noqa: E402,F401
from bot.gateway.analytics import tables as _analytics  # noqa: E402
from bot.gateway import client_ids as _client_ids  # noqa: E402,F401  (gateway_client_messages)
