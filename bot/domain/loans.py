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

MIN_TERM_MONTHS = 1
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


TERM_OUT_OF_RANGE = "term_out_of_range"


def check_term(term_months: int) -> int:
    """1..6 whole months, else RuleViolation("term_out_of_range")."""
    if (not isinstance(term_months, int) or isinstance(term_months, bool)
            or not MIN_TERM_MONTHS <= term_months <= MAX_TERM_MONTHS):
        raise RuleViolation(TERM_OUT_OF_RANGE,
                            f"A Pay Later loan lasts from {MIN_TERM_MONTHS} to {MAX_TERM_MONTHS} whole months "
                            "(six at most).")
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
    refunded_at: Optional[dt.datetime] = None  # the latest refund (naive UTC)

    def __post_init__(self):
        self.amount = check_draw_amount(self.amount)
        check_term(self.term_months)
        if self.principal_outstanding is None:
            self.principal_outstanding = self.amount

    @property
    def repaid(self) -> bool:
        return self.principal_outstanding <= ZERO

    @property
    def reversal_window_ends(self) -> dt.datetime:
        """A refund booked at or before this instant reverses the fees billed so far."""
        return self.taken_at + FEE_REVERSAL_WINDOW

    def schedule(self, risk_tier: RiskTier, first_month_credit: Decimal, qualified_on: dt.date) -> List[Installment]:
        """The draw's own schedule (statements after the day it was taken)."""
        return schedule(self.amount, self.term_months, risk_tier, first_month_credit, qualified_on,
                        self.taken_at.date())

    def fees_billed(self, rows: List[Installment], as_of: dt.datetime) -> Decimal:
        """Fees billed by `as_of` (see `fees_billed`); nothing is billed after the loan was
        refunded in full (its last refund time)."""
        until = self.refunded_at if self.repaid and self.refunded_at is not None else None
        return fees_billed(rows, as_of, until)

    def refund(self, amount: Decimal, at: dt.datetime, billed_by_then: Decimal = ZERO) -> "RefundResult":
        """A refund on a Pay Later order goes back against the loan (principal outstanding);
        booked within 48 hours of taking the loan (at <= taken_at + 48 h, to the second) it also
        reverses the fees billed by then (`billed_by_then`, from `fees_billed`); after that the
        billed fees are kept. A refund larger than what is left on the loan is refused."""
        amount = money(amount)
        if amount <= ZERO:
            raise RuleViolation("invalid_amount", "The refund has to be more than $0.")
        if at < self.taken_at:
            raise RuleViolation("refund_before_loan", "A refund cannot be booked before the loan was taken.")
        if amount > self.principal_outstanding:
            raise RuleViolation(
                "refund_exceeds_paid",
                f"The refund of {fmt_usd(amount)} is more than the {fmt_usd(self.principal_outstanding)} "
                "paid with Pay Later and not yet refunded.",
            )
        self.principal_outstanding -= amount
        self.refunded += amount
        self.refunded_at = at
        self.billed_fees = max(self.billed_fees, money(billed_by_then))
        reversed_ = ZERO
        if at <= self.reversal_window_ends:
            reversed_ = max(self.billed_fees - self.fees_reversed, ZERO)
            self.fees_reversed += reversed_
        return RefundResult(amount, reversed_)


def fees_billed(rows: List[Installment], as_of: dt.datetime, until: Optional[dt.datetime] = None) -> Decimal:
    """Which monthly fees are billed as of `as_of` (naive datetimes are UTC): a month's fee
    counts as billed at 00:00 UTC of its statement date (the statement bills it), net of the
    first-month credit applied on that same statement. Statements after `until` (the loan was
    refunded in full) bill nothing."""
    total = ZERO
    for r in rows:
        billed_at = dt.datetime.combine(r.statement_date, dt.time(0, 0))
        if billed_at <= as_of and (until is None or billed_at <= until):
            total += r.fee - r.fee_credit
    return money(total)


@dataclass(frozen=True)
class RefundResult:
    applied_to_loan: Decimal
    fees_reversed: Decimal
