"""Orders, Pay Later eligibility, credit line, application status, loan cost, disbursement."""
from __future__ import annotations

import pytest

from bot.actions.cost import ActionLoanCost
from bot.actions.credit import ActionApplicationStatus, ActionCreditLine
from bot.actions.disbursement import ActionDisbursementStatus
from bot.actions.orders import ActionCheckPayLater, ActionListOrders, ActionOrderStatus
from bot.actions.formatting import day, money

from .conftest import SECRET, customs, make_tracker, responses, run, texts, token

ALL_BUYER_ACTIONS = [ActionListOrders, ActionOrderStatus, ActionCheckPayLater, ActionCreditLine,
                     ActionApplicationStatus, ActionDisbursementStatus, ActionLoanCost]


@pytest.mark.parametrize("action", ALL_BUYER_ACTIONS)
@pytest.mark.parametrize(
    "auth", [None, token("buyer-001", secret="forged-secret-forged-secret-0000"), token(ttl=-3600), "garbage"],
    ids=["anonymous", "forged", "expired", "garbage"],
)
async def test_not_signed_in_is_asked_to_sign_in_and_backend_untouched(backend, action, auth):
    tracker = make_tracker("where is my order TA-100231", buyer=None, auth_token=auth,
                           slots={"order_id": "TA-100231", "buyer_id": "buyer-001"})
    dispatcher, events = await run(action(), tracker)
    assert responses(dispatcher) == ["utter_sign_in_required"]
    # at most the general fact behind the question, never the buyer's data
    assert texts(dispatcher).strip() == action.general_answer and events == []
    assert "TA-100231" not in texts(dispatcher) and "31,620" not in texts(dispatcher)
    assert backend.calls == []


async def test_missing_secret_means_nobody_is_signed_in(backend, monkeypatch):
    monkeypatch.delenv("PAYLATER_JWT_SECRET")
    dispatcher, _ = await run(ActionListOrders(), make_tracker("show my orders"))
    assert responses(dispatcher) == ["utter_sign_in_required"] and backend.calls == []


async def test_lists_orders_with_total_owed(backend):
    dispatcher, _ = await run(ActionListOrders(), make_tracker("what do I still owe", intent="list_orders"))
    text = texts(dispatcher)
    for oid in ["TA-100231", "TA-100245", "TA-100198", "TA-100212", "TA-100260", "PO-55012"]:
        assert oid in text
    assert "EUR 3,150.00" in text and "$17,360.00" in text
    assert backend.calls == [("list_orders", ("buyer-001",))]


@pytest.mark.parametrize("typed", ["where is my order TA-100231", "where is ta100231", "status of TA 100231"])
async def test_one_order_with_paid_and_due(backend, typed):
    dispatcher, events = await run(ActionOrderStatus(), make_tracker(typed))
    text = texts(dispatcher)
    assert "$7,440.00" in text and "$17,360.00" in text and "T/T" in text
    assert {"event": "slot", "timestamp": None, "name": "order_id", "value": "TA-100231"} in events


async def test_order_id_from_entity_wins_over_slot(backend):
    tracker = make_tracker("that one", entities=[{"entity": "order_id", "value": "ta100245"}],
                           slots={"order_id": "TA-100231"})
    dispatcher, _ = await run(ActionOrderStatus(), tracker)
    assert "TA-100245" in texts(dispatcher)


async def test_order_id_from_slot_when_message_has_none(backend):
    dispatcher, _ = await run(ActionOrderStatus(), make_tracker("and that order?", slots={"order_id": "TA-100231"}))
    assert "$17,360.00" in texts(dispatcher)


async def test_without_order_id_lists_and_asks_which(backend):
    dispatcher, _ = await run(ActionOrderStatus(), make_tracker("where is my order"))
    assert "TA-100231" in texts(dispatcher) and "Which order" in texts(dispatcher)


async def test_other_buyers_order_reads_exactly_like_an_unknown_one(backend):
    theirs, _ = await run(ActionOrderStatus(), make_tracker("where is my order TA-100231", buyer="buyer-002"))
    unknown, _ = await run(ActionOrderStatus(), make_tracker("where is my order TA-999999", buyer="buyer-002"))
    assert texts(theirs) == texts(unknown) == "I can't find that order in your account."
    disb, _ = await run(ActionDisbursementStatus(), make_tracker("money for TA-100231?", buyer="buyer-002"))
    assert texts(disb) == texts(unknown)


async def test_pay_later_yes_with_amount_and_available_credit(backend):
    dispatcher, _ = await run(ActionCheckPayLater(), make_tracker("can I pay TA-100231 with pay later"))
    text = texts(dispatcher)
    assert text.startswith("Yes") and "$17,360.00" in text and "$31,620.00" in text


@pytest.mark.parametrize(
    "order, words",
    [("TA-100260", ["EUR", "USD", "T/T"]), ("PO-55012", ["Trade Assurance", "T/T"])],
)
async def test_pay_later_no_says_why_and_what_instead(backend, order, words):
    dispatcher, _ = await run(ActionCheckPayLater(), make_tracker(f"can I pay {order} with pay later"))
    text = texts(dispatcher)
    assert text.startswith("No")
    for w in words:
        assert w in text


async def test_pay_later_no_line_suggests_applying(backend):
    dispatcher, _ = await run(ActionCheckPayLater(), make_tracker("pay TA-100301 with pay later?", buyer="buyer-002"))
    assert "approved Pay Later credit line" in texts(dispatcher) and "apply" in texts(dispatcher)


async def test_credit_line(backend):
    dispatcher, _ = await run(ActionCreditLine(), make_tracker("how much credit do I have left"))
    text = texts(dispatcher)
    assert "$50,000.00" in text and "$18,380.00" in text and "$31,620.00" in text


async def test_credit_line_none_offers_to_apply(backend):
    dispatcher, _ = await run(ActionCreditLine(), make_tracker("what's my credit limit", buyer="buyer-002"))
    assert "don't have a Pay Later credit line" in texts(dispatcher)


async def test_application_status_none_and_approved(backend):
    none, _ = await run(ActionApplicationStatus(), make_tracker("status of my application", buyer="buyer-002"))
    assert "haven't applied" in texts(none)
    approved, _ = await run(ActionApplicationStatus(), make_tracker("status of my application"))
    assert "Approved" in texts(approved) and "https://" not in texts(approved)


async def test_application_waiting_for_linking_gives_the_secure_link(backend):
    from .fakes import ApplicationView, D

    backend.applications["buyer-002"] = ApplicationView(
        "APP-9", "waiting_for_account_linking", "Waiting for you to link your accounts.", "Kabbage",
        D("80000"), D("80000"), "https://paylater.example.com/apply/APP-9")
    dispatcher, _ = await run(ActionApplicationStatus(), make_tracker("status of my application", buyer="buyer-002"))
    assert "https://paylater.example.com/apply/APP-9" in texts(dispatcher)
    assert "business checking" in texts(dispatcher)


@pytest.mark.parametrize("typed", ["how much would it cost to borrow 20,000 with pay later", "cost of 20k?",
                                   "what does twenty thousand cost"])
async def test_loan_cost_schedule(backend, typed):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker(typed))
    text = texts(dispatcher)
    assert "$20,000.00" in text and "Month 1" in text and "Month 6" in text
    assert "first-month credit" in text and "total to repay" in text
    assert backend.calls[0][0] == "quote_draw" and str(backend.calls[0][1][1]) == "20000.00"


async def test_loan_cost_from_amount_entity(backend):
    tracker = make_tracker("what would that cost", entities=[{"entity": "amount", "value": "5.5k"}])
    dispatcher, _ = await run(ActionLoanCost(), tracker)
    assert "$5,500.00" in texts(dispatcher)


async def test_loan_cost_without_amount_asks(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("how much does pay later cost"))
    assert "How much would you like to borrow" in texts(dispatcher) and backend.calls == []


async def test_loan_cost_refused_says_why(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("cost of borrowing 200k"))
    assert texts(dispatcher) == "Pay Later draws can be at most $150,000.00."


async def test_disbursement_processing_gives_working_day_dates(backend):
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("when will the supplier get the money for TA-100245"))
    text = texts(dispatcher)
    assert "Wednesday, November 20" in text and "Friday, November 22" in text and "working days" in text
    assert customs(dispatcher) == []


async def test_disbursement_arrived_gives_the_date(backend):
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("has the money for TA-100198 arrived"))
    assert "arrived at the supplier on Friday, November 8" in texts(dispatcher)


async def test_late_disbursement_apologises_and_hands_off(backend):
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("when does the supplier get paid for TA-100212"))
    assert "sorry" in texts(dispatcher).lower() and "person" in texts(dispatcher)
    (handoff,) = [c["handoff"] for c in customs(dispatcher)]
    assert handoff["reason"] == "late_disbursement"
    assert handoff["summary"]["buyer_id"] == "buyer-001"
    assert handoff["summary"]["orders_mentioned"] == ["TA-100212"]


async def test_disbursement_without_pay_later(backend):
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("money for TA-100231?"))
    assert "no Pay Later payment" in texts(dispatcher)


@pytest.mark.parametrize("action", ALL_BUYER_ACTIONS)
@pytest.mark.parametrize("failure", ["down", "hang"])
async def test_backend_down_or_slow_apologises_and_hands_off(backend, action, failure, caplog):
    backend.fail = failure
    tracker = make_tracker("TA-100231 20k", slots={"order_id": "TA-100231"})
    dispatcher, events = await run(action(), tracker)
    assert "sorry" in texts(dispatcher).lower()
    (handoff,) = [c["handoff"] for c in customs(dispatcher)]
    assert handoff == {"reason": "backend_down", "reason_text": "Payments backend unavailable", "summary": None}
    assert "backend unavailable" in caplog.text


def test_money_and_day_formats():
    from decimal import Decimal
    import datetime as dt

    assert money(Decimal("31620")) == "$31,620.00"
    assert money(Decimal("3150.5"), "EUR") == "EUR 3,150.50"
    assert money(Decimal("0.005")) == "$0.01"
    assert day(dt.date(2026, 11, 27)) == "Friday, November 27"


@pytest.mark.parametrize("action, fact", [
    (ActionDisbursementStatus, "1-3 working days after the loan agreement is completed"),
    (ActionCheckPayLater, "Trade Assurance order in USD"),
])
async def test_without_an_order_id_the_general_fact_comes_before_which_order(backend, action, fact):
    dispatcher, events = await run(action(), make_tracker("when do funds reach the supplier?"))
    text = texts(dispatcher)
    assert text.startswith(action.general_answer) and fact in text
    assert "TA-100231" in text  # then the buyer's orders to pick from
    assert events == []
