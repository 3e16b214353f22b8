"""bot.parsing: what buyers type -> values, or None when unsure."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.parsing import (
    decimal_str,
    find_amount,
    find_amount_span,
    find_order_ids,
    normalize_order_id,
    parse_amount,
    parse_correction,
    parse_us_based,
    parse_years,
    parse_yes_no,
)

TODAY = dt.date(2024, 11, 20)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("TA-100231", "TA-100231"),
        ("ta100231", "TA-100231"),
        ("TA 100231", "TA-100231"),
        ("ta-100231", "TA-100231"),
        ("where is my order ta_100231?", "TA-100231"),
        ("po55012", "PO-55012"),
        ("PO-55012.", "PO-55012"),
        ("order (TA-100245)", "TA-100245"),
        ("TA-1002311", None),  # 7 digits
        ("TA-1234", None),
        ("DATA-100231", None),
        ("my order", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_order_id(text, expected):
    assert normalize_order_id(text) == expected


def test_find_order_ids_all_unique_in_order():
    assert find_order_ids("TA-100212 and ta100231 and TA 100212, PO55012") == ["TA-100212", "TA-100231", "PO-55012"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("20k", "20000"),
        ("20K", "20000"),
        ("$20,000", "20000"),
        ("20,000.00", "20000"),
        ("20000", "20000"),
        ("20 000", "20000"),
        ("twenty thousand", "20000"),
        ("Twenty-five thousand", "25000"),
        ("1.5 million", "1500000"),
        ("2M", "2000000"),
        ("2m", "2000000"),
        ("5.5k", "5500"),
        ("one hundred fifty thousand", "150000"),
        ("a hundred thousand", "100000"),
        ("half a million", "500000"),
        ("about 2.5 million a year", "2500000"),
        ("USD 80,000", "80000"),
        ("$ 1,234.567", "1234.57"),
        ("80k dollars", "80000"),
        ("actually 80k", "80000"),
        ("three hundred", "300"),
        ("1 thousand", "1000"),
        ("$100", "100"),
    ],
)
def test_parse_amount_accepts(text, expected):
    assert parse_amount(text) == Decimal(expected).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    "text",
    ["-5000", "-$5,000", "minus 20k", "negative 100", "0", "$0.00", "abc", "", None, "k", "m", "lots",
     "20 30", "10 billion", "99999999999", "1e9", "twenty apples", "20k or 30k maybe", "a", "x" * 300],
)
def test_parse_amount_rejects(text):
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("how much would it cost to borrow 20,000 with pay later", "20000"),
        ("what would 20k cost over 6 months", "20000"),
        ("cost of a twenty thousand dollar draw", "20000"),
        ("borrow $5,500.50", "5500.50"),
        ("loan cost for 1.5 million", "1500000"),
        ("what does pay later cost for TA-100231", None),
        ("how much does it cost", None),
        ("cost for 6 months", None),
    ],
)
def test_find_amount_in_sentences(text, expected):
    got = find_amount(text)
    assert got == (Decimal(expected).quantize(Decimal("0.01")) if expected else None)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yes", True), ("Yep", True), ("yeah!", True), ("sure", True), ("ok", True), ("y", True),
        ("correct", True), ("yes please", True), ("go ahead", True), ("submit it", True),
        ("no", False), ("Nope", False), ("nah", False), ("n", False), ("not really", False),
        ("no, wait", False), ("well, no", False),
        ("maybe", None), ("not sure", None), ("I don't know", None), ("", None), (None, None),
        ("blue", None),
    ],
)
def test_parse_yes_no(text, expected):
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yep", True),
        ("yes, we are in New Jersey", True),
        ("we're based in Texas", True),
        ("Austin, TX", True),
        ("US", True),
        ("usa", True),
        ("we are a Delaware LLC", True),
        ("in the United States", True),
        ("we are in Germany", False),
        ("no, we're in Canada", False),
        ("not in the US", False),
        ("we're outside the US", False),
        ("no", False),
        ("Hamburg GmbH", False),
        ("maybe", None),
        ("purple", None),
    ],
)
def test_parse_us_based(text, expected):
    assert parse_us_based(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3 years", "3"),
        ("3", "3"),
        ("3.5 yrs", "3.5"),
        ("three years", "3"),
        ("about three years", "3"),
        ("18 months", "1.5"),
        ("2 years and 6 months", "2.5"),
        ("since 2019", "5"),
        ("founded in 2015", "9"),
        ("2019", "5"),
        ("since March 2019", "5.7"),
        ("a year", "1"),
        ("half a year", "0.5"),
        ("less than a year", "0.5"),
        ("over 10 years", "10"),
        ("a decade", "10"),
        ("just started", "0"),
        ("we've been in business for 6 years", "6"),
    ],
)
def test_parse_years(text, expected):
    assert parse_years(text, today=TODAY) == Decimal(expected)


@pytest.mark.parametrize("text", ["since 2030", "-3 years", "many years", "purple", "", "500 years", "since December 2024"])
def test_parse_years_rejects(text):
    assert parse_years(text, today=TODAY) is None


def test_decimal_str_is_plain():
    assert decimal_str(Decimal("3")) == "3"
    assert decimal_str(Decimal("10")) == "10"
    assert decimal_str(Decimal("1.50")) == "1.5"
    assert decimal_str(Decimal("250000.00")) == "250000"


@pytest.mark.parametrize(
    "text, need_trigger, expected",
    [
        ("actually revenue is 80k", True, ("annual_revenue", "80k")),
        ("change the business name", True, ("business_name", "")),
        ("sorry, the limit should be 50k", True, ("requested_limit", "50k")),
        ("wait, I made a mistake on the years", True, ("years_in_business", "")),
        ("correction: we are US based", True, ("us_based", "")),
        ("the revenue", False, ("annual_revenue", "")),
        ("revenue is 80k", True, None),  # no trigger word
        ("Acme Outdoor Supply", True, None),
        ("", True, None),
    ],
)
def test_parse_correction(text, need_trigger, expected):
    assert parse_correction(text, need_trigger=need_trigger) == expected


@pytest.mark.parametrize("text", ["20k or 30k", "between 20,000 and 30,000 dollars", "borrow $5k to $10k"])
def test_find_amount_is_none_when_ambiguous(text):
    assert find_amount(text) is None


@pytest.mark.parametrize(
    "text, span, expected",
    [
        ("what would borrowing 20k cost?", "20k", "20000"),
        ("cost of USD 8,000 over 3 months", "USD 8,000", "8000"),
        ("I need twenty five thousand dollars for TA-100245", "twenty five thousand dollars", "25000"),
        ("what about a twenty thousand dollar loan", "twenty thousand dollar", "20000"),
        ("about a hundred thousand", "a hundred thousand", "100000"),
        ("$ 20,000 please", "$ 20,000", "20000"),
        ("how much for 9,000 dollars.", "9,000 dollars", "9000"),
        ("order TA-100245 for $12,000", "$12,000", "12000"),
        ("eight thousand five hundred over 3 months", "eight thousand five hundred", "8500"),
    ],
)
def test_find_amount_span_says_where_the_buyer_wrote_the_amount(text, span, expected):
    start, end, value = find_amount_span(text)
    assert text[start:end] == span
    assert value == Decimal(expected).quantize(Decimal("0.01")) == find_amount(text)


@pytest.mark.parametrize("text", ["20k or 30k", "how much does it cost", "cost for 6 months", "status of TA-100245"])
def test_find_amount_span_is_none_where_find_amount_is(text):
    assert find_amount_span(text) is None and find_amount(text) is None
