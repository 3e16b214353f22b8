import datetime as dt
from decimal import Decimal

from bot.domain.credit import CreditLine
from bot.domain.orders import Order, Payment
from bot.domain.paylater import check_order


def line(limit="50000.00", used="18380.00"):
    return CreditLine("L1", "b1", Decimal(limit), Decimal(used), "B", dt.date(2025, 1, 2))


def codes(check):
    return [r.code for r in check.reasons]


def test_eligible_initial_payment():
    o = Order("TA-1", "b1", True, "USD", Decimal("24800"), Decimal("7440"))
    c = check_order(o, line())
    assert c.eligible and c.stage == "initial" and c.amount == Decimal("7440.00")


def test_eur_and_not_trade_assurance_all_reasons():
    o = Order("PO-1", "b1", False, "EUR", Decimal("900"), Decimal("900"))
    assert codes(check_order(o, None)) == ["not_trade_assurance", "currency_not_usd", "no_credit_line"]


def test_eur_order_alone():
    o = Order("TA-100260", "b1", True, "EUR", Decimal("3150"), Decimal("945"))
    assert codes(check_order(o, line())) == ["currency_not_usd"]


def test_initial_not_arrived_blocks_balance():
    o = Order("TA-1", "b1", True, "USD", Decimal("1000"), Decimal("300"))
    o.payments.append(Payment("P", "TA-1", "initial", "tt", Decimal("300"), "USD", "processing"))
    c = check_order(o, line())
    assert c.stage == "balance" and codes(c) == ["initial_not_arrived"]


def test_already_paid():
    o = Order("TA-1", "b1", True, "USD", Decimal("1000"), Decimal("1000"))
    o.payments.append(Payment("P", "TA-1", "initial", "pay_later", Decimal("1000"), "USD", "processing"))
    assert codes(check_order(o, line())) == ["already_paid"]


def test_draw_exactly_available_is_eligible_one_cent_over_is_not():
    exact = Order("TA-1", "b1", True, "USD", Decimal("31620.00"), Decimal("31620.00"))
    assert check_order(exact, line()).eligible
    over = Order("TA-2", "b1", True, "USD", Decimal("31620.01"), Decimal("31620.01"))
    assert codes(check_order(over, line())) == ["insufficient_credit"]


def test_big_order_both_no_line():
    o = Order("TA-100301", "b2", True, "USD", Decimal("180000"), Decimal("54000"))
    assert codes(check_order(o, None)) == ["no_credit_line"]


def test_eur_amount_above_the_usd_line_is_never_compared_with_it():
    """EUR 40,000 against $31,620 available: refused for its currency only, never 'more than
    your available credit' (that would compare euros with dollars)."""
    o = Order("TA-9", "b1", True, "EUR", Decimal("40000"), Decimal("40000"))
    c = check_order(o, line())
    assert codes(c) == ["currency_not_usd"] and "$" not in c.reasons[0].message
