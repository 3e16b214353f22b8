"""Draws (loans): fee schedule, first-month fee credit, statements and due dates, refunds."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import List, Optional

from dateutil.relativedelta import relativedelta

from .credit import CREDIT_CAP
from .errors import RuleViolation
from .money import ZERO, cents_down, fmt_usd, money
from .tiers import RiskTier

MAX_TERM_MONTHS = 6  # seed: "for up to six months"
FIRST_STATEMENT_AFTER_DAYS = 10  # faq 24156504
DUE_AFTER_STATEMENT_DAYS = 21  # faq 24156504
FEE_REVERSAL_WINDOW = dt.timedelta(hours=48)  # faq 24154549


@dataclass(frozen=True)
class Installment:
    month: int
    statement_date: dt.date
    due_date: dt.date
    principal: Decimal
    fee: Decimal  # before the first-month credit
    fee_credit: Decimal

    @property
    def payment(self) -> Decimal:
        return self.principal + self.fee - self.fee_credit


def check_draw_amount(amount: Decimal) -> Decimal:
    try:
        if isinstance(amount, float):
            raise InvalidOperation
        amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise RuleViolation("invalid_amount", "That is not an amount I can use.")
    if amount > CREDIT_CAP:
        raise RuleViolation("amount_above_cap", f"A Pay Later draw can be at most {fmt_usd(CREDIT_CAP)}.")
    amount = money(amount)
    if amount <= ZERO:
        raise RuleViolation("invalid_amount", "The amount has to be more than $0.")
    return amount


def check_term(term_months: int) -> int:
    if not isinstance(term_months, int) or isinstance(term_months, bool) or term_months < 1:
        raise RuleViolation("invalid_term", "The term has to be a whole number of months, at least 1.")
    if term_months > MAX_TERM_MONTHS:
        raise RuleViolation("term_too_long", "Pay Later loans last at most six months.")
    return term_months


def statement_dates(qualified_on: dt.date, after: dt.date, count: int) -> List[dt.date]:
    """The line's statements: the first 10 days after the business qualified, then monthly on
    that date (month ends clamp, e.g. the 31st -> 30 Apr, without drifting); the first
    `count` statements strictly after `after` (the draw date)."""
    first = qualified_on + dt.timedelta(days=FIRST_STATEMENT_AFTER_DAYS)
    dates, n = [], 0
    while len(dates) < count:
        d = first + relativedelta(months=n)
        if d > after:
            dates.append(d)
        n += 1
    return dates


def due_date(statement_date: dt.date) -> dt.date:
    return statement_date + dt.timedelta(days=DUE_AFTER_STATEMENT_DAYS)


def principal_parts(amount: Decimal, term_months: int) -> List[Decimal]:
    """Equal monthly parts rounded down to the cent; the remainder goes in the last month so
    the parts sum exactly to the amount."""
    part = cents_down(amount / term_months)
    return [part] * (term_months - 1) + [amount - part * (term_months - 1)]


def schedule(amount: Decimal, term_months: int, risk_tier: RiskTier, first_month_credit: Decimal,
             qualified_on: dt.date, drawn_on: dt.date) -> List[Installment]:
    """Month by month: principal in equal parts, the fee on the ORIGINAL amount at the tier's
    rate (months 1-2 / 3-6), and the first-month credit against month 1's fee only, never more
    than that fee."""
    amount = check_draw_amount(amount)
    check_term(term_months)
    rows = []
    dates = statement_dates(qualified_on, drawn_on, term_months)
    for i, (principal, stmt) in enumerate(zip(principal_parts(amount, term_months), dates), start=1):
        fee = money(amount * risk_tier.rate_for_month(i))
        credit = min(money(first_month_credit), fee) if i == 1 else ZERO
        rows.append(Installment(i, stmt, due_date(stmt), principal, fee, max(credit, ZERO)))
    return rows


# ----------------------------------------------------------------------------- draws
@dataclass
class LoanAgreement:
    agreement_id: str
    completed_on: Optional[dt.date] = None  # no money moves before this


@dataclass
class Draw:
    draw_id: str
    line_id: str
    buyer_id: str
    order_id: str
    stage: str
    amount: Decimal  # original draw amount: fees are computed on it
    risk_tier: str
    term_months: int
    taken_at: dt.datetime
    agreement: LoanAgreement
    principal_outstanding: Optional[Decimal] = None
    billed_fees: Decimal = ZERO
    fees_reversed: Decimal = ZERO
    refunded: Decimal = ZERO

    def __post_init__(self):
        self.amount = check_draw_amount(self.amount)
        check_term(self.term_months)
        if self.principal_outstanding is None:
            self.principal_outstanding = self.amount

    @property
    def repaid(self) -> bool:
        return self.principal_outstanding <= ZERO

    def refund(self, amount: Decimal, at: dt.datetime) -> "RefundResult":
        """A refund on a Pay Later order goes back against the loan; within 48 hours of
        taking the loan, the fees billed so far are reversed too."""
        amount = money(amount)
        if amount <= ZERO:
            raise RuleViolation("invalid_amount", "The refund has to be more than $0.")
        if amount > self.principal_outstanding:
            raise RuleViolation(
                "refund_exceeds_loan",
                f"The refund of {fmt_usd(amount)} is more than the {fmt_usd(self.principal_outstanding)} left on the loan.",
            )
        self.principal_outstanding -= amount
        self.refunded += amount
        reversed_ = ZERO
        if at - self.taken_at <= FEE_REVERSAL_WINDOW:
            reversed_ = self.billed_fees
            self.fees_reversed += reversed_
            self.billed_fees = ZERO
        return RefundResult(amount, reversed_)


@dataclass(frozen=True)
class RefundResult:
    applied_to_loan: Decimal
    fees_reversed: Decimal
