"""Orders, Pay Later eligibility, credit line, application status, loan cost, disbursement —
against the real backend on the demo data (TODAY = Wednesday 2025-03-12)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot.actions.cost import ActionLoanCost
from bot.actions.credit import ActionApplicationStatus, ActionCreditLine
from bot.actions.disbursement import ActionDisbursementStatus
from bot.actions.formatting import day, money
from bot.actions.orders import ActionCheckPayLater, ActionListOrders, ActionOrderStatus
from bot.actions.refunds import ActionRefund
from bot.actions.wording import Wording
from bot.domain.calendar import add_working_days, working_days_before

from .conftest import SECRET, TODAY, customs, domain, handoffs, make_tracker, responses, run, tables, texts, token

ALL_BUYER_ACTIONS = [ActionListOrders, ActionOrderStatus, ActionCheckPayLater, ActionCreditLine,
                     ActionApplicationStatus, ActionDisbursementStatus, ActionLoanCost, ActionRefund]
W = Wording(domain())


@pytest.mark.parametrize("action", ALL_BUYER_ACTIONS)
@pytest.mark.parametrize(
    "auth", [None, token("buyer-001", secret="forged-secret-forged-secret-0000"), token(ttl=-3600), "garbage"],
    ids=["anonymous", "forged", "expired", "garbage"],
)
async def test_not_signed_in_gets_the_general_answer_then_the_offer_to_sign_in(backend, action, auth):
    tracker = make_tracker("where is my order TA-100231", buyer=None, auth_token=auth,
                           slots={"order_id": "TA-100231", "buyer_id": "buyer-001"})
    dispatcher, events = await run(action(), tracker)
    text = texts(dispatcher)
    # answer first (the article's general answer), then ask: never only "please sign in"
    assert text.startswith(W(action.general_answer)) and text.endswith(W(action.sign_in_offer)), text
    assert "TA-100231" not in text and "31,620" not in text and events == []
    assert backend.calls == []


async def test_missing_secret_means_nobody_is_signed_in(backend, monkeypatch):
    monkeypatch.delenv("PAYLATER_JWT_SECRET")
    dispatcher, _ = await run(ActionListOrders(), make_tracker("show my orders"))
    assert "Sign in" in texts(dispatcher) and "TA-100231" not in texts(dispatcher) and backend.calls == []


async def test_lists_orders_with_total_owed_per_currency(backend):
    dispatcher, _ = await run(ActionListOrders(), make_tracker("what do I still owe", intent="list_orders"))
    text = texts(dispatcher)
    for oid in ["TA-100231", "TA-100245", "TA-100198", "TA-100212", "TA-100260", "PO-55012"]:
        assert oid in text
    assert "EUR 3,150.00" in text and "$17,360.00" in text
    assert "$3,150.00" not in text  # the EUR order is never printed in dollars
    assert "EUR 3,150.00 + $18,260.00" in text  # owed per currency, never added across currencies
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
    assert "TA-100231" in texts(dispatcher) and texts(dispatcher).endswith(W("utter_order_which"))


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
    [("TA-100260", ["EUR", "USD", "T/T"]), ("PO-55012", ["Trade Assurance"])],
)
async def test_pay_later_no_says_why_and_what_instead(backend, order, words):
    dispatcher, _ = await run(ActionCheckPayLater(), make_tracker(f"can I pay {order} with pay later"))
    text = texts(dispatcher)
    assert text.startswith("No")
    for w in words:
        assert w in text


async def test_eur_order_is_never_compared_with_the_usd_line(backend):
    dispatcher, _ = await run(ActionCheckPayLater(), make_tracker("can I pay TA-100260 with pay later"))
    text = texts(dispatcher)
    assert "available credit" not in text and "$" not in text, text


async def test_pay_later_no_line_suggests_applying(backend):
    dispatcher, _ = await run(ActionCheckPayLater(), make_tracker("pay TA-100301 with pay later?", buyer="buyer-002"))
    assert "apply" in texts(dispatcher).lower()


async def test_credit_line(backend):
    dispatcher, _ = await run(ActionCreditLine(), make_tracker("how much credit do I have left"))
    text = texts(dispatcher)
    assert "$50,000.00" in text and "$18,380.00" in text and "$31,620.00" in text


async def test_credit_line_none_offers_to_apply(backend):
    dispatcher, _ = await run(ActionCreditLine(), make_tracker("what's my credit limit", buyer="buyer-002"))
    assert "don't have a Pay Later credit line" in texts(dispatcher) and "apply for Pay Later" in texts(dispatcher)


async def test_credit_line_for_a_business_that_cannot_apply_says_why_not_apply(backend):
    dispatcher, _ = await run(ActionCreditLine(), make_tracker("what's my credit limit", buyer="buyer-003"))
    text = texts(dispatcher)
    assert "US" in text and "instead" in text and 'say "apply' not in text, text


async def test_application_status_none_and_approved(backend):
    none, _ = await run(ActionApplicationStatus(), make_tracker("status of my application", buyer="buyer-002"))
    assert "apply for Pay Later" in texts(none)
    approved, _ = await run(ActionApplicationStatus(), make_tracker("status of my application"))
    assert "approved" in texts(approved).lower() and "https://" not in texts(approved)


async def test_application_waiting_for_linking_gives_the_secure_link(backend):
    dispatcher, _ = await run(ActionApplicationStatus(), make_tracker("status of my application", buyer="buyer-004"))
    assert "https://" in texts(dispatcher) and "business checking" in texts(dispatcher)


# ---------------------------------------------------------------- loan cost
@pytest.mark.parametrize("typed", ["how much would it cost to borrow 20,000 with pay later", "cost of 20k?",
                                   "what does twenty thousand cost"])
async def test_loan_cost_without_a_term_quotes_six_months_and_says_how_to_ask_shorter(backend, typed):
    dispatcher, events = await run(ActionLoanCost(), make_tracker(typed))
    (table,) = tables(dispatcher)
    assert len(dispatcher.messages) == 1  # one message: the table with its text inside
    assert table["title"].startswith("Borrowing $20,000.00 over 6 months")
    assert [r[0] for r in table["rows"]] == ["1", "2", "3", "4", "5", "6"]
    assert table["columns"] == ["Month", "Statement", "Due", "Principal", "Fee", "Credit", "You pay"]
    assert "over 3 months" in table["after"][-1]
    text = table["text"]
    assert "Month 1" in text and "Month 6" in text and "first-month credit" in text and "total to repay" in text
    assert backend.calls[0] == ("quote_draw", ("buyer-001", Decimal("20000.00"), 6))
    assert {"event": "slot", "timestamp": None, "name": "amount", "value": "20000.00"} in events


@pytest.mark.parametrize("typed, months", [
    ("what would it cost to borrow $20,000 over 3 months", 3),
    ("a draw of 9,000 dollars for two months", 2),
    ("what does a 4 month loan of 10k cost", 4),
    ("borrow 5000 for 90 days", 3),
    ("15k over half a year", 6),
])
async def test_loan_cost_quotes_the_term_the_buyer_names(backend, typed, months):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker(typed))
    (table,) = tables(dispatcher)
    assert len(table["rows"]) == months, table["title"]
    assert f"over {months} month" in table["title"]
    assert backend.calls[0][1][2] == months


async def test_loan_cost_principal_adds_up_and_fees_follow_the_tier(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("borrow $9,000 for two months"))
    (table,) = tables(dispatcher)
    principal = sum(Decimal(r[3].lstrip("$").replace(",", "")) for r in table["rows"])
    assert principal == Decimal("9000.00")
    assert table["rows"][0][5].startswith("\u2212$")  # the first-month credit in month 1 only
    assert table["rows"][1][5] == "—"


@pytest.mark.parametrize("typed", ["what would 20k cost over 12 months", "20k for a year"])
async def test_loan_cost_above_six_months_says_the_maximum_and_quotes_six(backend, typed):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker(typed))
    (table,) = tables(dispatcher)
    assert "longest Pay Later term is six months" in table["before"][0]
    assert len(table["rows"]) == 6 and table["text"].startswith(table["before"][0])


async def test_loan_cost_above_available_credit_says_so_first(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("what would it cost to borrow $40,000 over 3 months"))
    (table,) = tables(dispatcher)
    assert table["before"][0].startswith("$40,000.00 is more than your available credit of $31,620.00")
    text = table["text"]
    assert text.index("available credit") < text.index("Month 1")
    assert text.count("31,620.00") == 1  # said once, first


async def test_loan_cost_follow_up_with_only_a_term_reuses_the_amount(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("and over 3 months?", slots={"amount": "20000.00"}))
    (table,) = tables(dispatcher)
    assert table["title"].startswith("Borrowing $20,000.00 over 3 months")


async def test_loan_cost_from_amount_entity(backend):
    tracker = make_tracker("what would that cost", entities=[{"entity": "amount", "value": "5.5k"}])
    dispatcher, _ = await run(ActionLoanCost(), tracker)
    assert "$5,500.00" in texts(dispatcher)


async def test_loan_cost_reads_a_spelled_out_amount_whole_even_when_the_entity_is_in_pieces(backend):
    tracker = make_tracker("how much would I pay to finance twenty five thousand",
                           entities=[{"entity": "amount", "value": "twenty"}, {"entity": "amount", "value": "thousand"}])
    dispatcher, _ = await run(ActionLoanCost(), tracker)
    (table,) = tables(dispatcher)
    assert table["title"].startswith("Borrowing $25,000.00")


async def test_loan_cost_without_amount_explains_the_cost_then_asks(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("how much does pay later cost"))
    assert texts(dispatcher) == f"{W('utter_general_loan_cost')}\n{W('utter_loan_cost_ask_amount')}"
    assert backend.calls == []


async def test_loan_cost_refused_says_why(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("cost of borrowing 200k"))
    assert "150,000" in texts(dispatcher) and not tables(dispatcher)


# ---------------------------------------------------------------- disbursement
async def test_disbursement_processing_gives_working_day_dates(backend):
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("when will the supplier get the money for TA-100245"))
    text = texts(dispatcher)
    completed = working_days_before(TODAY, 1)
    assert f"completed on {day(completed)}" in text
    assert f"between {day(add_working_days(completed, 1))} and {day(add_working_days(completed, 3))}" in text
    assert customs(dispatcher) == []


async def test_disbursement_arrived_gives_the_date(backend):
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("has the money for TA-100198 arrived"))
    completed = working_days_before(TODAY, 10)
    assert f"arrived at the supplier on {day(add_working_days(completed, 2))}" in texts(dispatcher)


async def test_late_disbursement_apologises_and_hands_off(backend):
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("when does the supplier get paid for TA-100212"))
    assert "sorry" in texts(dispatcher).lower() and "person" in texts(dispatcher)
    (handoff,) = handoffs(dispatcher)
    assert handoff["reason"] == "late_disbursement"
    assert handoff["summary"]["buyer_id"] == "buyer-001"
    assert handoff["summary"]["orders_mentioned"] == ["TA-100212"]


async def test_disbursement_without_pay_later(backend):
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("money for TA-100231?"))
    assert "no Pay Later payment" in texts(dispatcher)


async def test_no_money_moves_before_a_loan_agreement(backend):
    """buyer-004's application waits for account linking: the answer is "no", then the status."""
    dispatcher, _ = await run(ActionDisbursementStatus(), make_tracker("has any money been sent to my supplier?",
                                                                      buyer="buyer-004"))
    text = texts(dispatcher)
    assert text.startswith("No, no money has been sent to your supplier: money moves only after the loan agreement")
    assert "APP-DEMO-004" in text and "https://" in text
    assert handoffs(dispatcher) == []


@pytest.mark.parametrize("action", ALL_BUYER_ACTIONS)
@pytest.mark.parametrize("failure", ["down", "hang"])
async def test_backend_down_or_slow_apologises_and_hands_off(backend, action, failure, caplog, slow_timeout):
    backend.fail = failure
    tracker = make_tracker("TA-100231 20k", slots={"order_id": "TA-100231"})
    dispatcher, events = await run(action(), tracker)
    assert "sorry" in texts(dispatcher).lower()
    (handoff,) = handoffs(dispatcher)
    announce = handoff.pop("announce")
    assert handoff == {"reason": "backend_down", "reason_text": "Payments backend unavailable", "summary": None}
    assert announce in texts(dispatcher) and "sorry" in announce.lower()  # the apology is what the gateway says once
    assert "backend unavailable" in caplog.text


def test_money_and_day_formats():
    assert money(Decimal("31620")) == "$31,620.00"
    assert money(Decimal("3150.5"), "EUR") == "EUR 3,150.50"
    assert money(Decimal("0.005")) == "$0.01"
    assert money(Decimal("100.005")) == "$100.01"
    assert day(dt.date(2026, 11, 27)) == "Friday, November 27"


@pytest.mark.parametrize("action, fact", [
    (ActionDisbursementStatus, "1–3 working days after the loan agreement is completed"),
    (ActionCheckPayLater, "Trade Assurance order in USD"),
])
async def test_without_an_order_id_the_general_fact_comes_before_which_order(backend, action, fact):
    dispatcher, events = await run(action(), make_tracker("when do funds reach the supplier?"))
    text = texts(dispatcher)
    assert text.startswith(W(action.general_answer)) and fact in text
    assert "TA-100231" in text  # then the buyer's orders to pick from
    assert events == []


async def test_late_payment_reads_late_in_the_list_and_in_the_order(backend):
    listing, _ = await run(ActionListOrders(), make_tracker("show my orders", intent="list_orders"))
    (line,) = [l for l in texts(listing).splitlines() if "TA-100212" in l]
    assert "LATE" in line and "on its way" not in line, line
    (ok,) = [l for l in texts(listing).splitlines() if "TA-100245" in l]
    assert "LATE" not in ok  # processing within its 3 working days is not late
    one, _ = await run(ActionOrderStatus(), make_tracker("TA-100212"))
    assert "late: it has not reached the supplier" in texts(one) and "on its way" not in texts(one), texts(one)


async def test_pay_later_no_line_for_a_business_that_cannot_apply_says_why_not_apply(backend):
    dispatcher, _ = await run(ActionCheckPayLater(), make_tracker("can I pay TA-100288 with pay later", buyer="buyer-003"))
    text = texts(dispatcher)
    assert text.startswith("No") and W("utter_application_instead") in text
    assert "You can apply" not in text and "US" in text, text


async def test_loan_cost_term_of_zero_months_is_explained_and_six_quoted(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("what would 20k cost over 0 months"))
    (table,) = tables(dispatcher)
    assert table["before"] == [W("utter_loan_cost_term_too_short")] and len(table["rows"]) == 6


async def test_loan_cost_over_six_months_named_needs_no_hint(backend):
    dispatcher, _ = await run(ActionLoanCost(), make_tracker("what would 20k cost over 6 months"))
    (table,) = tables(dispatcher)
    assert table["before"] == [] and len(table["rows"]) == 6
    assert not any("over 3 months" in a for a in table["after"])
