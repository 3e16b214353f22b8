"""Use cases of the lender and the marketplace (the other side of the backend): complete a loan
agreement, mark the money sent / arrived, decide an application, book a refund, record a
statement. Each writes its event to the outbox in the same transaction as the change, and runs
under an Idempotency-Key (`run_idempotent`): the same key and body return the stored answer and
change nothing; the same key with another body is `IdempotencyConflict` (409)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, List, Optional, Tuple

from bot.domain import credit as cr
from bot.domain.errors import RuleViolation
from bot.domain.money import USD, money
from bot.domain.tiers import tier
from bot.ports import NotFound, Refused

from . import views
from .services import BUYER_NOT_FOUND, ServiceConfig, book_refund_in, new_id, rules

# event types (docs/CONTRACT.md "Events")
AGREEMENT_COMPLETED = "agreement_completed"
DISBURSEMENT_SENT = "disbursement_sent"
DISBURSEMENT_ARRIVED = "disbursement_arrived"
APPLICATION_APPROVED = "application_approved"
APPLICATION_DECLINED = "application_declined"
REFUND_BOOKED = "refund_booked"
STATEMENT_ISSUED = "statement_issued"


class IdempotencyConflict(Exception):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for a different request."


def request_hash(method: str, path: str, body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Clock:
    now: dt.datetime  # naive UTC
    today: dt.date


def run_idempotent(uow, principal: str, key: str, req_hash: str, clock: Clock,
                   operation: Callable, to_json: Callable) -> Tuple[int, dict, bool]:
    """(status, body, replayed). `operation(uow, clock) -> (status, result)` does its writes and
    outbox events in the entered unit of work; the answer is stored with the key and all of it
    committed together. Errors roll everything back and store nothing."""
    with uow:
        seen = uow.events.get_key(principal, key)
        if seen is not None:
            if seen["request_hash"] != req_hash:
                raise IdempotencyConflict()
            return seen["status"], seen["response"], True
        status, result = operation(uow, clock)
        body = to_json(result)
        uow.events.add_key(principal, key, req_hash, status, body, clock.now)
        uow.commit()
        return status, body, False


def _event(uow, clock: Clock, type_: str, buyer_id: str, order_id: Optional[str], **data) -> str:
    event_id = f"EVT-{uuid.uuid4().hex[:16].upper()}"
    payload = {"event_id": event_id, "type": type_, "buyer_id": buyer_id, "order_id": order_id,
               "occurred_at": clock.now.replace(microsecond=0).isoformat() + "Z", **_plain(data)}
    uow.events.add(event_id, type_, buyer_id, order_id, payload, clock.now)
    return event_id


def _plain(value):
    """JSON-ready: Decimal as "8680.00", dates ISO."""
    if isinstance(value, Decimal):
        return f"{money(value):.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------------ loans and money
def _loan(uow, agreement_id: str):
    draw = uow.credit.get_draw_by_agreement(agreement_id)
    if draw is None:
        raise NotFound("I can't find that loan agreement.", "agreement_not_found")
    return draw, uow.credit.get_disbursement(draw)


def _disbursement_result(uow, draw, d, clock: Clock, event_id: str) -> dict:
    return {"agreement_id": draw.agreement.agreement_id, "buyer_id": draw.buyer_id, "event_id": event_id,
            "disbursement": views.disbursement_view(draw.order_id, draw, d, clock.today)}


def complete_agreement(agreement_id: str, on: Optional[dt.date]):
    def op(uow, clock: Clock):
        draw, d = _loan(uow, agreement_id)
        when = on or clock.today
        with rules():
            d.complete_agreement(when)
        draw.agreement.completed_on = when
        uow.credit.update_draw(draw)
        eid = _event(uow, clock, AGREEMENT_COMPLETED, draw.buyer_id, draw.order_id, stage=draw.stage,
                     agreement_id=agreement_id, amount=draw.amount, currency=USD, on=when,
                     expected_from=d.expected_from, expected_by=d.expected_by)
        return 200, _disbursement_result(uow, draw, d, clock, eid)
    return op


def mark_sent(agreement_id: str, on: Optional[dt.date]):
    def op(uow, clock: Clock):
        draw, d = _loan(uow, agreement_id)
        when = on or clock.today
        with rules():
            d.mark_sent(when)
        uow.credit.update_disbursement(d)
        eid = _event(uow, clock, DISBURSEMENT_SENT, draw.buyer_id, draw.order_id, stage=draw.stage,
                     agreement_id=agreement_id, amount=d.amount, currency=USD, on=when,
                     expected_by=d.expected_by)
        return 200, _disbursement_result(uow, draw, d, clock, eid)
    return op


def mark_arrived(agreement_id: str, on: Optional[dt.date]):
    def op(uow, clock: Clock):
        draw, d = _loan(uow, agreement_id)
        when = on or clock.today
        if d.arrived_on is not None:
            raise Refused("already_arrived", "The money already reached the supplier.")
        with rules():
            if d.agreement_completed_on is not None and when < d.agreement_completed_on:
                raise RuleViolation("arrived_before_agreement",
                                    "The money cannot arrive before the loan agreement was completed.")
            d.mark_arrived(when)
        uow.credit.update_disbursement(d)
        order = uow.orders.get(draw.order_id)
        p = order.payment(draw.stage)
        p.state, p.arrived_on = "arrived", when
        uow.orders.update_payment(p)
        eid = _event(uow, clock, DISBURSEMENT_ARRIVED, draw.buyer_id, draw.order_id, stage=draw.stage,
                     agreement_id=agreement_id, amount=d.amount, currency=USD, on=when)
        return 200, _disbursement_result(uow, draw, d, clock, eid)
    return op


# ------------------------------------------------------------------ applications
def decide_application(buyer_id: str, decision: str, limit: Optional[Decimal], risk_tier: Optional[str],
                       reasons: List[Tuple[str, str]], cfg: ServiceConfig):
    """approve: the application becomes approved with `limit` (at most the $150,000 cap) and the
    buyer gets a credit line of that limit and tier; decline: declined with the lender's reasons."""
    def op(uow, clock: Clock):
        app = uow.credit.get_application(buyer_id)
        if app is None:
            if uow.buyers.get(buyer_id) is None:
                raise NotFound(BUYER_NOT_FOUND, "buyer_not_found")
            raise NotFound("This buyer has no application.", "application_not_found")
        if app.state in (cr.APPROVED, cr.DECLINED):
            raise Refused("application_already_decided", f"The application is already {app.state}.")
        if decision == "approve":
            if uow.credit.get_line(buyer_id) is not None:
                raise Refused("line_exists", "This buyer already has a credit line.")
            if limit > cr.CREDIT_CAP:
                raise Refused("limit_above_cap", "A credit line can be at most $150,000.00.")
            try:
                tier(risk_tier)
            except ValueError:
                raise Refused("unknown_risk_tier", f"Unknown risk tier {risk_tier!r}.") from None
            with rules():
                if app.state == cr.WAITING_FOR_LINKING:
                    app.move_to(cr.UNDER_REVIEW, clock.today)
                app.move_to(cr.APPROVED, clock.today)
                line = cr.CreditLine(new_id("LINE"), buyer_id, limit, Decimal("0"), risk_tier, clock.today)
            app.offered_limit = line.limit
            uow.credit.update_application(app)
            uow.credit.add_line(line)
            eid = _event(uow, clock, APPLICATION_APPROVED, buyer_id, None, application_id=app.application_id,
                         limit=line.limit, currency=USD, risk_tier=risk_tier)
        else:
            with rules():
                app.move_to(cr.DECLINED, clock.today)
            app.reasons = [cr.Finding(c, m) for c, m in reasons]
            uow.credit.update_application(app)
            eid = _event(uow, clock, APPLICATION_DECLINED, buyer_id, None, application_id=app.application_id,
                         reasons=[{"code": c, "message": m} for c, m in reasons])
        return 200, {"event_id": eid,
                     "application": views.application_view(app, cfg.application_link_base)}
    return op


# ------------------------------------------------------------------ refunds and statements
def book_refund(buyer_id: str, order_id: str, amount: Decimal, at: Optional[dt.datetime],
                refund_id: Optional[str], cfg: ServiceConfig):
    """Rule 9 through services.book_refund_in; 201 and a `refund_booked` event when booked, 200
    and no event when `refund_id` was booked before."""
    def op(uow, clock: Clock):
        view, created = book_refund_in(uow, buyer_id, order_id, amount, at or clock.now, cfg, refund_id)
        eid = None
        if created:
            eid = _event(uow, clock, REFUND_BOOKED, buyer_id, view.order_id, amount=money(amount), currency=USD,
                         on=view.refunded_on, fees_reversed=view.fees_reversed,
                         loan_outstanding=view.loan_outstanding)
        return (201 if created else 200), {"event_id": eid, "refund": view}
    return op


def record_statement(agreement_id: str, statement_date: dt.date, due_date: dt.date, amount_due: Decimal):
    """The lender issued a monthly statement for a loan: an event for the buyer (what is due and
    when); nothing else changes (fees billed follow the schedule, PRODUCT.md rule 9)."""
    def op(uow, clock: Clock):
        draw, _ = _loan(uow, agreement_id)
        if draw.agreement.completed_on is None:
            raise Refused("agreement_not_completed", "No statement before the loan agreement is completed.")
        if due_date < statement_date:
            raise Refused("due_before_statement", "The due date cannot be before the statement date.")
        eid = _event(uow, clock, STATEMENT_ISSUED, draw.buyer_id, draw.order_id, agreement_id=agreement_id,
                     statement_date=statement_date, due_date=due_date, amount_due=amount_due, currency=USD)
        return 201, {"event_id": eid, "agreement_id": agreement_id, "order_id": draw.order_id,
                     "statement_date": statement_date, "due_date": due_date, "amount_due": amount_due}
    return op


def pending_events(uow, limit: int = 100) -> List[dict]:
    with uow:
        return uow.events.pending(limit)


def mark_delivered(uow, event_id: str, at: dt.datetime) -> None:
    with uow:
        uow.events.mark_delivered(event_id, at)
        uow.commit()


def late_disbursements(uow, today: dt.date) -> List[dict]:
    """Every Pay Later payment late on `today` (more than 3 working days after the agreement was
    completed, not arrived, not failed), as plain JSON-ready dicts."""
    from bot.domain.disbursement import LATE
    out = []
    with uow:
        for draw in uow.credit.draws_not_arrived():
            d = uow.credit.get_disbursement(draw)
            if d is None or d.state_on(today) != LATE or draw.repaid:
                continue
            out.append(_plain({"buyer_id": draw.buyer_id, "order_id": draw.order_id, "stage": draw.stage,
                               "agreement_id": draw.agreement.agreement_id, "amount": d.amount, "currency": USD,
                               "agreement_completed_on": d.agreement_completed_on, "expected_by": d.expected_by,
                               "working_days_since_agreement": d.working_days_since_agreement(today)}))
    return out
