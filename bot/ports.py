"""The port through which the bot's actions (and the gateway's handoff summary) reach the
payments backend.

Two adapters implement it (see `bot.adapters.backend_client`):
- the in-process SQL adapter (default): calls the service layer in a worker thread, so no
  blocking database I/O runs on the event loop;
- the HTTP adapter: an aiohttp client of the backend API (port 8000).

The same contract tests run against both. Every method takes the buyer id that the caller
has *verified* (from the buyer's JWT); an order of another buyer is reported exactly like an
order that does not exist (`NotFound`), so ids of other buyers reveal nothing.

Values are plain frozen dataclasses: `Decimal` money rounded to the cent, `datetime.date`
dates, machine-readable codes next to sentences a buyer understands.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional, Protocol, Tuple, runtime_checkable


# --------------------------------------------------------------------------- errors
class BackendError(Exception):
    """Base of everything the port raises."""


class BackendUnavailable(BackendError):
    """The backend (database or API) is down, timed out or answered garbage."""


class NotFound(BackendError):
    """The thing does not exist *for this buyer* (unknown id or another buyer's)."""

    def __init__(self, message: str = "I can't find that order in your account.", code: str = "not_found"):
        super().__init__(message)
        self.code = code
        self.message = message


class Refused(BackendError):
    """A rule refused the request; `code` is machine-readable, `message` is for the buyer."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --------------------------------------------------------------------------- views
@dataclass(frozen=True)
class Reason:
    code: str  # e.g. "currency_not_usd", "not_trade_assurance", "insufficient_credit"
    message: str  # a sentence a buyer understands


@dataclass(frozen=True)
class BuyerView:
    buyer_id: str
    business_name: str
    country: str  # ISO 3166 alpha-2, e.g. "US", "DE"


@dataclass(frozen=True)
class PaymentView:
    stage: str  # "initial" | "balance"
    amount: Decimal
    currency: str
    # "due" | "waiting" (balance before initial arrived) | "processing" | "paid" | "refunded" |
    # "late" (a Pay Later payment more than 3 working days after agreement completion, not arrived)
    state: str
    method: Optional[str] = None  # "tt" | "card" | "pay_later" | "western_union" | "echecking" | "local_tt"
    paid_on: Optional[dt.date] = None


@dataclass(frozen=True)
class OrderView:
    order_id: str
    trade_assurance: bool
    currency: str
    total: Decimal
    paid: Decimal  # amount that has arrived or is on its way with a completed payment
    due: Decimal  # total - paid - refunded
    # "awaiting_initial_payment" | "awaiting_balance" | "paid_in_full" | "awaiting_payment" |
    # "refunded" (nothing left to pay because a payment was refunded against the Pay Later loan)
    status: str
    status_text: str  # one sentence for the buyer
    payments: Tuple[PaymentView, ...] = ()  # initial first, then balance
    placed_on: Optional[dt.date] = None


@dataclass(frozen=True)
class EligibilityView:
    """Can Pay Later pay this order now, and if not, exactly why."""

    order_id: str
    eligible: bool
    stage: Optional[str]  # the payment Pay Later would pay: "initial" | "balance" | None
    amount: Optional[Decimal]  # amount of that payment
    currency: str
    available_credit: Optional[Decimal]  # None when the buyer has no approved line
    reasons: Tuple[Reason, ...] = ()  # empty when eligible
    advice: str = ""  # what to do instead (or next step when eligible)


@dataclass(frozen=True)
class ApplicationRequest:
    business_name: str
    us_based: bool
    years_in_business: Decimal
    annual_revenue: Decimal
    requested_limit: Decimal


@dataclass(frozen=True)
class ApplicationView:
    application_id: str
    state: str  # "started" | "waiting_for_account_linking" | "under_review" | "approved" | "declined"
    state_text: str
    lender: str  # "Kabbage"
    requested_limit: Optional[Decimal]
    offered_limit: Optional[Decimal]  # requested limit capped at the lender's cap; None if declined
    link_url: Optional[str]  # where the buyer links accounts and gives personal info
    reasons: Tuple[Reason, ...] = ()  # why declined / why the limit was reduced
    created: bool = False  # True only when this call created it (idempotency is visible)
    updated_on: Optional[dt.date] = None


@dataclass(frozen=True)
class CreditLineView:
    lender: str
    currency: str  # always "USD"
    limit: Decimal
    used: Decimal
    available: Decimal
    risk_tier: str


@dataclass(frozen=True)
class ScheduleRow:
    month: int  # 1..term
    statement_date: dt.date
    due_date: dt.date
    principal: Decimal
    fee: Decimal  # fee before the first-month credit
    fee_credit: Decimal  # first-month credit applied (0 after month 1)
    payment: Decimal  # principal + fee - fee_credit


@dataclass(frozen=True)
class QuoteView:
    amount: Decimal
    currency: str
    term_months: int
    risk_tier: str
    rows: Tuple[ScheduleRow, ...]
    total_fees: Decimal  # before the credit
    fee_credit: Decimal
    total_repayable: Decimal  # amount + total_fees - fee_credit
    available_credit: Optional[Decimal]  # None when no approved line
    notes: Tuple[str, ...] = ()  # e.g. "This is more than your available credit of $31,620.00."


@dataclass(frozen=True)
class DisbursementView:
    """Where the lender's money for one Pay Later payment is."""

    order_id: str
    stage: str  # "initial" | "balance"
    amount: Decimal
    currency: str
    state: str  # "awaiting_agreement" | "processing" | "arrived" | "late" | "failed"
    state_text: str
    agreement_completed_on: Optional[dt.date]
    expected_from: Optional[dt.date]  # 1st working day after completion
    expected_by: Optional[dt.date]  # 3rd working day after completion
    arrived_on: Optional[dt.date] = None
    working_days_since_agreement: Optional[int] = None
    needs_human: bool = False  # late or failed: apologise and hand off


@dataclass(frozen=True)
class BuyerSummary:
    """What a support agent sees about a buyer on handoff."""

    buyer: BuyerView
    application: Optional[ApplicationView]
    credit_line: Optional[CreditLineView]
    orders: Tuple[OrderView, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ApplicantCheckView:
    """Can this buyer apply, judged before any question from the business on file and any existing
    application (the domain's one eligibility function, `bot.domain.credit.eligibility_findings`)."""

    buyer_id: str
    can_apply: bool  # False when the business on file fails a rule, or an application/line exists
    reasons: Tuple[Reason, ...]  # EVERY rule the business on file fails, all at once; empty otherwise
    application: Optional[ApplicationView]  # the existing application (open / approved / declined) or None
    credit_line: Optional[CreditLineView]


@dataclass(frozen=True)
class RefundView:
    """What a refund on a Pay Later order does to the loan and its fees (PRODUCT.md rule 9).

    A monthly fee counts as billed on its statement date (00:00 UTC), from the draw's schedule;
    `fees_billed` is net of the first-month credit (the credit is applied to month 1's fee on the
    same statement, so it is never billed and never "reversed" as cash)."""

    order_id: str
    currency: str
    pay_later: bool  # the order has at least one Pay Later draw
    refunded: bool  # a refund has been booked on the order
    refunded_amount: Decimal  # 0.00 when none
    refunded_on: Optional[dt.date]
    loan_amount: Decimal  # original Pay Later draw(s) on this order; 0.00 when none
    loan_outstanding: Decimal  # principal still owed now, after any refund
    fees_billed: Decimal  # loan fees billed so far on those draws (by statement, net of the credit)
    fees_reversed: Decimal  # billed fees reversed by the refund (refund within 48 h of the draw)
    reversal_window_ends: Optional[dt.datetime]  # draw time + 48 h, UTC: a refund booked by then reverses billed fees


# --------------------------------------------------------------------------- the port
@runtime_checkable
class PaymentsBackend(Protocol):
    async def buyer(self, buyer_id: str) -> BuyerView: ...

    async def list_orders(self, buyer_id: str) -> Tuple[OrderView, ...]: ...

    async def get_order(self, buyer_id: str, order_id: str) -> OrderView: ...

    async def pay_later_eligibility(self, buyer_id: str, order_id: str) -> EligibilityView: ...

    async def start_application(self, buyer_id: str, request: ApplicationRequest) -> ApplicationView:
        """`request.requested_limit` as the buyer said it: the backend caps it at $150,000 and
        records Reason("limit_reduced_to_cap"); every failing eligibility rule at once (declined)."""
        ...

    async def application_status(self, buyer_id: str) -> Optional[ApplicationView]: ...

    async def credit_line(self, buyer_id: str) -> Optional[CreditLineView]: ...

    async def quote_draw(self, buyer_id: str, amount: Decimal, term_months: int = 6) -> QuoteView:
        """Raises Refused("term_out_of_range", ...) unless 1 <= term_months <= 6."""
        ...

    async def applicant_check(self, buyer_id: str) -> ApplicantCheckView: ...

    async def refund_status(self, buyer_id: str, order_id: str) -> RefundView: ...

    async def disbursement_status(self, buyer_id: str, order_id: str) -> Tuple[DisbursementView, ...]: ...

    async def buyer_summary(self, buyer_id: str) -> BuyerSummary: ...

    async def close(self) -> None: ...
