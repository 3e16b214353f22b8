"""Domain objects -> the port's views (bot.ports) with sentences a buyer understands."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import List, Optional

from bot.domain import disbursement as dis
from bot.domain.credit import (APPROVED, DECLINED, STARTED, UNDER_REVIEW, WAITING_FOR_LINKING, CreditApplication,
                               CreditLine)
from bot.domain.disbursement import Disbursement
from bot.domain.loans import Draw
from bot.domain.money import USD, ZERO, format_money
from bot.domain.orders import ARRIVED, BALANCE, INITIAL, PROCESSING, REFUNDED, Buyer, Order
from bot.ports import (ApplicationView, BuyerView, CreditLineView, DisbursementView, OrderView, PaymentView,
                       Reason)


def amount_text(amount: Decimal, currency: str = USD) -> str:
    """The one money formatter (bot.domain.money.format_money)."""
    return format_money(amount, currency)


def date_text(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def buyer_view(b: Buyer) -> BuyerView:
    return BuyerView(b.buyer_id, b.business.name, b.business.country)


def _payment_views(o: Order, late: Optional[dict] = None) -> tuple:
    """`late`: {stage: Disbursement} of the Pay Later payments whose disbursement is late."""
    late = late or {}
    out = []
    for stage in (INITIAL, BALANCE) if o.has_balance else (INITIAL,):
        p = o.settled(stage)
        if p is not None:
            state = {ARRIVED: "paid", PROCESSING: "processing", REFUNDED: "refunded"}[p.state]
            if p.state == PROCESSING and stage in late:
                state = "late"
            out.append(PaymentView(stage, p.amount, p.currency, state, p.method, p.paid_on))
        else:
            state = "due" if stage == INITIAL or o.initial_arrived else "waiting"
            out.append(PaymentView(stage, o.stage_amount(stage), o.currency, state))
    return tuple(out)


def _late_text(late: dict) -> str:
    """"the Pay Later payment of $3,700.00 is late: it should have reached the supplier by ..."."""
    return "; ".join(
        f"the Pay Later {'' if len(late) == 1 else stage + ' '}payment of {amount_text(d.amount)} is late: it "
        f"should have reached the supplier by {date_text(d.expected_by)} and hasn't yet"
        for stage, d in sorted(late.items(), key=lambda kv: kv[0] != INITIAL))


def _status_text(o: Order, late: Optional[dict] = None) -> str:
    cur = o.currency
    if late:
        lead = "Paid in full, but" if o.status == "paid_in_full" else "Not finished:"
        return f"{lead} {_late_text(late)}. A colleague needs to look into it."
    if o.status == "refunded":
        return (f"{amount_text(o.refunded, cur)} of this order was refunded and went back against your "
                "Pay Later loan; nothing is left to pay.")
    if o.status == "paid_in_full":
        if any(p.state == PROCESSING for p in o.payments):
            return "Paid in full; the last payment is on its way to the supplier."
        return "Paid in full."
    if o.status == "awaiting_payment":
        return f"Waiting for payment of {amount_text(o.due, cur)}."
    if o.status == "awaiting_initial_payment":
        rest = f", then the balance of {amount_text(o.balance_amount, cur)}" if o.has_balance else ""
        return f"Waiting for the initial payment of {amount_text(o.initial_amount, cur)}{rest}."
    if not o.initial_arrived:
        return (f"The initial payment of {amount_text(o.initial_amount, cur)} is on its way; the balance of "
                f"{amount_text(o.balance_amount, cur)} can be paid once it has arrived.")
    return (f"Initial payment of {amount_text(o.initial_amount, cur)} received; the balance of "
            f"{amount_text(o.balance_amount, cur)} is due.")


def order_view(o: Order, late: Optional[dict] = None) -> OrderView:
    """`late`: {stage: Disbursement} of this order's late Pay Later payments (see services)."""
    return OrderView(o.order_id, o.trade_assurance, o.currency, o.total, o.paid, o.due, o.status,
                     _status_text(o, late), _payment_views(o, late), o.placed_on)


_APP_TEXT = {
    STARTED: "Your Pay Later application has been started.",
    WAITING_FOR_LINKING: ("Your application is waiting for you to link your business checking and other online "
                          "accounts and give your personal information, through the secure link."),
    UNDER_REVIEW: "Kabbage is reviewing your application; you'll hear back once they decide.",
    APPROVED: "Your Pay Later application was approved: your credit line is ready to use.",
    DECLINED: "Your Pay Later application was declined.",
}


def application_view(a: CreditApplication, link_base: str, created: bool = False) -> ApplicationView:
    link = f"{link_base.rstrip('/')}/{a.application_id}" if a.state in (STARTED, WAITING_FOR_LINKING) else None
    text = _APP_TEXT[a.state]
    if a.state == DECLINED and a.reasons:
        text += " " + " ".join(r.message for r in a.reasons)
    return ApplicationView(a.application_id, a.state, text, a.lender, a.requested_limit, a.offered_limit, link,
                           tuple(Reason(r.code, r.message) for r in a.reasons), created, a.updated_on)


def credit_line_view(line: CreditLine) -> CreditLineView:
    return CreditLineView(line.lender, line.currency, line.limit, line.used, line.available, line.risk_tier)


def disbursement_view(order_id: str, draw: Draw, d: Optional[Disbursement], today: dt.date) -> DisbursementView:
    if d is None:  # a draw always has one; be safe: nothing has moved
        d = Disbursement("", draw.draw_id, draw.amount, draw.agreement.completed_on)
    state = d.state_on(today)
    amt = amount_text(d.amount)
    if state == dis.AWAITING_AGREEMENT:
        text = ("The loan agreement is not completed yet, so no money has moved. Once it is completed, the "
                "payment reaches the supplier in 1-3 working days.")
    elif state == dis.PROCESSING:
        text = (f"The lender's payment of {amt} is on its way: it should reach the supplier between "
                f"{date_text(d.expected_from)} and {date_text(d.expected_by)}.")
    elif state == dis.ARRIVED:
        text = f"The payment of {amt} reached the supplier on {date_text(d.arrived_on)}."
    elif state == dis.LATE:
        text = (f"The payment of {amt} should have reached the supplier by {date_text(d.expected_by)} and it "
                "hasn't yet. I'm sorry about that; a colleague needs to look into it.")
    else:
        text = f"The payment of {amt} could not be delivered. I'm sorry; a colleague needs to look into it."
    return DisbursementView(
        order_id, draw.stage, d.amount, USD, state, text, d.agreement_completed_on, d.expected_from, d.expected_by,
        d.arrived_on, d.working_days_since_agreement(today), state in (dis.LATE, dis.FAILED))


def eligibility_advice(codes: List[str], stage: Optional[str], amount: Optional[Decimal]) -> str:
    if not codes:
        return f"Choose Pay Later at checkout for the {stage} payment of {amount_text(amount)}."
    tips = []
    if "not_trade_assurance" in codes:
        tips.append("Pay this order with another method such as T/T or a card.")
    elif "currency_not_usd" in codes:
        tips.append("Pay this order with another method, such as T/T, which accepts other currencies.")
    if "already_paid" in codes:
        tips.append("There is nothing left to pay on this order.")
    if "initial_not_arrived" in codes:
        tips.append("Wait until the initial payment has arrived, then pay the balance.")
    if "no_credit_line" in codes:
        tips.append("You can apply for Pay Later in advance or at checkout under the Pay Later tab.")
    if "insufficient_credit" in codes:
        tips.append("Use another method for this payment, or wait until repayments free up credit.")
    return " ".join(tips)
