"""Pay Later credit: lender eligibility, applications and credit lines."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Optional, Tuple

from .errors import RuleViolation
from .money import ZERO, fmt_usd, money

LENDER = "Kabbage"
CREDIT_CAP = Decimal("150000.00")  # seed note 5
MIN_YEARS = Decimal("1")
MIN_REVENUE = Decimal("50000.00")

STARTED = "started"
WAITING_FOR_LINKING = "waiting_for_account_linking"
UNDER_REVIEW = "under_review"
APPROVED = "approved"
DECLINED = "declined"
APPLICATION_STATES = (STARTED, WAITING_FOR_LINKING, UNDER_REVIEW, APPROVED, DECLINED)
_TRANSITIONS = {
    STARTED: (WAITING_FOR_LINKING, DECLINED),
    WAITING_FOR_LINKING: (UNDER_REVIEW, DECLINED),
    UNDER_REVIEW: (APPROVED, DECLINED),
    APPROVED: (),
    DECLINED: (),
}


@dataclass(frozen=True)
class Finding:
    """A reason (code + sentence for the buyer)."""

    code: str
    message: str


def eligibility_findings(us_based: Optional[bool], years_in_business: Optional[Decimal],
                         annual_revenue: Optional[Decimal]) -> List[Finding]:
    """THE eligibility function (Kabbage's published terms, PRODUCT.md rule 4): a US business,
    >= 1 year in business, >= $50,000 annual revenue. Returns EVERY failing rule at once, in
    that order; an unknown value (None) fails nothing (it is asked for later)."""
    found = []
    if us_based is not None and not us_based:
        found.append(Finding("not_us_business", "Pay Later credit is only for businesses based in the US."))
    if years_in_business is not None and Decimal(years_in_business) < MIN_YEARS:
        found.append(Finding("too_young", "The business needs to have been operating for at least 1 year."))
    if annual_revenue is not None and Decimal(annual_revenue) < MIN_REVENUE:
        found.append(Finding("revenue_too_low",
                             f"The business needs at least {fmt_usd(MIN_REVENUE)} in annual revenue."))
    return found


def business_findings(country: Optional[str], years_in_business: Optional[Decimal] = None,
                      annual_revenue: Optional[Decimal] = None, *, said_us_based: Optional[bool] = None,
                      said_years: Optional[Decimal] = None, said_revenue: Optional[Decimal] = None) -> List[Finding]:
    """Eligibility from the business on file, overridden by what the buyer said where they said
    it. The country on file is authoritative: a business on file outside the US is not US-based
    whatever the form says (and a buyer who says "not in the US" is taken at their word)."""
    us_based: Optional[bool] = None if not country else country.upper() == "US"
    if said_us_based is not None:
        us_based = said_us_based if us_based is None else (us_based and said_us_based)
    return eligibility_findings(
        us_based, said_years if said_years is not None else years_in_business,
        said_revenue if said_revenue is not None else annual_revenue)


def cap_limit(requested: Decimal) -> Tuple[Decimal, Optional[Finding]]:
    """Requested limit above the lender's cap is reduced to the cap (with the reason)."""
    requested = money(requested)
    if requested <= ZERO:
        raise RuleViolation("invalid_limit", "The requested credit limit has to be more than $0.")
    if requested > CREDIT_CAP:
        return CREDIT_CAP, Finding(
            "limit_reduced_to_cap",
            f"You asked for {fmt_usd(requested)}; the most {LENDER} offers is {fmt_usd(CREDIT_CAP)}, "
            f"so we applied for {fmt_usd(CREDIT_CAP)}.",
        )
    return requested, None


@dataclass
class CreditApplication:
    application_id: str
    buyer_id: str
    business_name: str
    us_based: bool
    years_in_business: Decimal
    annual_revenue: Decimal
    requested_limit: Decimal
    state: str = STARTED
    offered_limit: Optional[Decimal] = None
    reasons: List[Finding] = field(default_factory=list)
    lender: str = LENDER
    updated_on: Optional[dt.date] = None

    @classmethod
    def start(cls, application_id: str, buyer_id: str, business_name: str, us_based: bool,
              years_in_business: Decimal, annual_revenue: Decimal, requested_limit: Decimal,
              today: dt.date, country_on_file: Optional[str] = None) -> "CreditApplication":
        """Checks every rule at once (`business_findings`): an ineligible business is declined
        with every reason; an eligible one waits for the buyer to link accounts. A requested
        limit above the cap is reduced to the cap and the reason recorded either way."""
        offered, capped = cap_limit(requested_limit)
        app = cls(application_id, buyer_id, business_name, bool(us_based), Decimal(years_in_business),
                  money(annual_revenue), money(requested_limit), updated_on=today)
        findings = business_findings(country_on_file, said_us_based=bool(us_based),
                                     said_years=Decimal(years_in_business), said_revenue=Decimal(annual_revenue))
        if findings:
            app.reasons = findings
            app.move_to(DECLINED, today)
        else:
            app.offered_limit = offered
            app.reasons = [capped] if capped else []
            app.move_to(WAITING_FOR_LINKING, today)
        return app

    def move_to(self, state: str, today: dt.date) -> None:
        if state not in _TRANSITIONS[self.state]:
            raise RuleViolation("invalid_transition", f"An application that is {self.state.replace('_', ' ')} cannot become {state.replace('_', ' ')}.")
        self.state = state
        self.updated_on = today
        if state == DECLINED:
            self.offered_limit = None


@dataclass
class CreditLine:
    line_id: str
    buyer_id: str
    limit: Decimal
    used: Decimal
    risk_tier: str
    qualified_on: dt.date  # first statement 10 days later, then monthly on that date
    lender: str = LENDER
    currency: str = "USD"

    def __post_init__(self):
        self.limit = money(self.limit)
        self.used = money(self.used)
        if self.limit > CREDIT_CAP:
            raise RuleViolation("limit_above_cap", f"A credit line can be at most {fmt_usd(CREDIT_CAP)}.")
        if self.used < ZERO:
            raise ValueError("used credit cannot be negative")

    @property
    def available(self) -> Decimal:
        return max(self.limit - self.used, ZERO)

    def check_draw(self, amount: Decimal) -> None:
        """A draw cannot exceed the available credit: used + draw <= limit, to the cent."""
        amount = money(amount)
        if amount <= ZERO:
            raise RuleViolation("invalid_amount", "The amount has to be more than $0.")
        if self.used + amount > self.limit:
            raise RuleViolation(
                "insufficient_credit",
                f"{fmt_usd(amount)} is more than your available Pay Later credit of {fmt_usd(self.available)}.",
            )

    def draw(self, amount: Decimal) -> None:
        self.check_draw(amount)
        self.used = self.used + money(amount)

    def restore(self, amount: Decimal) -> None:
        """Principal repaid or refunded against the loan frees credit."""
        self.used = max(self.used - money(amount), ZERO)
