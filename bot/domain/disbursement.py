"""Disbursement: the lender's money on its way to the supplier, 1-3 working days after the
loan agreement is completed; nothing moves before; more than 3 working days is late."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from .calendar import add_working_days, working_days_between
from .errors import RuleViolation

ARRIVAL_MIN_WORKING_DAYS = 1
ARRIVAL_MAX_WORKING_DAYS = 3

AWAITING_AGREEMENT = "awaiting_agreement"
PROCESSING = "processing"
ARRIVED = "arrived"
LATE = "late"
FAILED = "failed"


@dataclass
class Disbursement:
    disbursement_id: str
    draw_id: str
    amount: Decimal
    agreement_completed_on: Optional[dt.date] = None
    arrived_on: Optional[dt.date] = None
    failed_on: Optional[dt.date] = None
    sent_on: Optional[dt.date] = None  # the lender reported the money sent

    # ------------------------------------------------------------- derived
    @property
    def expected_from(self) -> Optional[dt.date]:
        if self.agreement_completed_on is None:
            return None
        return add_working_days(self.agreement_completed_on, ARRIVAL_MIN_WORKING_DAYS)

    @property
    def expected_by(self) -> Optional[dt.date]:
        if self.agreement_completed_on is None:
            return None
        return add_working_days(self.agreement_completed_on, ARRIVAL_MAX_WORKING_DAYS)

    def working_days_since_agreement(self, today: dt.date) -> Optional[int]:
        if self.agreement_completed_on is None:
            return None
        return working_days_between(self.agreement_completed_on, today)

    def state_on(self, today: dt.date) -> str:
        if self.agreement_completed_on is None:
            return AWAITING_AGREEMENT
        if self.failed_on is not None:
            return FAILED
        if self.arrived_on is not None:
            return ARRIVED
        if working_days_between(self.agreement_completed_on, today) > ARRIVAL_MAX_WORKING_DAYS:
            return LATE
        return PROCESSING

    # ------------------------------------------------------------- transitions
    def complete_agreement(self, on: dt.date) -> None:
        if self.agreement_completed_on is not None:
            raise RuleViolation("agreement_already_completed", "The loan agreement is already completed.")
        self.agreement_completed_on = on

    def mark_sent(self, on: dt.date) -> None:
        if self.agreement_completed_on is None:
            raise RuleViolation("agreement_not_completed", "No money moves before the loan agreement is completed.")
        if self.sent_on is not None:
            raise RuleViolation("already_sent", "The money is already marked as sent.")
        if self.arrived_on is not None:
            raise RuleViolation("already_arrived", "The money already reached the supplier.")
        if on < self.agreement_completed_on:
            raise RuleViolation("sent_before_agreement", "The money cannot be sent before the loan agreement was completed.")
        self.sent_on = on

    def mark_arrived(self, on: dt.date) -> None:
        if self.agreement_completed_on is None:
            raise RuleViolation("agreement_not_completed", "No money moves before the loan agreement is completed.")
        if on < self.agreement_completed_on:
            raise ValueError("arrival before the agreement was completed")
        self.arrived_on = on

    def mark_failed(self, on: dt.date) -> None:
        if self.agreement_completed_on is None:
            raise RuleViolation("agreement_not_completed", "No money moves before the loan agreement is completed.")
        self.failed_on = on
