"""How orders, schedules and payouts read in the chat, composed from the domain.yml responses
(`bot.actions.wording`). Money goes through `bot.domain.money.format_money` only; no sentence
lives here. No Rasa imports."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterable, List, Optional, Sequence

from bot.actions.wording import Wording, join
from bot.domain.money import format_money
from bot.ports import DisbursementView, EligibilityView, OrderView, QuoteView

MINUS = "\u2212"  # the minus sign of the schedule's credit column


def money(amount: Optional[Decimal], currency: str = "USD") -> str:
    """Decimal -> "$31,620.00" (USD) or "EUR 3,150.00"; "-" when there is no amount."""
    return "-" if amount is None else format_money(amount, currency)


def day(date: Optional[dt.date]) -> str:
    """date -> "Friday, November 27"."""
    return f"{date:%A}, {date:%B} {date.day}" if date else "-"


def short_day(date: Optional[dt.date]) -> str:
    """date -> "Thu, Dec 10" (table cells)."""
    return f"{date:%a}, {date:%b} {date.day}" if date else "-"


def bullet_lines(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


# ----------------------------------------------------------------------------- orders
def is_late(order: OrderView) -> bool:
    return any(p.state == "late" for p in order.payments)


def order_line(w: Wording, order: OrderView) -> str:
    c = order.currency
    return w(
        "utter_order_line", order_id=order.order_id,
        kind="" if order.trade_assurance else w("utter_order_not_ta_tag"),
        total=money(order.total, c), paid=money(order.paid, c), due=money(order.due, c),
        status=order.status_text, late=w("utter_order_late_tag") if is_late(order) else "",
    )


def orders_text(w: Wording, orders: Iterable[OrderView]) -> str:
    orders = list(orders)
    if not orders:
        return w("utter_orders_none")
    owed: dict = {}
    for o in orders:
        if o.due > 0:
            owed[o.currency] = owed.get(o.currency, Decimal(0)) + o.due
    total = " + ".join(money(v, c) for c, v in sorted(owed.items())) or money(Decimal(0))
    return join(w("utter_orders_header"), bullet_lines(order_line(w, o) for o in orders),
                w("utter_orders_total", total=total))


def order_text(w: Wording, order: OrderView) -> str:
    c = order.currency
    head = "utter_order_head_ta" if order.trade_assurance else "utter_order_head_other"
    lines = [
        w(head, order_id=order.order_id, total=money(order.total, c), status=order.status_text),
        w("utter_order_paid_due", paid=money(order.paid, c), due=money(order.due, c)),
    ]
    for p in order.payments:
        lines.append(w(
            "utter_order_payment", stage=w.label("stage", p.stage).capitalize(), amount=money(p.amount, p.currency),
            state=w.label("payment", p.state),
            how=w("utter_order_payment_how", method=w.label("method", p.method)) if p.method else "",
            when=w("utter_order_payment_when", day=day(p.paid_on)) if p.paid_on else "",
        ))
    return join(*lines)


def eligibility_text(w: Wording, e: EligibilityView, advice: Optional[str] = None) -> str:
    """Yes with the amount and the available credit, or no with every reason; then the backend's
    advice, or `advice` when the caller knows better (e.g. this buyer cannot apply)."""
    if e.eligible:
        text = w("utter_pay_later_yes", stage=w.label("stage", e.stage or "initial"),
                 amount=money(e.amount, e.currency), order_id=e.order_id,
                 available=money(e.available_credit, "USD"))
    else:
        # reasons and advice are the backend's sentences: the rules live there, not here
        text = join(w("utter_pay_later_no", order_id=e.order_id), bullet_lines(r.message for r in e.reasons))
    return join(text, e.advice if advice is None else advice)


# ----------------------------------------------------------------------------- loan cost
def term_words(w: Wording, months: int) -> str:
    return w("utter_label_one_month") if months == 1 else w("utter_label_months", n=months)


def quote_payload(w: Wording, q: QuoteView, before: Sequence[str] = (), extra_after: Sequence[str] = ()) -> dict:
    """The loan schedule as the chat's table payload (one message; `text` is the fallback)."""
    title = w("utter_loan_cost_title", amount=money(q.amount, q.currency), term=term_words(w, q.term_months),
              tier=q.risk_tier)
    columns = w("utter_loan_cost_columns").split("|")
    rows: List[List[str]] = []
    row_texts: List[str] = []
    for r in q.rows:
        credit = f"{MINUS}{money(r.fee_credit, q.currency)}" if r.fee_credit else "—"
        rows.append([str(r.month), short_day(r.statement_date), short_day(r.due_date), money(r.principal, q.currency),
                     money(r.fee, q.currency), credit, money(r.payment, q.currency)])
        row_texts.append(w(
            "utter_loan_cost_row", month=r.month, statement=day(r.statement_date), due=day(r.due_date),
            principal=money(r.principal, q.currency), fee=money(r.fee, q.currency),
            credit=w("utter_loan_cost_row_credit", credit=money(r.fee_credit, q.currency)) if r.fee_credit else "",
            payment=money(r.payment, q.currency),
        ))
    after = [w("utter_loan_cost_totals", fees=money(q.total_fees, q.currency), credit=money(q.fee_credit, q.currency),
               total=money(q.total_repayable, q.currency))]
    said_available = any(money(q.available_credit, "USD") in s for s in before) if q.available_credit is not None else False
    if q.available_credit is not None and not said_available:
        after.append(w("utter_loan_cost_available", available=money(q.available_credit, "USD")))
    # the backend's own notes (e.g. no approved line yet), unless they repeat what was said first
    after.extend(n for n in q.notes if not (said_available and money(q.available_credit, "USD") in n))
    after.extend(extra_after)
    text = join(*before, title + ":", *row_texts, *after)
    return {"type": "table", "kind": "loan_schedule", "title": title, "before": list(before), "columns": columns,
            "rows": rows, "after": after, "text": text}


# ----------------------------------------------------------------------------- disbursement
def disbursement_text(w: Wording, d: DisbursementView) -> str:
    what = w("utter_disbursement_what", stage=w.label("stage", d.stage), amount=money(d.amount, d.currency),
             order_id=d.order_id)
    if d.state == "arrived":
        return w("utter_disbursement_arrived", what=what, arrived=day(d.arrived_on))
    if d.state == "awaiting_agreement":
        return w("utter_disbursement_awaiting_agreement", what=what)
    completed = day(d.agreement_completed_on)
    lower = what[:1].lower() + what[1:]
    if d.state == "processing":
        return w("utter_disbursement_processing", what=what, completed=completed,
                 expected_from=day(d.expected_from), expected_by=day(d.expected_by))
    if d.state == "late":
        return w("utter_disbursement_late", what=lower, completed=completed, expected_by=day(d.expected_by))
    if d.state == "failed":
        return w("utter_disbursement_failed", what=lower, completed=completed)
    return w("utter_disbursement_other", what=what, state_text=d.state_text)
