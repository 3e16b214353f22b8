"""Repositories (SQLAlchemy Core, 2.0 style) that turn rows into domain objects and back.
They work on the unit of work's connection and never commit."""
from __future__ import annotations

from typing import List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.domain.credit import CreditApplication, CreditLine, Finding
from bot.domain.disbursement import Disbursement
from bot.domain.loans import Draw, LoanAgreement
from bot.domain.money import money
from bot.domain.orders import Business, Buyer, Order, Payment

from . import orm


def _m(value):
    return None if value is None else money(value)


class BuyerRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def get(self, buyer_id: str) -> Optional[Buyer]:
        r = self.conn.execute(sa.select(orm.buyers).where(orm.buyers.c.buyer_id == buyer_id)).mappings().first()
        if r is None:
            return None
        return Buyer(r["buyer_id"], Business(r["business_name"], r["country"], r["years_in_business"],
                                             _m(r["annual_revenue"])))

    def add(self, buyer: Buyer) -> None:
        b = buyer.business
        self.conn.execute(orm.buyers.insert().values(
            buyer_id=buyer.buyer_id, business_name=b.name, country=b.country,
            years_in_business=b.years_in_business, annual_revenue=b.annual_revenue))


class OrderRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def _payments(self, order_ids: List[str]) -> dict:
        out: dict = {oid: [] for oid in order_ids}
        if not order_ids:
            return out
        rows = self.conn.execute(
            sa.select(orm.payments).where(orm.payments.c.order_id.in_(order_ids))
            .order_by(orm.payments.c.order_id, orm.payments.c.stage.desc(), orm.payments.c.payment_id)
        ).mappings()
        for r in rows:
            out[r["order_id"]].append(Payment(
                r["payment_id"], r["order_id"], r["stage"], r["method"], money(r["amount"]), r["currency"],
                r["state"], r["paid_on"], r["arrived_on"], r["draw_id"]))
        return out

    @staticmethod
    def _order(r, payments) -> Order:
        return Order(r["order_id"], r["buyer_id"], bool(r["trade_assurance"]), r["currency"], money(r["total"]),
                     money(r["initial_amount"]), r["placed_on"], payments)

    def list_for_buyer(self, buyer_id: str) -> List[Order]:
        rows = self.conn.execute(
            sa.select(orm.orders).where(orm.orders.c.buyer_id == buyer_id)
            .order_by(orm.orders.c.placed_on.desc(), orm.orders.c.order_id)
        ).mappings().all()
        pays = self._payments([r["order_id"] for r in rows])
        return [self._order(r, pays[r["order_id"]]) for r in rows]

    def get(self, order_id: str, for_update: bool = False) -> Optional[Order]:
        q = sa.select(orm.orders).where(orm.orders.c.order_id == order_id)
        if for_update:
            q = q.with_for_update()
        r = self.conn.execute(q).mappings().first()
        if r is None:
            return None
        return self._order(r, self._payments([order_id])[order_id])

    def add(self, order: Order) -> None:
        self.conn.execute(orm.orders.insert().values(
            order_id=order.order_id, buyer_id=order.buyer_id, trade_assurance=order.trade_assurance,
            currency=order.currency, total=order.total, initial_amount=order.initial_amount,
            placed_on=order.placed_on))
        for p in order.payments:
            self.add_payment(p)

    def add_payment(self, p: Payment) -> None:
        self.conn.execute(orm.payments.insert().values(
            payment_id=p.payment_id, order_id=p.order_id, stage=p.stage, method=p.method, amount=p.amount,
            currency=p.currency, state=p.state, paid_on=p.paid_on, arrived_on=p.arrived_on, draw_id=p.draw_id))

    def update_payment(self, p: Payment) -> None:
        self.conn.execute(orm.payments.update().where(orm.payments.c.payment_id == p.payment_id).values(
            state=p.state, paid_on=p.paid_on, arrived_on=p.arrived_on))


class CreditRepository:
    """Applications, credit lines, draws (with their loan agreement) and disbursements."""

    def __init__(self, conn: Connection):
        self.conn = conn

    # ------------------------------------------------------------ applications
    def get_application(self, buyer_id: str) -> Optional[CreditApplication]:
        t = orm.credit_applications
        r = self.conn.execute(sa.select(t).where(t.c.buyer_id == buyer_id)).mappings().first()
        if r is None:
            return None
        return CreditApplication(
            r["application_id"], r["buyer_id"], r["business_name"], bool(r["us_based"]), r["years_in_business"],
            money(r["annual_revenue"]), money(r["requested_limit"]), r["state"], _m(r["offered_limit"]),
            [Finding(x["code"], x["message"]) for x in r["reasons"] or []], r["lender"], r["updated_on"])

    def _app_values(self, a: CreditApplication) -> dict:
        return dict(business_name=a.business_name, us_based=a.us_based, years_in_business=a.years_in_business,
                    annual_revenue=a.annual_revenue, requested_limit=a.requested_limit,
                    offered_limit=a.offered_limit, state=a.state, lender=a.lender, updated_on=a.updated_on,
                    reasons=[{"code": f.code, "message": f.message} for f in a.reasons])

    def add_application(self, a: CreditApplication) -> None:
        self.conn.execute(orm.credit_applications.insert().values(
            application_id=a.application_id, buyer_id=a.buyer_id, **self._app_values(a)))

    def update_application(self, a: CreditApplication) -> None:
        t = orm.credit_applications
        self.conn.execute(t.update().where(t.c.application_id == a.application_id).values(**self._app_values(a)))

    # ------------------------------------------------------------ credit lines
    def get_line(self, buyer_id: str, for_update: bool = False) -> Optional[CreditLine]:
        """`for_update` locks the row (SELECT ... FOR UPDATE on PostgreSQL) until commit."""
        t = orm.credit_lines
        q = sa.select(t).where(t.c.buyer_id == buyer_id)
        if for_update:
            q = q.with_for_update()
        r = self.conn.execute(q).mappings().first()
        if r is None:
            return None
        return CreditLine(r["line_id"], r["buyer_id"], money(r["credit_limit"]), money(r["used"]), r["risk_tier"],
                          r["qualified_on"], r["lender"], r["currency"])

    def add_line(self, line: CreditLine) -> None:
        self.conn.execute(orm.credit_lines.insert().values(
            line_id=line.line_id, buyer_id=line.buyer_id, lender=line.lender, currency=line.currency,
            credit_limit=line.limit, used=line.used, risk_tier=line.risk_tier, qualified_on=line.qualified_on))

    def update_line(self, line: CreditLine) -> None:
        t = orm.credit_lines
        self.conn.execute(t.update().where(t.c.line_id == line.line_id).values(
            credit_limit=line.limit, used=line.used, risk_tier=line.risk_tier))

    # ------------------------------------------------------------ draws
    @staticmethod
    def _draw(r) -> Draw:
        return Draw(r["draw_id"], r["line_id"], r["buyer_id"], r["order_id"], r["stage"], money(r["amount"]),
                    r["risk_tier"], r["term_months"], r["taken_at"],
                    LoanAgreement(r["agreement_id"], r["agreement_completed_on"]),
                    money(r["principal_outstanding"]), money(r["billed_fees"]), money(r["fees_reversed"]),
                    money(r["refunded"]), r["refunded_at"])

    def _draw_values(self, d: Draw) -> dict:
        return dict(agreement_completed_on=d.agreement.completed_on, principal_outstanding=d.principal_outstanding,
                    billed_fees=d.billed_fees, fees_reversed=d.fees_reversed, refunded=d.refunded,
                    refunded_at=d.refunded_at)

    def add_draw(self, d: Draw) -> None:
        self.conn.execute(orm.draws.insert().values(
            draw_id=d.draw_id, line_id=d.line_id, buyer_id=d.buyer_id, order_id=d.order_id, stage=d.stage,
            amount=d.amount, risk_tier=d.risk_tier, term_months=d.term_months, taken_at=d.taken_at,
            agreement_id=d.agreement.agreement_id, **self._draw_values(d)))

    def update_draw(self, d: Draw) -> None:
        self.conn.execute(orm.draws.update().where(orm.draws.c.draw_id == d.draw_id).values(**self._draw_values(d)))

    def get_draw_by_agreement(self, agreement_id: str) -> Optional[Draw]:
        r = self.conn.execute(sa.select(orm.draws).where(orm.draws.c.agreement_id == agreement_id)).mappings().first()
        return None if r is None else self._draw(r)

    def draws_not_arrived(self) -> List[Draw]:
        """Draws with a completed agreement whose money has not arrived nor failed."""
        d, x = orm.draws, orm.disbursements
        rows = self.conn.execute(sa.select(d).join(x, x.c.draw_id == d.c.draw_id).where(
            d.c.agreement_completed_on.is_not(None), x.c.arrived_on.is_(None), x.c.failed_on.is_(None)
        ).order_by(d.c.taken_at)).mappings()
        return [self._draw(r) for r in rows]

    def get_draw(self, draw_id: str) -> Optional[Draw]:
        r = self.conn.execute(sa.select(orm.draws).where(orm.draws.c.draw_id == draw_id)).mappings().first()
        return None if r is None else self._draw(r)

    def draws_for_order(self, order_id: str) -> List[Draw]:
        rows = self.conn.execute(sa.select(orm.draws).where(orm.draws.c.order_id == order_id)
                                 .order_by(orm.draws.c.stage.desc())).mappings()
        return [self._draw(r) for r in rows]

    def draws_for_orders(self, order_ids: List[str]) -> List[Draw]:
        if not order_ids:
            return []
        rows = self.conn.execute(sa.select(orm.draws).where(orm.draws.c.order_id.in_(list(order_ids)))
                                 .order_by(orm.draws.c.order_id, orm.draws.c.stage.desc())).mappings()
        return [self._draw(r) for r in rows]

    # ------------------------------------------------------------ refunds
    def get_refund(self, refund_id: str) -> Optional[dict]:
        t = orm.refunds
        r = self.conn.execute(sa.select(t).where(t.c.refund_id == refund_id)).mappings().first()
        return None if r is None else dict(r)

    def add_refund(self, refund_id: str, order_id: str, buyer_id: str, amount, refunded_at, fees_reversed) -> None:
        self.conn.execute(orm.refunds.insert().values(
            refund_id=refund_id, order_id=order_id, buyer_id=buyer_id, amount=amount, refunded_at=refunded_at,
            fees_reversed=fees_reversed))

    # ------------------------------------------------------------ disbursements
    def disbursements_for_draws(self, draws: List[Draw]) -> dict:
        """{draw_id: Disbursement} in one query."""
        by_id = {d.draw_id: d for d in draws}
        if not by_id:
            return {}
        t = orm.disbursements
        out = {}
        for r in self.conn.execute(sa.select(t).where(t.c.draw_id.in_(list(by_id)))).mappings():
            d = by_id[r["draw_id"]]
            out[d.draw_id] = Disbursement(r["disbursement_id"], r["draw_id"], money(r["amount"]),
                                          d.agreement.completed_on, r["arrived_on"], r["failed_on"], r["sent_on"])
        return out

    def get_disbursement(self, draw: Draw) -> Optional[Disbursement]:
        t = orm.disbursements
        r = self.conn.execute(sa.select(t).where(t.c.draw_id == draw.draw_id)).mappings().first()
        if r is None:
            return None
        return Disbursement(r["disbursement_id"], r["draw_id"], money(r["amount"]), draw.agreement.completed_on,
                            r["arrived_on"], r["failed_on"], r["sent_on"])

    def add_disbursement(self, d: Disbursement) -> None:
        self.conn.execute(orm.disbursements.insert().values(
            disbursement_id=d.disbursement_id, draw_id=d.draw_id, amount=d.amount, arrived_on=d.arrived_on,
            failed_on=d.failed_on, sent_on=d.sent_on))

    def update_disbursement(self, d: Disbursement) -> None:
        t = orm.disbursements
        self.conn.execute(t.update().where(t.c.disbursement_id == d.disbursement_id).values(
            arrived_on=d.arrived_on, failed_on=d.failed_on, sent_on=d.sent_on))


class EventRepository:
    """The outbox (events for the buyer, written with the change they report) and the
    idempotency keys of the lender/marketplace API."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, event_id: str, type_: str, buyer_id: str, order_id: Optional[str], payload: dict, at) -> None:
        self.conn.execute(orm.outbox.insert().values(
            event_id=event_id, type=type_, buyer_id=buyer_id, order_id=order_id, payload=payload, created_at=at,
            attempts=0))

    def pending(self, limit: int = 100) -> List[dict]:
        t = orm.outbox
        rows = self.conn.execute(sa.select(t).where(t.c.delivered_at.is_(None)).order_by(t.c.seq).limit(limit))
        return [dict(r) for r in rows.mappings()]

    def all_for_buyer(self, buyer_id: str) -> List[dict]:
        t = orm.outbox
        rows = self.conn.execute(sa.select(t).where(t.c.buyer_id == buyer_id).order_by(t.c.seq))
        return [dict(r) for r in rows.mappings()]

    def mark_delivered(self, event_id: str, at) -> None:
        t = orm.outbox
        self.conn.execute(t.update().where(t.c.event_id == event_id).values(delivered_at=at, attempts=t.c.attempts + 1))

    def mark_attempt(self, event_id: str) -> None:
        t = orm.outbox
        self.conn.execute(t.update().where(t.c.event_id == event_id).values(attempts=t.c.attempts + 1))

    def get_key(self, principal: str, key: str) -> Optional[dict]:
        t = orm.idempotency_keys
        r = self.conn.execute(sa.select(t).where(t.c.principal == principal, t.c.key == key)).mappings().first()
        return None if r is None else dict(r)

    def add_key(self, principal: str, key: str, request_hash: str, status: int, response: dict, at) -> None:
        self.conn.execute(orm.idempotency_keys.insert().values(
            principal=principal, key=key, request_hash=request_hash, status=status, response=response, created_at=at))
