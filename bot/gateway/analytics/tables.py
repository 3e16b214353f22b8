"""The analytics tables (gateway_0006_analytics) and the one insert the message path makes.

`gateway_analytics_events`: one row per thing that happened (bot/domain/analytics.py lists the
kinds), written in the same transaction as the message or state change it describes, so
recording costs one INSERT and no extra round trip. `gateway_analytics_daily`: one row per
settled UTC day with that day's counters as JSON (the roll-up; a year is 365 rows)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterable, Optional

import sqlalchemy as sa

from bot.gateway.db import metadata
from bot.adapters.hot_sql import insert_stmt

events = sa.Table(
    "gateway_analytics_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("buyer_id", sa.String(128), nullable=True, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("topic", sa.String(80), nullable=True),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("agent", sa.String(64), nullable=True),
    sa.Column("value", sa.Integer, nullable=True),
    sa.Column("text", sa.String(500), nullable=True),  # redacted (bot/sensitive.py) before it gets here
)

daily = sa.Table(
    "gateway_analytics_daily",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("figures", sa.Text, nullable=False),  # JSON: bot.domain.analytics.day_figures
    sa.Column("computed_at", sa.DateTime, nullable=False),
)


def _rows(cid: str, evs: Optional[Iterable[Dict[str, Any]]], now: dt.datetime):
    return [{"conversation_id": cid, "at": now, "buyer_id": e.get("buyer_id"), "kind": e["kind"],
             "topic": (e.get("topic") or None) and str(e["topic"])[:80], "reason": e.get("reason"),
             "agent": e.get("agent"), "value": e.get("value"),
             "text": (e.get("text") or None) and str(e["text"])[:500]} for e in (evs or ())]


_HOT_INSERT = insert_stmt(events, "conversation_id", "at", "buyer_id", "kind", "topic", "reason", "agent", "value", "text")


def record_hot(tx, cid: str, evs: Optional[Iterable[Dict[str, Any]]], now: dt.datetime) -> None:
    """`record` inside a message-path transaction (bot/gateway/hot_sql.HotTx)."""
    rows = _rows(cid, evs, now)
    if rows:
        tx.executemany(_HOT_INSERT, rows)


def record(conn, cid: str, evs: Optional[Iterable[Dict[str, Any]]], now: dt.datetime) -> None:
    """Insert the events (dicts with `kind` and optional buyer_id/topic/reason/agent/value/text)
    on the caller's connection, inside the caller's transaction: one statement."""
    rows = _rows(cid, evs, now)
    if rows:
        conn.execute(sa.insert(events), rows)
