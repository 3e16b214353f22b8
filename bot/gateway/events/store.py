"""The events room's tables (migration gateway_0004_events) and their queries. Synchronous
SQLAlchemy Core; `bot.gateway.db.AsyncStore` runs each call in a worker thread."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.gateway.db import metadata, utcnow

# one row per event the gateway acted on: a second delivery of the same event id does nothing
events = sa.Table(
    "gateway_events", metadata,
    sa.Column("event_id", sa.String(40), primary_key=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("buyer_id", sa.String(128), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True),
    sa.Column("received_at", sa.DateTime, nullable=False),
)

# the app's outgoing webhook: one row per attempt
webhook_deliveries = sa.Table(
    "gateway_webhook_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(40), nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(300), nullable=True),
    sa.Column("delivered", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)

# a lease: only the holder runs a job (late detection, the relay) until it expires
leases = sa.Table(
    "gateway_leases", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

# late payments the buyer was told about (once per payment)
late_notices = sa.Table(
    "gateway_late_notices", metadata,
    sa.Column("payment_key", sa.String(64), primary_key=True),  # "<order_id>:<stage>"
    sa.Column("buyer_id", sa.String(128), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True),
    sa.Column("notified_at", sa.DateTime, nullable=False),
)

TABLES = (events, webhook_deliveries, leases, late_notices)


class EventStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def claim_event(self, event_id: str, type_: str, buyer_id: str) -> bool:
        """True the first time an event id is seen; False for a repeat delivery."""
        try:
            with self.engine.begin() as c:
                c.execute(sa.insert(events).values(event_id=event_id, type=type_, buyer_id=buyer_id,
                                                   received_at=utcnow()))
            return True
        except IntegrityError:
            return False

    def set_conversation(self, event_id: str, cid: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.update(events).where(events.c.event_id == event_id).values(conversation_id=cid))

    def release_event(self, event_id: str) -> None:
        """Acting on the event failed: forget it so the next delivery tries again."""
        with self.engine.begin() as c:
            c.execute(sa.delete(events).where(events.c.event_id == event_id))

    def seen(self, event_id: str) -> bool:
        with self.engine.connect() as c:
            return c.execute(sa.select(events.c.event_id).where(events.c.event_id == event_id)).first() is not None

    # ------------------------------------------------------------ webhook log
    def log_delivery(self, event_id: str, attempt: int, status_code: Optional[int], error: Optional[str],
                     delivered: bool) -> None:
        with self.engine.begin() as c:
            c.execute(sa.insert(webhook_deliveries).values(
                event_id=event_id, attempt=attempt, status_code=status_code, error=(error or None) and error[:300],
                delivered=delivered, at=utcnow()))

    def deliveries(self, event_id: Optional[str] = None) -> List[Dict[str, Any]]:
        q = sa.select(webhook_deliveries).order_by(webhook_deliveries.c.id)
        if event_id:
            q = q.where(webhook_deliveries.c.event_id == event_id)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q).mappings()]

    # ------------------------------------------------------------ leases
    def take_lease(self, name: str, holder: str, ttl: dt.timedelta, now: Optional[dt.datetime] = None) -> bool:
        """True when `holder` holds the lease now (new, renewed, or taken over after expiry)."""
        now = now or utcnow()
        with self.engine.begin() as c:
            res = c.execute(sa.update(leases).where(
                leases.c.name == name, sa.or_(leases.c.holder == holder, leases.c.expires_at < now)
            ).values(holder=holder, expires_at=now + ttl))
            if res.rowcount:
                return True
        try:
            with self.engine.begin() as c:
                c.execute(sa.insert(leases).values(name=name, holder=holder, expires_at=now + ttl))
            return True
        except IntegrityError:
            return False

    # ------------------------------------------------------------ late notices
    def claim_late_notice(self, payment_key: str, buyer_id: str) -> bool:
        try:
            with self.engine.begin() as c:
                c.execute(sa.insert(late_notices).values(payment_key=payment_key, buyer_id=buyer_id,
                                                         notified_at=utcnow()))
            return True
        except IntegrityError:
            return False

    def release_late_notice(self, payment_key: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.delete(late_notices).where(late_notices.c.payment_key == payment_key))


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
