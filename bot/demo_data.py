"""Demo data of PRODUCT.md ("Demo data"), dates relative to the day it runs.

    python -m bot.demo_data [--database-url URL]

Migrates (`alembic upgrade heads`), then replaces every row of the demo buyers with the demo
rows: running it twice leaves exactly the same rows (deterministic ids). "N working days ago"
uses the working-day calendar (Federal Reserve holidays).
"""
from __future__ import annotations

import argparse
import os
import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from bot.adapters import orm
from bot.adapters.db import make_engine
from bot.adapters.migrate import upgrade
from bot.adapters.unit_of_work import SqlAlchemyUnitOfWork
from bot.config import Settings
from bot.domain.calendar import add_working_days, working_days_before
from bot.domain.credit import APPROVED, WAITING_FOR_LINKING, CreditApplication, CreditLine
from bot.domain.orders import Business, Buyer, Order, Payment
from bot.service_layer import services

DEMO_BUYERS = ("buyer-001", "buyer-002", "buyer-003", "buyer-004")
D = Decimal
DAY = dt.timedelta(days=1)


def _delete_demo_rows(conn) -> None:
    buyers = list(DEMO_BUYERS)
    order_ids = sa.select(orm.orders.c.order_id).where(orm.orders.c.buyer_id.in_(buyers))
    draw_ids = sa.select(orm.draws.c.draw_id).where(orm.draws.c.buyer_id.in_(buyers))
    conn.execute(orm.refunds.delete().where(orm.refunds.c.buyer_id.in_(buyers)))
    conn.execute(orm.disbursements.delete().where(orm.disbursements.c.draw_id.in_(draw_ids)))
    conn.execute(orm.payments.delete().where(orm.payments.c.order_id.in_(order_ids)))
    conn.execute(orm.draws.delete().where(orm.draws.c.buyer_id.in_(buyers)))
    for t in (orm.credit_lines, orm.credit_applications, orm.orders, orm.buyers):
        conn.execute(t.delete().where(t.c.buyer_id.in_(buyers)))


def _app(app_id, buyer_id, name, state, limit, today):
    return CreditApplication(app_id, buyer_id, name, True, D("6"), D("1200000.00"), D(limit), state,
                             offered_limit=D(limit), reasons=[], updated_on=today)


def load(engine, today: dt.date) -> None:
    # Every unit of work here writes after it reads, so on SQLite each takes the write lock up
    # front (BEGIN IMMEDIATE): a running backend commits on the same file (its outbox dispatcher
    # marks the new draws' events delivered), and a deferred transaction whose snapshot is older
    # than that commit fails at its first write with "database is locked" at once, whatever the
    # busy timeout (SQLite's BUSY_SNAPSHOT). With the lock taken first it waits its turn instead.
    with SqlAlchemyUnitOfWork(engine, write_lock=True) as uow:
        _delete_demo_rows(uow.conn)
        for bid, name, country, years, revenue in (
            ("buyer-001", "Acme Outdoor Supply LLC", "US", "6", "1200000.00"),
            ("buyer-002", "Blue Harbor Imports Inc", "US", "3", "800000.00"),
            ("buyer-003", "Nordlicht Handel GmbH", "DE", "12", "2500000.00"),
            ("buyer-004", "Sunrise Retail Co", "US", "2", "300000.00"),
        ):
            uow.buyers.add(Buyer(bid, Business(name, country, D(years), D(revenue))))
        uow.credit.add_application(_app("APP-DEMO-001", "buyer-001", "Acme Outdoor Supply LLC", APPROVED,
                                        "50000.00", today - 90 * DAY))
        uow.credit.add_application(_app("APP-DEMO-004", "buyer-004", "Sunrise Retail Co", WAITING_FOR_LINKING,
                                        "40000.00", today - 2 * DAY))
        # Risk tier B (assumption: the seed gives none); qualified 90 days ago.
        uow.credit.add_line(CreditLine("LINE-DEMO-001", "buyer-001", D("50000.00"), D("0"), "B", today - 90 * DAY))

        c245 = working_days_before(today, 1)
        c198 = working_days_before(today, 10)
        c212 = working_days_before(today, 5)

        def order(oid, buyer, ta, cur, total, initial, placed, payments=()):
            o = Order(oid, buyer, ta, cur, D(total), D(initial), placed)
            uow.orders.add(o)
            for p in payments:
                uow.orders.add_payment(Payment(*p))

        order("TA-100231", "buyer-001", True, "USD", "24800.00", "7440.00", today - 30 * DAY,
              [("PAY-TA-100231-I", "TA-100231", "initial", "tt", D("7440.00"), "USD", "arrived",
                today - 25 * DAY, today - 21 * DAY)])
        order("TA-100245", "buyer-001", True, "USD", "12400.00", "3720.00", c245 - 20 * DAY,
              [("PAY-TA-100245-I", "TA-100245", "initial", "card", D("3720.00"), "USD", "arrived",
                c245 - 14 * DAY, c245 - 14 * DAY)])
        order("TA-100198", "buyer-001", True, "USD", "6000.00", "6000.00", c198 - 10 * DAY)
        order("TA-100212", "buyer-001", True, "USD", "3700.00", "3700.00", c212 - 10 * DAY)
        order("TA-100260", "buyer-001", True, "EUR", "3150.00", "945.00", today - 3 * DAY)
        order("PO-55012", "buyer-001", False, "USD", "900.00", "900.00", today - 5 * DAY)
        order("TA-100301", "buyer-002", True, "USD", "180000.00", "54000.00", today - 4 * DAY)
        order("TA-100288", "buyer-003", True, "USD", "15000.00", "4500.00", today - 6 * DAY)
        uow.commit()

    for oid, completed in (("TA-100245", c245), ("TA-100198", c198), ("TA-100212", c212)):
        ids = {k: f"{p}-{oid}" for k, p in
               (("draw", "DRW"), ("agreement", "AGR"), ("payment", "PAY-PL"), ("disbursement", "DSB"))}
        services.take_draw(SqlAlchemyUnitOfWork(engine, write_lock=True), "buyer-001", oid,
                           dt.datetime.combine(completed, dt.time(10, 0)), 6, completed, ids)
    services.record_arrival(SqlAlchemyUnitOfWork(engine, write_lock=True), "DRW-TA-100198", add_working_days(c198, 2))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: PAYLATER_DATABASE_URL or var/paylater.db")
    args = parser.parse_args(argv)
    os.umask(0o077)  # files this process creates are private
    url = args.database_url or Settings.from_env().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        load(engine, dt.date.today())
    finally:
        engine.dispose()
    print(f"demo data loaded into {engine.url.render_as_string(hide_password=True)}")


if __name__ == "__main__":
    main()
