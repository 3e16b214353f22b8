"""The loan term a buyer names (issue 9): "over 3 months", "for two months", "90 days"."""
from __future__ import annotations

from decimal import Decimal

import pytest

from bot.parsing import find_amount, find_term


@pytest.mark.parametrize(
    "text, months",
    [
        ("what would it cost to borrow $20,000 over 3 months", 3),
        ("a draw of 9,000 dollars for two months", 2),
        ("what does a 6 month loan of 10k cost", 6),
        ("borrow 5000 for 90 days", 3),
        ("borrow 5000 for 180 days", 6),
        ("borrow 5000 for 45 days", 2),
        ("15k over half a year", 6),
        ("20k for a year", 12),
        ("borrow 20k over 12 months", 12),
        ("20k over a six-month term", 6),
        ("borrow 20k for a month", 1),
        ("borrow 20000 in 8 weeks", 2),
        ("what's the cost of 10k, 3 months", 3),
        ("cost of 20k spread over four months", 4),
        ("20k in 4 monthly installments", 4),
        ("TA-100231 over 2 months", 2),
        ("borrow 20k for 0 months", 0),
        ("BORROW 20K OVER 3 MONTHS", 3),
        ("20k over 3 mos", 3),
    ],
)
def test_find_term(text, months):
    assert find_term(text) == months


@pytest.mark.parametrize(
    "text",
    [
        "cost of 20,000",
        "what's the fee per month on 20k",
        "how much per month for 20k",
        "we make 2 million a year",
        "",
        None,
        "TA-100231",
        "x" * 600,
    ],
)
def test_no_term_named(text):
    assert find_term(text) is None


@pytest.mark.parametrize(
    "text, amount",
    [
        ("what would it cost to borrow $20,000 over 3 months", Decimal("20000.00")),
        ("a draw of 9,000 dollars for two months", Decimal("9000.00")),
        ("a 6 month loan of 10k", Decimal("10000.00")),
        ("borrow 5000 for 90 days", Decimal("5000.00")),
        ("20k in 4 monthly installments", Decimal("20000.00")),
        ("borrow 20k over 3 mos", Decimal("20000.00")),
    ],
)
def test_the_term_is_never_read_as_the_amount(text, amount):
    assert find_amount(text) == amount


@pytest.mark.parametrize("text, amount", [("$100.005", Decimal("100.01")), ("100.004", Decimal("100.00")),
                                          ("$2.675", Decimal("2.68"))])
def test_amounts_round_half_up_to_the_cent_like_the_backend(text, amount):
    from bot.parsing import parse_amount

    assert parse_amount(text) == amount
