"""Money: `Decimal` rounded to the cent, never float. Pay Later works in USD only.

This module is the ONE rounding rule (`money()`: half-up to the cent) and the ONE formatter
(`format_money()`) of the whole project: domain sentences, adapters, API serialisation and the
bot's actions all go through them, so the SQL and HTTP adapters cannot disagree by a cent.

Why not babel: we need exactly two shapes, "$31,620.00" (USD) and "EUR 3,150.00" (any other
currency, its ISO code first so a buyer never mistakes it for dollars). Babel's en_US pattern
prints "€3,150.00" and would add locale data (and a dependency Rasa's pins do not need) for
what one f-string does deterministically. When the bot is translated, swap this function for
babel.numbers.format_currency with a per-language pattern; every caller already goes through it.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
USD = "USD"
# Pay Later charges no processing fee (seed note 1).
PROCESSING_FEE = ZERO


def money(value) -> Decimal:
    """A cent-rounded Decimal (ROUND_HALF_UP: 100.005 -> 100.01) from a Decimal, int or str
    (floats are refused)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
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


def format_money(amount, currency: str = USD) -> str:
    """The one formatter: "$31,620.00" for USD, "EUR 3,150.00" for any other currency; the
    amount is rounded with `money()` first; a negative amount gets a leading minus
    ("-$50.00", "-EUR 3.00")."""
    m = money(amount)
    sign = "-" if m < 0 else ""
    digits = f"{abs(m):,.2f}"
    cur = (currency or USD).upper()
    return f"{sign}${digits}" if cur == USD else f"{sign}{cur} {digits}"


def fmt_usd(amount) -> str:
    """$31,620.00 (== format_money(amount, "USD"))."""
    return format_money(amount, USD)
