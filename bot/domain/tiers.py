"""Risk tiers as data. The help page (faq 24157464) gives only the ranges: 1.25%-2.75% a month
in months 1-2 and 0.25%-0.75% a month in months 3-6; the tiers below are our assumption,
at the bottom, middle and top of both ranges."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Dict

EARLY_RANGE = (Decimal("0.0125"), Decimal("0.0275"))  # months 1-2, per month
LATE_RANGE = (Decimal("0.0025"), Decimal("0.0075"))  # months 3-6, per month


@dataclass(frozen=True)
class RiskTier:
    name: str
    early_rate: Decimal  # monthly fee rate, months 1-2
    late_rate: Decimal  # monthly fee rate, months 3-6

    def __post_init__(self):
        if not EARLY_RANGE[0] <= self.early_rate <= EARLY_RANGE[1]:
            raise ValueError(f"tier {self.name}: months 1-2 rate outside 1.25%-2.75%")
        if not LATE_RANGE[0] <= self.late_rate <= LATE_RANGE[1]:
            raise ValueError(f"tier {self.name}: months 3-6 rate outside 0.25%-0.75%")

    def rate_for_month(self, month: int) -> Decimal:
        return self.early_rate if month <= 2 else self.late_rate


TIERS: Dict[str, RiskTier] = {
    t.name: t
    for t in (
        RiskTier("A", Decimal("0.0125"), Decimal("0.0025")),
        RiskTier("B", Decimal("0.0200"), Decimal("0.0050")),
        RiskTier("C", Decimal("0.0275"), Decimal("0.0075")),
    )
}
# Quotes for buyers without a line show the most expensive tier (never understate a cost).
DEFAULT_QUOTE_TIER = "C"


def tier(name: str) -> RiskTier:
    try:
        return TIERS[name]
    except KeyError:
        raise ValueError(f"unknown risk tier {name!r}") from None
