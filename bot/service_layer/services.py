"""Use cases of the PaymentsBackend port. Each takes a unit of work (not yet entered) and the
date/time from an injected clock; each returns the port's views or raises its errors."""
from __future__ import annotations

import datetime as dt
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional, Tuple

from bot.domain import credit as cr
from bot.domain.disbursement import LATE, Disbursement
from bot.domain.errors import RuleViolation
from bot.domain.loans import Draw, LoanAgreement, check_draw_amount, check_term, schedule
from bot.domain.money import USD, ZERO, money
from bot.domain.orders import PROCESSING, REFUNDED, Payment
from bot.domain.paylater import check_order
from bot.domain.tiers import DEFAULT_QUOTE_TIER, tier
from bot.ports import (ApplicantCheckView, ApplicationRequest, ApplicationView, RefundView, BuyerSummary, BuyerView, CreditLineView,
                       DisbursementView, EligibilityView, NotFound, OrderView, QuoteView, Reason, Refused,
                       ScheduleRow)

from . import views

DEFAULT_FIRST_MONTH_CREDIT = Decimal("50.00")
BUYER_NOT_FOUND = "I can't find your account."


@dataclass(frozen=True)
class ServiceConfig:
    # Assumption: the seed gives no amount for the first-month fee credit; 50.00 by default.
    first_month_credit: Decimal = DEFAULT_FIRST_MONTH_CREDIT
    application_link_base: str = "https://paylater.example.com/apply"

    @classmethod
    def from_settings(cls, settings) -> "ServiceConfig":
        raw = (settings.extra or {}).get("first_month_credit") or os.environ.get("PAYLATER_FIRST_MONTH_CREDIT")
        return cls(money(raw) if raw else DEFAULT_FIRST_MONTH_CREDIT, settings.application_link_base)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


@contextmanager
def rules():
    """A broken rule becomes the port's Refused (code + sentence)."""
    try:
        yield
    except RuleViolation as e:
        raise Refused(e.code, e.message) from None


def normalise_order_id(order_id: str) -> str:
    return (order_id or "").strip().upper()


def _owned_order(uow, buyer_id: str, order_id: str, for_update: bool = False):
    order = uow.orders.get(normalise_order_id(order_id), for_update=for_update)
    if order is None or order.buyer_id != buyer_id:
        raise NotFound()  # the same message for another buyer's order and an unknown id
    return order


# ------------------------------------------------------------------------ reads
def get_buyer(uow, buyer_id: str) -> BuyerView:
    with uow:
        b = uow.buyers.get(buyer_id)
        if b is None:
            raise NotFound(BUYER_NOT_FOUND, "buyer_not_found")
        return views.buyer_view(b)


def _late_payments(uow, orders, today: dt.date) -> dict:
    """{order_id: {stage: Disbursement}} of the Pay Later payments whose disbursement is late
    (more than 3 working days after the loan agreement was completed, not arrived)."""
    draws = uow.credit.draws_for_orders([o.order_id for o in orders])
    disb = uow.credit.disbursements_for_draws(draws)
    late: dict = {}
    for d in draws:
        x = disb.get(d.draw_id)
        if x is not None and x.state_on(today) == LATE:
            late.setdefault(d.order_id, {})[d.stage] = x
    return late


def _order_views(uow, orders, today: Optional[dt.date]) -> Tuple[OrderView, ...]:
    late = _late_payments(uow, orders, today or dt.date.today())
    return tuple(views.order_view(o, late.get(o.order_id)) for o in orders)


def list_orders(uow, buyer_id: str, today: Optional[dt.date] = None) -> Tuple[OrderView, ...]:
    with uow:
        return _order_views(uow, uow.orders.list_for_buyer(buyer_id), today)


def get_order(uow, buyer_id: str, order_id: str, today: Optional[dt.date] = None) -> OrderView:
    with uow:
        return _order_views(uow, [_owned_order(uow, buyer_id, order_id)], today)[0]


def pay_later_eligibility(uow, buyer_id: str, order_id: str) -> EligibilityView:
    with uow:
        order = _owned_order(uow, buyer_id, order_id)
        line = uow.credit.get_line(buyer_id)
        check = check_order(order, line)
        codes = [r.code for r in check.reasons]
        return EligibilityView(
            order.order_id, check.eligible, check.stage, check.amount, order.currency,
            line.available if line else None, tuple(Reason(r.code, r.message) for r in check.reasons),
            views.eligibility_advice(codes, check.stage, check.amount))


def application_status(uow, buyer_id: str, cfg: ServiceConfig) -> Optional[ApplicationView]:
    with uow:
        app = uow.credit.get_application(buyer_id)
        return None if app is None else views.application_view(app, cfg.application_link_base)


def applicant_check(uow, buyer_id: str, cfg: ServiceConfig) -> ApplicantCheckView:
    """Can this buyer apply, judged before any question: the business on file against the one
    eligibility function (every failing rule at once), and any existing application or line."""
    with uow:
        b = uow.buyers.get(buyer_id)
        if b is None:
            raise NotFound(BUYER_NOT_FOUND, "buyer_not_found")
        app = uow.credit.get_application(buyer_id)
        line = uow.credit.get_line(buyer_id)
        findings = cr.business_findings(b.business.country, b.business.years_in_business,
                                        b.business.annual_revenue)
        return ApplicantCheckView(
            buyer_id, not findings and app is None and line is None,
            tuple(Reason(f.code, f.message) for f in findings),
            views.application_view(app, cfg.application_link_base) if app else None,
            views.credit_line_view(line) if line else None)


def credit_line(uow, buyer_id: str) -> Optional[CreditLineView]:
    with uow:
        line = uow.credit.get_line(buyer_id)
        return None if line is None else views.credit_line_view(line)


def quote_draw(uow, buyer_id: str, amount: Decimal, term_months: int, today: dt.date,
               cfg: ServiceConfig) -> QuoteView:
    """Month by month cost of a draw. More than the available credit still gets a quote, with
    a note; amount <= 0, > $150,000 or a term over 6 months is refused."""
    with rules():
        amount = check_draw_amount(amount)
        check_term(term_months)
    with uow:
        line = uow.credit.get_line(buyer_id)
    notes = []
    if line is None:
        risk, qualified_on = tier(DEFAULT_QUOTE_TIER), today
        notes.append("You don't have an approved Pay Later line yet, so this quote uses the highest fee rates "
                     "and assumes your business qualifies today.")
    else:
        risk, qualified_on = tier(line.risk_tier), line.qualified_on
        if amount > line.available:
            notes.append(f"This is more than your available credit of {views.amount_text(line.available)}.")
    with rules():
        rows = schedule(amount, term_months, risk, cfg.first_month_credit, qualified_on, today)
    total_fees = sum((r.fee for r in rows), ZERO)
    credit = rows[0].fee_credit
    notes.append("There is no processing fee and no prepayment penalty.")
    return QuoteView(
        amount, USD, term_months, risk.name,
        tuple(ScheduleRow(r.month, r.statement_date, r.due_date, r.principal, r.fee, r.fee_credit, r.payment)
              for r in rows),
        total_fees, credit, amount + total_fees - credit, line.available if line else None, tuple(notes))


def disbursement_status(uow, buyer_id: str, order_id: str, today: dt.date) -> Tuple[DisbursementView, ...]:
    with uow:
        order = _owned_order(uow, buyer_id, order_id)
        out = []
        for draw in uow.credit.draws_for_order(order.order_id):
            out.append(views.disbursement_view(order.order_id, draw, uow.credit.get_disbursement(draw), today))
        return tuple(sorted(out, key=lambda v: v.stage != "initial"))


def buyer_summary(uow, buyer_id: str, cfg: ServiceConfig, today: Optional[dt.date] = None) -> BuyerSummary:
    with uow:
        b = uow.buyers.get(buyer_id)
        if b is None:
            raise NotFound(BUYER_NOT_FOUND, "buyer_not_found")
        app = uow.credit.get_application(buyer_id)
        line = uow.credit.get_line(buyer_id)
        orders = uow.orders.list_for_buyer(buyer_id)
        return BuyerSummary(
            views.buyer_view(b), views.application_view(app, cfg.application_link_base) if app else None,
            views.credit_line_view(line) if line else None, _order_views(uow, orders, today))


# ------------------------------------------------------------------------ writes
def start_application(uow, buyer_id: str, request: ApplicationRequest, today: dt.date,
                      cfg: ServiceConfig) -> ApplicationView:
    """Idempotent: a buyer has one application; asking again returns it with created=False.
    An ineligible business is declined with every reason; a limit above the cap is reduced."""
    with uow:
        existing = uow.credit.get_application(buyer_id)
        if existing is not None:
            return views.application_view(existing, cfg.application_link_base, created=False)
        buyer = uow.buyers.get(buyer_id)
        if buyer is None:
            raise NotFound(BUYER_NOT_FOUND, "buyer_not_found")
        with rules():
            app = cr.CreditApplication.start(
                new_id("APP"), buyer_id, request.business_name.strip(), request.us_based,
                request.years_in_business, request.annual_revenue, request.requested_limit, today,
                country_on_file=buyer.business.country)
        uow.credit.add_application(app)
        uow.commit()
        return views.application_view(app, cfg.application_link_base, created=True)


@dataclass(frozen=True)
class DrawResult:
    draw_id: str
    payment_id: str
    stage: str
    amount: Decimal
    available_after: Decimal


def take_draw(uow, buyer_id: str, order_id: str, now: dt.datetime, term_months: int = 6,
              agreement_completed_on: Optional[dt.date] = None, ids: Optional[dict] = None) -> DrawResult:
    """Pay an order's next payment with Pay Later: a draw on the buyer's line plus a Pay Later
    payment. The line row is locked (SELECT ... FOR UPDATE; BEGIN IMMEDIATE on SQLite — pass a
    unit of work with write_lock=True) so concurrent draws cannot together exceed the limit.
    No money moves until the loan agreement is completed."""
    ids = ids or {}
    with uow:
        line = uow.credit.get_line(buyer_id, for_update=True)
        order = _owned_order(uow, buyer_id, order_id, for_update=True)
        check = check_order(order, line)
        if not check.eligible:
            first = check.reasons[0]
            raise Refused(first.code, " ".join(r.message for r in check.reasons))
        with rules():
            check_term(term_months)
            line.draw(check.amount)
        draw = Draw(ids.get("draw") or new_id("DRW"), line.line_id, buyer_id, order.order_id, check.stage,
                    check.amount, line.risk_tier, term_months, now,
                    LoanAgreement(ids.get("agreement") or new_id("AGR"), agreement_completed_on))
        payment = Payment(ids.get("payment") or new_id("PAY"), order.order_id, check.stage, "pay_later",
                          check.amount, USD, PROCESSING, paid_on=now.date(), draw_id=draw.draw_id)
        with rules():
            order.add_payment(payment)
        uow.credit.update_line(line)
        uow.credit.add_draw(draw)
        uow.orders.add_payment(payment)
        uow.credit.add_disbursement(Disbursement(ids.get("disbursement") or new_id("DSB"), draw.draw_id,
                                                 draw.amount, agreement_completed_on))
        uow.commit()
        return DrawResult(draw.draw_id, payment.payment_id, draw.stage, draw.amount, line.available)


def _draw_and_disbursement(uow, draw_id: str):
    draw = uow.credit.get_draw(draw_id)
    if draw is None:
        raise NotFound("I can't find that loan.", "draw_not_found")
    return draw, uow.credit.get_disbursement(draw)


def complete_agreement(uow, draw_id: str, on: dt.date) -> None:
    with uow:
        draw, d = _draw_and_disbursement(uow, draw_id)
        with rules():
            d.complete_agreement(on)
        draw.agreement.completed_on = on
        uow.credit.update_draw(draw)
        uow.commit()


def record_arrival(uow, draw_id: str, on: dt.date) -> None:
    """The supplier received the lender's money (only after the agreement is completed)."""
    with uow:
        draw, d = _draw_and_disbursement(uow, draw_id)
        with rules():
            d.mark_arrived(on)
        uow.credit.update_disbursement(d)
        order = uow.orders.get(draw.order_id)
        p = order.payment(draw.stage)
        p.state, p.arrived_on = "arrived", on
        uow.orders.update_payment(p)
        uow.commit()


def _utc_naive(at: dt.datetime) -> dt.datetime:
    """Times are stored as naive UTC."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return at


def _draw_rows(draw: Draw, line, cfg: ServiceConfig):
    qualified_on = line.qualified_on if line is not None else draw.taken_at.date()
    return draw.schedule(tier(draw.risk_tier), cfg.first_month_credit, qualified_on)


def _refund_view(order, draws, line, as_of: dt.datetime, cfg: ServiceConfig) -> RefundView:
    if not draws:
        return RefundView(order.order_id, order.currency, False, False, ZERO, None, ZERO, ZERO, ZERO, ZERO, None)
    billed = ZERO
    for d in draws:
        billed += max(d.fees_billed(_draw_rows(d, line, cfg), as_of), d.billed_fees)
    refunded = money(sum((d.refunded for d in draws), ZERO))
    refund_times = [d.refunded_at for d in draws if d.refunded_at is not None]
    latest = max(draws, key=lambda d: d.taken_at)
    return RefundView(
        order.order_id, USD, True, refunded > ZERO, refunded,
        max(refund_times).date() if refund_times else None,
        money(sum((d.amount for d in draws), ZERO)), money(sum((d.principal_outstanding for d in draws), ZERO)),
        money(billed), money(sum((d.fees_reversed for d in draws), ZERO)),
        latest.reversal_window_ends.replace(tzinfo=dt.timezone.utc))


def refund_status(uow, buyer_id: str, order_id: str, now: dt.datetime, cfg: ServiceConfig) -> RefundView:
    """What a refund did (or would do) to the order's Pay Later loan and its fees, as of `now`."""
    with uow:
        order = _owned_order(uow, buyer_id, order_id)
        draws = uow.credit.draws_for_order(order.order_id)
        line = uow.credit.get_line(buyer_id) if draws else None
        return _refund_view(order, draws, line, _utc_naive(now), cfg)


def book_refund(uow, buyer_id: str, order_id: str, amount: Decimal, at: dt.datetime,
                cfg: ServiceConfig, refund_id: Optional[str] = None) -> RefundView:
    return book_refund_once(uow, buyer_id, order_id, amount, at, cfg, refund_id)[0]


def book_refund_once(uow, buyer_id: str, order_id: str, amount: Decimal, at: dt.datetime,
                     cfg: ServiceConfig, refund_id: Optional[str] = None) -> Tuple[RefundView, bool]:
    """PRODUCT.md rule 9. A refund on a Pay Later order goes back against the loan: the
    principal outstanding (and the credit used) drops by the amount, the latest draw first; a
    draw refunded in full marks its Pay Later payment refunded; booked within 48 hours of a
    draw (at <= taken_at + 48 h) the fees billed on it by then are reversed, later they are kept.
    A refund larger than what was paid with Pay Later and not yet refunded is refused.
    `refund_id` (the marketplace's id): booking it again returns the first booking (created=False)
    and changes nothing; reusing it for another order or amount is refused."""
    with uow:
        view, created = book_refund_in(uow, buyer_id, order_id, amount, at, cfg, refund_id)
        if created:
            uow.commit()
        return view, created


def book_refund_in(uow, buyer_id: str, order_id: str, amount: Decimal, at: dt.datetime,
                   cfg: ServiceConfig, refund_id: Optional[str] = None) -> Tuple[RefundView, bool]:
    """book_refund_once's work inside an entered unit of work, without committing (the lender
    API commits it together with its outbox event and idempotency key)."""
    at = _utc_naive(at)
    order = _owned_order(uow, buyer_id, order_id, for_update=True)
    draws = uow.credit.draws_for_order(order.order_id)
    if refund_id is not None:
        seen = uow.credit.get_refund(refund_id)
        if seen is not None:  # a retry: the same refund is not booked twice
            if seen["order_id"] != order.order_id or money(seen["amount"]) != money(amount):
                raise Refused("refund_id_reused", "This refund id was already used for a different refund.")
            line = uow.credit.get_line(buyer_id)
            return _refund_view(order, draws, line, seen["refunded_at"], cfg), False
    if not draws:
        raise Refused("not_pay_later", f"Order {order.order_id} was not paid with Pay Later, so a refund "
                                       "does not change any loan.")
    with rules():
        try:
            amount = money(amount)
        except (TypeError, ValueError):
            raise RuleViolation("invalid_amount", "That is not an amount I can use.") from None
        if amount <= ZERO:
            raise RuleViolation("invalid_amount", "The refund has to be more than $0.")
        left = money(sum((d.principal_outstanding for d in draws), ZERO))
        if amount > left:
            raise RuleViolation(
                "refund_exceeds_paid",
                f"The refund of {views.amount_text(amount)} is more than the {views.amount_text(left)} "
                f"paid with Pay Later on {order.order_id} and not yet refunded.")
    line = uow.credit.get_line(buyer_id, for_update=True)
    before_reversed = money(sum((d.fees_reversed for d in draws), ZERO))
    rest = amount
    for draw in sorted(draws, key=lambda d: d.taken_at, reverse=True):
        part = min(rest, draw.principal_outstanding)
        if part <= ZERO:
            continue
        with rules():
            result = draw.refund(part, at, draw.fees_billed(_draw_rows(draw, line, cfg), at))
        if line is not None:
            line.restore(result.applied_to_loan)
        if draw.repaid:
            p = next((x for x in order.payments if x.draw_id == draw.draw_id), None)
            if p is not None and p.state != REFUNDED:
                p.state = REFUNDED
                uow.orders.update_payment(p)
        uow.credit.update_draw(draw)
        rest -= part
        if rest <= ZERO:
            break
    if line is not None:
        uow.credit.update_line(line)
    view = _refund_view(order, draws, line, at, cfg)
    uow.credit.add_refund(refund_id or new_id("RFD"), order.order_id, buyer_id, amount, at,
                          money(sum((d.fees_reversed for d in draws), ZERO)) - before_reversed)
    return view, True
