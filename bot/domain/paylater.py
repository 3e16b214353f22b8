"""Can Pay Later pay this order now? Every reason, not just the first."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Optional

from .credit import Finding, CreditLine
from .money import USD, fmt_usd, format_money
from .orders import BALANCE, INITIAL, Order


@dataclass(frozen=True)
class PayLaterCheck:
    stage: Optional[str]
    amount: Optional[Decimal]
    reasons: List[Finding] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def check_order(order: Order, line: Optional[CreditLine]) -> PayLaterCheck:
    """Trade Assurance only, USD only, an approved line with enough available credit, the
    balance only after the initial payment has arrived, and something left to pay."""
    reasons: List[Finding] = []
    if not order.trade_assurance:
        reasons.append(Finding("not_trade_assurance", "Pay Later can only pay Trade Assurance orders."))
    if order.currency != USD:
        reasons.append(Finding(
            "currency_not_usd", f"Pay Later pays in USD only, and this order is in {order.currency}."))
    stage = order.next_stage()
    amount = order.stage_amount(stage) if stage else None
    if stage is None:
        reasons.append(Finding("already_paid", f"Order {order.order_id} has nothing left to pay."))
    elif stage == BALANCE and not order.initial_arrived:
        reasons.append(Finding(
            "initial_not_arrived",
            "The balance can be paid only after the initial payment has arrived, and it has not arrived yet."))
    if line is None:
        reasons.append(Finding("no_credit_line", "You don't have an approved Pay Later credit line yet."))
    elif amount is not None and order.currency == USD and line.used + amount > line.limit:
        # a non-USD amount is never compared with the USD line (it is refused for its currency)
        reasons.append(Finding(
            "insufficient_credit",
            f"The {stage} payment of {format_money(amount, USD)} is more than your available credit of {fmt_usd(line.available)}."))
    return PayLaterCheck(stage, amount, reasons)


__all__ = ["PayLaterCheck", "check_order", "INITIAL", "BALANCE"]
