"""Reading the analytics: events -> figures (bot/domain/analytics.py), the daily roll-up, CSAT.

Settled days (older than SETTLE_DAYS) are read from `gateway_analytics_daily`, computed once
(`rollup`); the days after them are computed from the events on each request. Both paths run
the same functions, so the numbers agree (tests/gateway/test_analytics.py)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.domain import analytics as A

from ..db import utcnow, write_tx
from .tables import daily, events, record

CHUNK = 500


def _event(row) -> A.Event:
    return A.Event(conversation_id=row.conversation_id, kind=row.kind, at=row.at, buyer_id=row.buyer_id,
                   topic=row.topic, reason=row.reason, agent=row.agent, value=row.value, text=row.text)


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


class AnalyticsStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    # ---------------------------------------------------------------- figures
    def _day_figures(self, first: dt.date, last: dt.date, now: dt.datetime) -> Dict[dt.date, Dict[str, Any]]:
        """Each day's counters, from the events of the conversations that started on those days."""
        lo, hi = _start(first), _start(last) + dt.timedelta(days=1)
        with self.engine.connect() as c:
            cids = [r[0] for r in c.execute(sa.select(events.c.conversation_id).where(
                events.c.at >= lo, events.c.at < hi).distinct())]
            rows: List[Any] = []
            for i in range(0, len(cids), CHUNK):
                rows += c.execute(sa.select(events).where(events.c.conversation_id.in_(cids[i:i + CHUNK]))).all()
            buyers = sorted({r.buyer_id for r in rows if r.buyer_id})
            for i in range(0, len(buyers), CHUNK):  # the same buyers' returns, for the withdrawal rule
                rows += c.execute(sa.select(events).where(
                    events.c.buyer_id.in_(buyers[i:i + CHUNK]), events.c.kind == "answer",
                    events.c.at >= lo, events.c.at < hi + 2 * A.WINDOW)).all()
        seen, evs = set(), []
        for r in rows:
            if r.id not in seen:
                seen.add(r.id)
                evs.append(_event(r))
        mine = set(cids)
        by_day = A.outcomes_by_day(evs, now)
        out = {}
        d = first
        while d <= last:
            out[d] = A.day_figures([o for o in by_day.get(d, []) if o.conversation_id in mine])
            d += dt.timedelta(days=1)
        return out

    def figures(self, first: dt.date, last: dt.date, now: Optional[dt.datetime] = None) -> Dict[str, Any]:
        now = now or utcnow()
        with self.engine.connect() as c:
            stored = {r.day: json.loads(r.figures) for r in c.execute(sa.select(daily).where(
                daily.c.day >= first, daily.c.day <= last))}
        missing = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        missing = [d for d in missing if d not in stored]
        days: List[Tuple[dt.date, Dict[str, Any]]] = list(stored.items())
        if missing:
            live = self._day_figures(min(missing), max(missing), now)
            days += [(d, live[d]) for d in missing]
        out = A.period_figures(days)
        out.update({"from": first.isoformat(), "to": last.isoformat(), "rolled_up_days": len(stored)})
        return out

    def rollup(self, now: Optional[dt.datetime] = None, max_days: int = 400) -> int:
        """Store the counters of every settled day that has events and no roll-up row yet."""
        now = now or utcnow()
        settled = now.date() - dt.timedelta(days=A.SETTLE_DAYS)
        with self.engine.connect() as c:
            first_at = c.execute(sa.select(sa.func.min(events.c.at))).scalar()
            done = {r[0] for r in c.execute(sa.select(daily.c.day))}
        if first_at is None:
            return 0
        todo = []
        d = max(first_at.date(), settled - dt.timedelta(days=max_days))
        while d <= settled:
            if d not in done:
                todo.append(d)
            d += dt.timedelta(days=1)
        if not todo:
            return 0
        figures = self._day_figures(todo[0], todo[-1], now)
        stored = 0
        for d in todo:
            try:
                with write_tx(self.engine) as c:
                    c.execute(sa.insert(daily).values(day=d, figures=json.dumps(figures[d]), computed_at=now))
                stored += 1
            except IntegrityError:
                pass  # another gateway stored the same day meanwhile: the same figures
        return stored

    # ---------------------------------------------------------------- CSAT
    def csat_asked_recently(self, cid: str, buyer_id: Optional[str], since: dt.datetime) -> bool:
        """Bot-resolved conversations ask at most once a day per buyer (per conversation when anonymous)."""
        who = events.c.buyer_id == buyer_id if buyer_id else events.c.conversation_id == cid
        with self.engine.connect() as c:
            return c.execute(sa.select(events.c.id).where(
                who, events.c.kind == "csat_asked", events.c.at >= since).limit(1)).first() is not None

    def add_csat(self, cid: str, buyer_id: Optional[str], score: int, comment: Optional[str]) -> bool:
        """Stored only when a rating was asked for and not given yet (one answer per ask)."""
        with write_tx(self.engine) as c:
            counts = dict(c.execute(sa.select(events.c.kind, sa.func.count()).where(
                events.c.conversation_id == cid, events.c.kind.in_(("csat_asked", "closed", "csat"))
            ).group_by(events.c.kind)).all())
            asks = counts.get("csat_asked", 0) + counts.get("closed", 0)
            if counts.get("csat", 0) >= asks:
                return False
            record(c, cid, [{"kind": "csat", "buyer_id": buyer_id, "value": score, "text": comment}], utcnow())
            return True

    # ---------------------------------------------------------------- operators
    def queue_stats(self) -> Tuple[int, Optional[float]]:
        from ..db import conversations
        with self.engine.connect() as c:
            n, oldest = c.execute(sa.select(sa.func.count(), sa.func.min(conversations.c.queued_at)).where(
                conversations.c.state == "queued")).one()
        return int(n or 0), (utcnow() - oldest).total_seconds() if oldest else None
