"""Refunds on Pay Later orders (PRODUCT.md rule 9) through action_refund, against the real
backend: the general rule to anyone first, then the order's loan and fees from refund_status."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.actions.refunds import ActionRefund
from bot.actions.wording import Wording

from .conftest import NOW, domain, make_tracker, run, texts

W = Wording(domain())
GENERAL = W("utter_general_refund")


def test_the_general_rule_is_rule_9():
    assert "goes back against the loan" in GENERAL and "48 hours" in GENERAL and "reversed" in GENERAL


@pytest.mark.parametrize("buyer", [None, "buyer-001"])
async def test_general_question_gets_the_rule_first_then_the_personal_part(backend, buyer):
    dispatcher, events = await run(ActionRefund(), make_tracker("what happens to the loan if my supplier refunds me",
                                                               intent="ask_refund", buyer=buyer,
                                                               slots={"order_id": "TA-100198"}))
    text = texts(dispatcher)
    assert text.startswith(GENERAL)
    follow = W("utter_offer_sign_in") if buyer is None else W("utter_refund_which")
    assert text.endswith(follow), text
    assert "TA-100198" not in text.replace(follow, "")  # a general question stays general
    assert events == [] and (buyer is not None or backend.calls == [])


async def test_order_whose_48_hours_are_over(backend):
    dispatcher, events = await run(ActionRefund(), make_tracker(
        "if TA-100198 gets refunded, what happens to my loan and the fees?", intent="ask_refund"))
    text = texts(dispatcher)
    assert text.startswith(GENERAL)
    assert "On TA-100198 you borrowed $6,000.00 with Pay Later; $6,000.00 of it is still owed." in text
    assert "Loan fees billed so far:" in text
    assert "ended on" in text and "fees already billed stay" in text
    assert {"event": "slot", "timestamp": None, "name": "order_id", "value": "TA-100198"} in events


async def test_order_within_48_hours_says_until_when_fees_are_reversed(backend):
    await backend.real.take_draw("buyer-001", "TA-100231", 6, NOW.date())  # the balance, drawn NOW
    dispatcher, _ = await run(ActionRefund(), make_tracker("refund on TA-100231, does it reduce my loan?"))
    text = texts(dispatcher)
    assert "you borrowed $17,360.00" in text
    assert "If it's refunded before Friday, March 14 at 15:00 UTC, the loan fees billed by then are reversed" in text


async def test_booked_refund_within_48_hours_reports_the_reversal(backend):
    """A draw the day before a statement (month 1's fee is billed), refunded within 48 hours."""
    drawn = dt.datetime(2025, 2, 21, 10, 0)
    backend.real.now = lambda: drawn
    await backend.real.take_draw("buyer-001", "TA-100231", 6, drawn.date())
    await backend.real.book_refund("buyer-001", "TA-100231", Decimal("17360.00"), drawn + dt.timedelta(hours=47))
    dispatcher, _ = await run(ActionRefund(), make_tracker("TA-100231 was refunded, what about the fees?"))
    text = texts(dispatcher)
    assert "$0.00 of it is still owed" in text
    assert "A refund of $17,360.00 was booked on Sunday, February 23" in text
    assert "$297.20 of billed loan fees were reversed" in text, text


async def test_booked_refund_after_48_hours_keeps_the_fees(backend):
    drawn = dt.datetime(2025, 2, 21, 10, 0)
    backend.real.now = lambda: drawn
    await backend.real.take_draw("buyer-001", "TA-100231", 6, drawn.date())
    await backend.real.book_refund("buyer-001", "TA-100231", Decimal("17360.00"), drawn + dt.timedelta(hours=49))
    dispatcher, _ = await run(ActionRefund(), make_tracker("TA-100231 was refunded, what about the fees?"))
    text = texts(dispatcher)
    assert "No loan fees were reversed" in text and "reversed because" not in text, text


async def test_order_not_paid_with_pay_later(backend):
    dispatcher, _ = await run(ActionRefund(), make_tracker("if TA-100231 is refunded what happens to the loan"))
    assert texts(dispatcher) == f"{GENERAL}\n{W('utter_refund_not_pay_later', order_id='TA-100231')}"


async def test_other_buyers_order_reads_like_an_unknown_one_after_the_rule(backend):
    dispatcher, _ = await run(ActionRefund(), make_tracker("refund on TA-100198?", buyer="buyer-002"))
    assert texts(dispatcher) == f"{GENERAL}\n{W('utter_order_not_found')}"


async def test_order_id_given_after_which_order(backend):
    dispatcher, _ = await run(ActionRefund(), make_tracker("TA-100198", intent="inform"))
    assert "On TA-100198 you borrowed" in texts(dispatcher)
