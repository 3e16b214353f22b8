"""Conversations through the real model, the real action server and the backend on demo data
(PRODUCT.md "Demo data"), over Rasa's REST channel with the metadata the gateway sends."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.auth import mint_buyer_token

pytestmark = pytest.mark.stack


def handoffs(customs):
    return [c["handoff"] for c in customs if "handoff" in c]


# ---------------------------------------------------------------- FAQ, by client
@pytest.mark.parametrize(
    "question, facts",
    [
        ("what is pay later?", ["kabbage"]),
        ("is there a processing fee for pay later", ["free"]),
        ("which currency can I use with pay later", ["usd"]),
        ("what's the maximum credit I can get", ["150,000"]),
        ("how long can I finance an order for", ["six months"]),
        ("when does the supplier receive the money", ["1", "3 working days"]),
        ("who is the lender behind pay later", ["kabbage"]),
    ],
)
def test_faq_topics_answered_with_the_article_facts(chat, question, facts):
    answer = chat(client="web").say(question)
    for fact in facts:
        assert fact in answer, answer


def test_how_to_pay_steps_follow_the_client(chat):
    web = chat(client="web").say("how do I pay for my order with pay later?")
    app = chat(client="app").say("how do I pay for my order with pay later?")
    assert "all orders" in web and "my alibaba" not in web, web
    assert "my alibaba" in app and "complete application" in app, app


# ---------------------------------------------------------------- issue 10
def test_what_the_buyer_says_beats_the_widget(chat):
    in_app = chat(client="web").say("how do I pay with pay later in the app?")
    assert "my alibaba" in in_app and "all orders" not in in_app, in_app


def test_two_questions_get_both_answers(chat):
    answer = chat(client="web").say("is there a processing fee, and how long can I finance an order for?")
    assert "free" in answer and "six months" in answer, answer


def test_faq_answer_asks_for_feedback(chat):
    answer = chat(client="web").say("who is the lender behind pay later")
    assert "kabbage" in answer and "did this answer your question" in answer, answer


def test_near_domain_question_gets_the_honest_not_here(chat):
    answer = chat().say("how do I open a business bank account?")
    assert "kabbage" not in answer and "150,000" not in answer, answer
    assert "can't" in answer or "cannot" in answer, answer


def test_out_of_scope_is_not_answered_with_pay_later_facts(chat):
    answer = chat().say("what's the weather like in Chicago tomorrow?")
    assert "150,000" not in answer and "kabbage" not in answer, answer
    assert "can't" in answer or "cannot" in answer, answer


# ---------------------------------------------------------------- identity
def test_anonymous_visitor_is_asked_to_sign_in_for_orders(chat):
    answer = chat().say("show my orders")
    assert "sign in" in answer, answer
    assert "ta-100231" not in answer


def test_forged_token_reveals_nothing(chat):
    forged = mint_buyer_token("buyer-001", "not-the-real-secret-but-long-enough-000000")
    answer = chat(token=forged).say("show my orders")
    assert "sign in" in answer and "ta-100231" not in answer, answer


def test_other_buyers_order_looks_like_an_unknown_one(chat):
    theirs = chat("buyer-002").say("where is my order TA-100231")
    unknown = chat("buyer-002").say("where is my order TA-999999")
    assert "can't find that order" in theirs, theirs
    assert theirs == unknown
    assert "17,360" not in theirs


# ---------------------------------------------------------------- orders and Pay Later
def test_lists_the_buyers_orders(chat):
    answer = chat("buyer-001").say("show my orders")
    for order in ["ta-100231", "ta-100245", "ta-100198", "ta-100212", "ta-100260", "po-55012"]:
        assert order in answer, answer


def test_one_order_with_paid_and_due(chat):
    answer = chat("buyer-001").say("where is my order TA-100231")
    assert "7,440.00" in answer and "17,360.00" in answer, answer


@pytest.mark.parametrize(
    "order, words",
    [("TA-100260", ["eur", "usd"]), ("PO-55012", ["trade assurance"])],
)
def test_pay_later_refusals_say_exactly_why(chat, order, words):
    answer = chat("buyer-001").say(f"can I pay {order} with pay later")
    for w in words:
        assert w in answer, answer


def test_pay_later_yes_with_amount_and_available_credit(chat):
    answer = chat("buyer-001").say("can I pay TA-100231 with pay later")
    assert "17,360.00" in answer and "31,620.00" in answer, answer


def test_credit_line(chat):
    answer = chat("buyer-001").say("how much credit do I have left?")
    assert "31,620.00" in answer and "50,000.00" in answer, answer


# ---------------------------------------------------------------- disbursement
def test_disbursement_processing_gives_dates(chat):
    """The dates themselves, counted in working days from the agreement (1 working day ago in
    the demo data): a fallback that merely mentions "working day" does not pass."""
    from bot.actions.formatting import day
    from bot.domain.calendar import add_working_days, working_days_before

    answer = chat("buyer-001").say("when will the supplier get the money for TA-100245")
    completed = working_days_before(dt.date.today(), 1)
    assert "ta-100245" in answer and "on its way" in answer, answer
    assert f"completed on {day(completed)}".lower() in answer, answer
    window = f"between {day(add_working_days(completed, 1))} and {day(add_working_days(completed, 3))}"
    assert window.lower() in answer, answer


def test_late_disbursement_apologises_and_hands_off(chat):
    c = chat("buyer-001")
    customs = c.custom("when will the supplier get the money for TA-100212")
    assert [h["reason"] for h in handoffs(customs)] == ["late_disbursement"], customs


def test_arrived_disbursement_gives_the_date(chat):
    answer = chat("buyer-001").say("has the money for TA-100198 reached the supplier?")
    assert "arrived" in answer, answer


# ---------------------------------------------------------------- cost and handoff
def test_loan_cost_schedule(chat):
    messages = chat("buyer-001").send("how much would it cost to borrow 20,000 with pay later")
    (table,) = [m["custom"] for m in messages if (m.get("custom") or {}).get("type") == "table"]
    assert "$20,000.00" in table["title"] and len(table["rows"]) == 6, table
    assert "Month 6" in table["text"]


def test_asking_for_a_person_hands_off(chat):
    customs = chat("buyer-001").custom("I want to talk to a person")
    h = handoffs(customs)
    assert h and h[0]["reason"] == "requested", customs
    assert h[0]["summary"]["buyer_id"] == "buyer-001"


# ---------------------------------------------------------------- application form
def test_application_form_end_to_end_and_idempotent(chat):
    c = chat("buyer-002")
    assert "business" in c.say("I want to apply for pay later")
    c.say("Blue Harbor Imports Inc")
    refused = c.say("my ssn is 123-45-6789")
    assert "123-45-6789" not in refused and ("never" in refused or "don't" in refused or "do not" in refused), refused
    c.say("yes, we are in New Jersey")
    c.say("6 years")
    c.say("about 2.5 million a year")
    summary = c.say("100k")
    assert "100,000" in summary, summary
    done = c.say("yes")
    assert "https://" in done, done
    again = chat("buyer-002").say("I want to apply for pay later")
    assert "https://" in again or "already" in again, again
