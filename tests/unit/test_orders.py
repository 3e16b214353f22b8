import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.errors import RuleViolation
from bot.domain.orders import Order, Payment


def order(total="24800.00", initial="7440.00", currency="USD", ta=True):
    return Order("TA-1", "b1", ta, currency, Decimal(total), Decimal(initial))


def pay(stage, amount, state="arrived", method="tt"):
    return Payment(f"P-{stage}", "TA-1", stage, method, Decimal(amount), "USD", state)


def test_amounts_and_status():
    o = order()
    assert o.balance_amount == Decimal("17360.00")
    assert o.status == "awaiting_initial_payment" and o.next_stage() == "initial"
    o.add_payment(pay("initial", "7440.00"))
    assert o.status == "awaiting_balance" and o.due == Decimal("17360.00")
    o.add_payment(pay("balance", "17360.00", "processing", "pay_later"))
    assert o.status == "paid_in_full" and o.due == 0 and o.next_stage() is None


def test_balance_before_initial_is_refused():
    with pytest.raises(RuleViolation) as e:
        order().add_payment(pay("balance", "17360.00"))
    assert e.value.code == "initial_payment_first"


def test_balance_only_after_initial_arrived():
    o = order()
    o.add_payment(pay("initial", "7440.00", state="processing"))
    with pytest.raises(RuleViolation) as e:
        o.add_payment(pay("balance", "17360.00"))
    assert e.value.code == "initial_not_arrived"
    o.payments[0].state = "arrived"
    o.add_payment(pay("balance", "17360.00", method="card"))  # a different method is fine


def test_failed_payment_does_not_count():
    o = order()
    o.payments.append(pay("initial", "7440.00", state="failed"))
    assert o.paid == 0 and o.next_stage() == "initial"


def test_paid_in_full_order_has_no_balance():
    o = order(total="6000.00", initial="6000.00")
    o.add_payment(pay("initial", "6000.00"))
    assert o.next_stage() is None
    with pytest.raises(RuleViolation) as e:
        o.check_can_pay("balance", Decimal("0.01"), "USD")
    assert e.value.code in {"already_paid", "no_balance"}


def test_money_is_never_float():
    with pytest.raises(TypeError):
        Order("TA-1", "b1", True, "USD", 10.5, Decimal("1"))


def test_a_refunded_pay_later_payment_is_not_owed_again():
    o = order(total="3700.00", initial="3700.00")
    o.payments.append(pay("initial", "3700.00", state="refunded", method="pay_later"))
    assert o.refunded == Decimal("3700.00") and o.due == Decimal("0.00") and o.status == "refunded"
    assert o.next_stage() is None
    with pytest.raises(RuleViolation) as e:
        o.check_can_pay("initial", Decimal("3700.00"), "USD")
    assert e.value.code == "already_paid"
