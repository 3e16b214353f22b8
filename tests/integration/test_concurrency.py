"""Two simultaneous draws on the same credit line cannot together exceed it (SELECT ... FOR
UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), each in its own thread and connection."""
import datetime as dt
import threading
import time
from decimal import Decimal

import sqlalchemy as sa

from bot.adapters import orm
from bot.adapters.unit_of_work import SqlAlchemyUnitOfWork
from bot.demo_data import load
from bot.domain.credit import CreditLine
from bot.ports import Refused
from bot.service_layer import services

from .conftest import TODAY

ORDERS = ("TA-300001", "TA-300002")


def _setup(engine):
    with engine.begin() as conn:
        conn.execute(orm.credit_lines.update().where(orm.credit_lines.c.buyer_id == "buyer-001")
                     .values(used=Decimal("40000.00")))  # available 10,000.00
        for oid in ORDERS:
            conn.execute(orm.orders.insert().values(order_id=oid, buyer_id="buyer-001", trade_assurance=True,
                                                    currency="USD", total=Decimal("6000.00"),
                                                    initial_amount=Decimal("6000.00")))


def _cleanup(engine):
    with engine.begin() as conn:
        draw_ids = sa.select(orm.draws.c.draw_id).where(orm.draws.c.order_id.in_(ORDERS))
        conn.execute(orm.disbursements.delete().where(orm.disbursements.c.draw_id.in_(draw_ids)))
        conn.execute(orm.payments.delete().where(orm.payments.c.order_id.in_(ORDERS)))
        conn.execute(orm.draws.delete().where(orm.draws.c.order_id.in_(ORDERS)))
        conn.execute(orm.orders.delete().where(orm.orders.c.order_id.in_(ORDERS)))
    load(engine, TODAY)


def test_two_simultaneous_draws_cannot_exceed_the_line(demo, monkeypatch):
    _setup(demo)
    real_draw = CreditLine.draw

    def slow_draw(self, amount):  # widen the race window between the check and the write
        real_draw(self, amount)
        time.sleep(0.3)

    monkeypatch.setattr(CreditLine, "draw", slow_draw)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker(order_id):
        barrier.wait()
        try:
            results.append(services.take_draw(SqlAlchemyUnitOfWork(demo, write_lock=True), "buyer-001", order_id,
                                              dt.datetime.combine(TODAY, dt.time(12))))
        except Refused as e:
            errors.append(e.code)

    threads = [threading.Thread(target=worker, args=(oid,)) for oid in ORDERS]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(results) == 1 and errors == ["insufficient_credit"]
        with demo.connect() as conn:
            used = conn.execute(sa.select(orm.credit_lines.c.used)
                                .where(orm.credit_lines.c.buyer_id == "buyer-001")).scalar_one()
            drawn = conn.execute(sa.select(sa.func.count()).select_from(orm.draws)
                                 .where(orm.draws.c.order_id.in_(ORDERS))).scalar_one()
        assert Decimal(str(used)) == Decimal("46000.00") and drawn == 1
    finally:
        _cleanup(demo)
