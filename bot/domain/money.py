"""Money: `Decimal` rounded to the cent, never float. Pay Later works in USD only."""
from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
USD = "USD"
# Pay Later charges no processing fee (seed note 1).
PROCESSING_FEE = ZERO


def money(value) -> Decimal:
    """A cent-rounded Decimal from a Decimal, int or str (floats are refused)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    try:
        return d.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # too many digits for the context
        raise ValueError(f"amount out of range: {value!r}") from exc


def cents_down(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


def fmt_usd(amount: Decimal) -> str:
    """$31,620.00"""
    return f"${money(amount):,.2f}"


def format_money(amount, currency: str = USD) -> str:
    """The one formatter: "$31,620.00" for USD, "EUR 3,150.00" for any other currency."""
    m = money(amount)
    sign = "-" if m < 0 else ""
    cur = (currency or USD).upper()
    return f"{sign}${abs(m):,.2f}" if cur == USD else f"{sign}{cur} {abs(m):,.2f}"
