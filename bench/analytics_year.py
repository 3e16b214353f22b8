"""python -m bench.analytics_year [--per-day 100] [--days 365] [--url sqlite:///...]

How the analytics hold up with a year of data (docs/ANALYTICS.md): a synthetic year of events
(`--per-day` conversations a day, 3-6 events each), then the dashboard's query over the whole
year computed live from the events and again from the daily roll-up; and what recording costs
in the message path (add_message with and without an event, same transaction)."""
from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bot.gateway.analytics.store import AnalyticsStore
from bot.gateway.analytics.tables import events
from bot.gateway.db import Store, ensure_schema, make_engine, utcnow

TOPICS = ["faq/fee", "faq/term", "faq/currency", "faq/how_to_pay", "list_orders", "order_status", "credit_line"]


def synthetic(day: dt.date, n: int, rnd: random.Random):
    rows = []
    for i in range(n):
        cid = f"{day.isoformat()}-{i}"
        buyer = f"b{rnd.randrange(20000)}" if rnd.random() < 0.7 else None
        t = dt.datetime(day.year, day.month, day.day, rnd.randrange(24), rnd.randrange(60))
        for _ in range(rnd.choice([1, 1, 2])):
            rows.append(dict(conversation_id=cid, buyer_id=buyer, kind="answer", at=t, topic=rnd.choice(TOPICS),
                             text="how much is it"))
            t += dt.timedelta(seconds=30)
        x = rnd.random()
        if x < 0.35:
            rows.append(dict(conversation_id=cid, buyer_id=buyer, kind="helpful", at=t))
        elif x < 0.45:
            rows.append(dict(conversation_id=cid, buyer_id=buyer, kind="fallback", at=t, text=rnd.choice(
                ["blorp", "what is the weather", "asdf"])))
        elif x < 0.55:
            rows += [dict(conversation_id=cid, buyer_id=buyer, kind="handoff", at=t, reason="requested"),
                     dict(conversation_id=cid, kind="agent_joined", at=t + dt.timedelta(seconds=60), agent="a1"),
                     dict(conversation_id=cid, kind="agent_reply", at=t + dt.timedelta(seconds=90), agent="a1"),
                     dict(conversation_id=cid, kind="closed", at=t + dt.timedelta(seconds=600), agent="a1"),
                     dict(conversation_id=cid, kind="csat", at=t + dt.timedelta(seconds=620), value=rnd.randint(1, 5))]
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.analytics_year", description=__doc__.splitlines()[0])
    p.add_argument("--per-day", type=int, default=100)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    args = p.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    url = args.url or f"sqlite:///{Path(tmp.name) / 'year.db'}"
    engine = make_engine(url)
    ensure_schema(engine, "create")
    rnd = random.Random(7)
    today = utcnow().date()
    first = today - dt.timedelta(days=args.days)
    t0 = time.perf_counter()
    total = 0
    for d in range(args.days):
        keys = ("conversation_id", "buyer_id", "kind", "at", "topic", "reason", "agent", "value", "text")
        rows = [{k: r.get(k) for k in keys} for r in synthetic(first + dt.timedelta(days=d), args.per_day, rnd)]
        total += len(rows)
        with engine.begin() as c:
            c.execute(sa.insert(events), rows)
    print(f"{total} events over {args.days} days ({args.per_day} conversations a day) written in "
          f"{time.perf_counter() - t0:.1f} s")
    store = AnalyticsStore(engine)
    last = today - dt.timedelta(days=1)
    t0 = time.perf_counter()
    live = store.figures(first, last)
    live_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rolled = store.rollup()
    rollup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast = store.figures(first, last)
    fast_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    month = store.figures(last - dt.timedelta(days=29), last)
    month_s = time.perf_counter() - t0
    same = all(live[k] == fast[k] for k in ("involved", "resolved_confirmed", "resolved_assumed", "handoffs",
                                            "csat_average", "unanswered"))
    print(f"a year, live from the events: {live_s:.2f} s; roll-up of {rolled} days: {rollup_s:.2f} s (once); "
          f"a year from the roll-up: {fast_s * 1000:.0f} ms; the last 30 days: {month_s * 1000:.0f} ms; "
          f"same figures: {same}")
    print(f"  involved {fast['involved']}, bot resolution {fast['bot_resolution_rate']}, "
          f"CSAT {fast['csat_average']} ({fast['csat_count']})")
    # recording cost in the message path: add_message with and without an event (CPU time of this
    # process, alternating batches; wall time is dominated by SQLite's fsync on a busy disk)
    s = Store(engine)
    conv = s.create_conversation(None, "web", None)
    ev = [{"kind": "answer", "topic": "faq/fee", "text": "is there a fee"}]
    cpu = {"without": 0.0, "with": 0.0}
    n = 0
    for _ in range(6):
        for label, evs in (("without", None), ("with", ev)):
            t0 = time.process_time()
            for _ in range(100):
                s.add_message(conv["id"], "bot", "No fee.", events=evs)
            cpu[label] += time.process_time() - t0
        n += 100
    print(f"add_message CPU: {cpu['without'] * 1000 / n:.2f} ms without an event, "
          f"{cpu['with'] * 1000 / n:.2f} ms with one (the same transaction)")
    engine.dispose()
    tmp.cleanup()
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
