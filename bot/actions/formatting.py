"""How money, dates, orders and schedules read in the chat. No Rasa imports."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Optional

from bot.ports import DisbursementView, OrderView, QuoteView

CENT = Decimal("0.01")
STAGES = {"initial": "initial payment", "balance": "balance"}
METHODS = {
    "tt": "T/T", "card": "card", "pay_later": "Pay Later", "western_union": "Western Union",
    "echecking": "e-Checking", "local_tt": "local T/T",
}
PAYMENT_STATES = {
    "due": "due", "waiting": "due after the initial payment arrives", "processing": "on its way",
    "paid": "paid", "refunded": "refunded",
}


def money(amount: Optional[Decimal], currency: str = "USD") -> str:
    """Decimal -> "$31,620.00" (USD) or "EUR 3,150.00"."""
    if amount is None:
        return "-"
    text = f"{Decimal(amount).quantize(CENT, ROUND_HALF_UP):,.2f}"
    return f"${text}" if currency.upper() == "USD" else f"{currency.upper()} {text}"


def day(date: Optional[dt.date]) -> str:
    """date -> "Friday, November 27"."""
    return f"{date:%A}, {date:%B} {date.day}" if date else "-"


def bullet_lines(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def order_line(order: OrderView) -> str:
    kind = "" if order.trade_assurance else " (not Trade Assurance)"
    return (
        f"{order.order_id}{kind}: total {money(order.total, order.currency)}, paid "
        f"{money(order.paid, order.currency)}, due {money(order.due, order.currency)} — {order.status_text}"
    )


def orders_text(orders: Iterable[OrderView]) -> str:
    orders = list(orders)
    if not orders:
        return "You have no orders in your account yet."
    owed: dict = {}
    for o in orders:
        if o.due > 0:
            owed[o.currency] = owed.get(o.currency, Decimal(0)) + o.due
    total = " and ".join(money(v, c) for c, v in sorted(owed.items())) or money(Decimal(0))
    return f"Your orders:\n{bullet_lines(order_line(o) for o in orders)}\nStill to pay in total: {total}."


def order_text(order: OrderView) -> str:
    ta = "Trade Assurance order" if order.trade_assurance else "order (not Trade Assurance)"
    lines = [
        f"{order.order_id} is a {ta} of {money(order.total, order.currency)}. {order.status_text}",
        f"Paid: {money(order.paid, order.currency)}. Still due: {money(order.due, order.currency)}.",
    ]
    for p in order.payments:
        how = f" by {METHODS.get(p.method, p.method)}" if p.method else ""
        when = f" on {day(p.paid_on)}" if p.paid_on else ""
        state = PAYMENT_STATES.get(p.state, p.state)
        lines.append(f"• {STAGES.get(p.stage, p.stage).capitalize()} {money(p.amount, p.currency)}: {state}{how}{when}")
    return "\n".join(lines)


def quote_text(q: QuoteView) -> str:
    head = (
        f"Borrowing {money(q.amount, q.currency)} with Pay Later over {q.term_months} months "
        f"(your fee tier: {q.risk_tier}):"
    )
    rows = []
    for r in q.rows:
        credit = f" − first-month credit {money(r.fee_credit)}" if r.fee_credit else ""
        rows.append(
            f"Month {r.month} (statement {day(r.statement_date)}, due {day(r.due_date)}): principal "
            f"{money(r.principal)} + fee {money(r.fee)}{credit} = {money(r.payment)}"
        )
    tail = [
        f"Total fees {money(q.total_fees)}, first-month credit −{money(q.fee_credit)}, "
        f"total to repay {money(q.total_repayable)}."
    ]
    if q.available_credit is not None:
        tail.append(f"Your available credit: {money(q.available_credit)}.")
    tail.extend(q.notes)
    return "\n".join([head, *rows, *tail])


def disbursement_text(d: DisbursementView) -> str:
    what = f"The {STAGES.get(d.stage, d.stage)} of {money(d.amount, d.currency)} for {d.order_id} (Pay Later)"
    if d.state == "arrived":
        return f"{what} arrived at the supplier on {day(d.arrived_on)}."
    if d.state == "awaiting_agreement":
        return (
            f"{what}: the loan agreement is not completed yet, so no money has moved. Once it is, "
            "the money reaches the supplier in 1–3 working days."
        )
    done = f"the loan agreement was completed on {day(d.agreement_completed_on)}"
    if d.state == "processing":
        return (
            f"{what} is on its way: {done}, and the money should reach the supplier between "
            f"{day(d.expected_from)} and {day(d.expected_by)} (1–3 working days after the agreement)."
        )
    if d.state in ("late", "failed"):
        late = "has not reached the supplier" if d.state == "late" else "could not be paid out"
        return (
            f"I'm sorry: the {what[4:]} {late}. {done[0].upper()}{done[1:]}, so it should have arrived by "
            f"{day(d.expected_by)}."
        )
    return f"{what}: {d.state_text}"
