"""Buyers, their businesses, Trade Assurance orders and their payments."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Optional

from .errors import RuleViolation
from .money import USD, ZERO, money

METHODS = ("tt", "card", "pay_later", "western_union", "echecking", "local_tt")
METHOD_NAMES = {
    "tt": "T/T",
    "card": "card",
    "pay_later": "Pay Later",
    "western_union": "Western Union",
    "echecking": "e-Checking",
    "local_tt": "local T/T",
}
INITIAL, BALANCE = "initial", "balance"
# payment states: processing (money on its way), arrived, failed, refunded
PROCESSING, ARRIVED, FAILED, REFUNDED = "processing", "arrived", "failed", "refunded"
COUNTS_AS_PAID = (PROCESSING, ARRIVED)


@dataclass
class Business:
    name: str
    country: str  # ISO 3166 alpha-2
    years_in_business: Optional[Decimal] = None
    annual_revenue: Optional[Decimal] = None


@dataclass
class Buyer:
    buyer_id: str
    business: Business


@dataclass
class Payment:
    payment_id: str
    order_id: str
    stage: str  # initial | balance
    method: str
    amount: Decimal
    currency: str
    state: str  # processing | arrived | failed | refunded
    paid_on: Optional[dt.date] = None
    arrived_on: Optional[dt.date] = None
    draw_id: Optional[str] = None  # Pay Later payments: the loan that pays it

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown payment method {self.method!r}")
        if self.stage not in (INITIAL, BALANCE):
            raise ValueError(f"unknown payment stage {self.stage!r}")
        self.amount = money(self.amount)


@dataclass
class Order:
    order_id: str
    buyer_id: str
    trade_assurance: bool
    currency: str
    total: Decimal
    initial_amount: Decimal  # == total when paid in one payment (and for non-TA orders)
    placed_on: Optional[dt.date] = None
    payments: List[Payment] = field(default_factory=list)

    def __post_init__(self):
        self.total = money(self.total)
        self.initial_amount = money(self.initial_amount)
        if not (ZERO < self.initial_amount <= self.total):
            raise ValueError("initial payment must be positive and at most the total")

    # ----------------------------------------------------------------- amounts
    @property
    def balance_amount(self) -> Decimal:
        return self.total - self.initial_amount

    @property
    def has_balance(self) -> bool:
        return self.balance_amount > ZERO

    def stage_amount(self, stage: str) -> Decimal:
        return self.initial_amount if stage == INITIAL else self.balance_amount

    def payment(self, stage: str) -> Optional[Payment]:
        """The live (not failed / refunded) payment of a stage."""
        for p in self.payments:
            if p.stage == stage and p.state in COUNTS_AS_PAID:
                return p
        return None

    def settled(self, stage: str) -> Optional[Payment]:
        """The live payment of a stage, or its refunded one (a refunded stage is not paid again:
        the refund went back against the loan that paid it)."""
        return self.payment(stage) or next(
            (p for p in self.payments if p.stage == stage and p.state == REFUNDED), None)

    @property
    def refunded(self) -> Decimal:
        return money(sum((p.amount for p in self.payments if p.state == REFUNDED), ZERO))

    @property
    def paid(self) -> Decimal:
        return money(sum((p.amount for p in self.payments if p.state in COUNTS_AS_PAID), ZERO))

    @property
    def due(self) -> Decimal:
        """What the buyer still has to pay the supplier (a refunded payment is not owed again)."""
        return self.total - self.paid - self.refunded

    @property
    def initial_arrived(self) -> bool:
        p = self.payment(INITIAL)
        return p is not None and p.state == ARRIVED

    def next_stage(self) -> Optional[str]:
        """The payment the buyer has to make next (None when everything is paid)."""
        if self.settled(INITIAL) is None:
            return INITIAL
        if self.has_balance and self.settled(BALANCE) is None:
            return BALANCE
        return None

    @property
    def status(self) -> str:
        if self.due <= ZERO:
            return "refunded" if self.refunded > ZERO else "paid_in_full"
        if not self.trade_assurance:
            return "awaiting_payment"
        return "awaiting_initial_payment" if self.payment(INITIAL) is None else "awaiting_balance"

    # ----------------------------------------------------------------- rules
    def check_can_pay(self, stage: str, amount: Decimal, currency: str) -> None:
        """Initial payment before balance; the balance only once the initial payment has
        arrived (each payment may use a different method)."""
        if stage not in (INITIAL, BALANCE):
            raise RuleViolation("invalid_stage", "That is not a payment of this order.")
        if self.settled(stage) is not None:
            raise RuleViolation("already_paid", f"The {stage} payment of {self.order_id} is already paid.")
        if stage == BALANCE:
            if not self.has_balance:
                raise RuleViolation("no_balance", f"{self.order_id} has no balance to pay.")
            if self.payment(INITIAL) is None:
                raise RuleViolation("initial_payment_first", "The initial payment has to be made before the balance.")
            if not self.initial_arrived:
                raise RuleViolation(
                    "initial_not_arrived",
                    "The balance can be paid only after the initial payment has arrived.",
                )
        if currency != self.currency:
            raise RuleViolation("currency_mismatch", f"This order is in {self.currency}.")
        if money(amount) != self.stage_amount(stage):
            raise RuleViolation("wrong_amount", f"The {stage} payment is {self.stage_amount(stage)} {self.currency}.")

    def add_payment(self, payment: Payment) -> None:
        self.check_can_pay(payment.stage, payment.amount, payment.currency)
        self.payments.append(payment)


def is_usd(currency: str) -> bool:
    return currency == USD
