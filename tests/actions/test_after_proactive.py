"""After a proactive message the gateway has set the `order_id` slot in Rasa's tracker: the short
follow-ups "when exactly?" and "which order?" are answered about that order."""
from __future__ import annotations

from bot.actions.formatting import day
from bot.actions.disbursement import ActionDisbursementStatus
from bot.actions.orders import ActionOrderStatus
from bot.domain.calendar import add_working_days, working_days_before

from .conftest import TODAY, make_tracker, run, texts

AFTER_PROACTIVE = [{"event": "slot", "name": "order_id", "value": "TA-100245"},
                   {"event": "bot", "text": "The lender sent the $8,680.00 for TA-100245 to your supplier today."}]


async def test_when_exactly_gives_the_dates_of_that_order(backend):
    tracker = make_tracker("when exactly?", "disbursement_status", slots={"order_id": "TA-100245"}, events=AFTER_PROACTIVE)
    dispatcher, _ = await run(ActionDisbursementStatus(), tracker)
    text = texts(dispatcher)
    completed = working_days_before(TODAY, 1)
    assert "TA-100245" in text
    assert f"between {day(add_working_days(completed, 1))} and {day(add_working_days(completed, 3))}" in text


async def test_which_order_names_that_order(backend):
    tracker = make_tracker("which order was that?", "order_status", slots={"order_id": "TA-100245"}, events=AFTER_PROACTIVE)
    dispatcher, _ = await run(ActionOrderStatus(), tracker)
    assert "TA-100245" in texts(dispatcher) and "TA-100231" not in texts(dispatcher)


# ------------------------------------------------------------------ action_proactive_followup
# What the gateway appends with each proactive message (bot/gateway/events/service.py rasa_slots)
from bot.actions.proactive import ActionProactiveFollowup  # noqa: E402
from bot.actions.session import ActionSessionStart, ActionValidateSlotMappings  # noqa: E402
from bot.gateway.events.service import rasa_slots  # noqa: E402
from rasa_sdk.events import SlotSet  # noqa: E402

SENT = {"event_id": "EVT-1", "type": "disbursement_sent", "buyer_id": "buyer-001", "order_id": "TA-100245",
        "stage": "balance", "agreement_id": "AGR-TA-100245", "amount": "8680.00", "currency": "USD",
        "on": "2025-03-12", "expected_by": "2025-03-14", "occurred_at": "2025-03-12T10:00:00Z"}
LATE = {"buyer_id": "buyer-001", "order_id": "TA-100212", "stage": "initial", "agreement_id": "AGR-TA-100212",
        "amount": "3700.00", "currency": "USD", "agreement_completed_on": "2025-03-05", "expected_by": "2025-03-10",
        "working_days_since_agreement": 5}
APPROVED = {"event_id": "EVT-2", "type": "application_approved", "buyer_id": "buyer-004", "order_id": None,
            "limit": "40000.00", "currency": "USD", "risk_tier": "B", "occurred_at": "2025-03-12T09:00:00Z"}


def appended(kind, facts, text="(the proactive message)"):
    slots = rasa_slots(kind, facts)
    events = [{"event": "slot", "name": n, "value": v} for n, v in slots.items()]
    return slots, events + [{"event": "bot", "text": text}]


async def followup(text, intent, kind, facts, before=()):
    slots, events = appended(kind, facts)
    tracker = make_tracker(text, intent, slots=slots, events=list(events) + list(before))
    dispatcher, events = await run(ActionProactiveFollowup(), tracker)
    return texts(dispatcher), events


async def test_context_is_plain_facts_of_the_event():
    slots = rasa_slots("disbursement_sent", SENT)
    assert slots["proactive_event"] == "disbursement_sent"
    assert slots["proactive_context"] == {"type": "disbursement_sent", "order_id": "TA-100245", "stage": "balance",
                                          "amount": "8680.00", "currency": "USD", "on": "2025-03-12",
                                          "expected_by": "2025-03-14"}
    assert rasa_slots("application_approved", APPROVED)["proactive_context"]["on"] == "2025-03-12"


async def test_when_exactly_after_money_sent_gives_the_dates():
    text, events = await followup("when exactly?", "ask_when", "disbursement_sent", SENT)
    assert text == ("The lender sent the $8,680.00 for TA-100245 on Wednesday, March 12. It should reach your "
                    "supplier by Friday, March 14, at most 3 working days after the loan agreement was completed.")
    assert events == []


async def test_when_after_agreement_completed_counts_working_days():
    # completed Friday, March 14, 2025: 1-3 working days later is Monday 17 .. Wednesday 19
    agr = {**SENT, "type": "agreement_completed", "on": "2025-03-14", "expected_from": "2025-03-17",
           "expected_by": "2025-03-19"}
    text, _ = await followup("what time?", "ask_when", "agreement_completed", agr)
    assert "completed on Friday, March 14" in text
    assert "between Monday, March 17 and Wednesday, March 19" in text and "1-3 working days" in text


async def test_which_order_names_the_order_and_the_payment():
    text, _ = await followup("which order?", "ask_which", "disbursement_sent", SENT)
    assert text == "That was about your order TA-100245: the balance of $8,680.00, paid with Pay Later."


async def test_which_one_after_an_application_decision_is_not_an_order():
    text, _ = await followup("which one?", "ask_which", "application_approved", APPROVED)
    assert text == "That was about your Pay Later application, not about one order."
    text, _ = await followup("when exactly?", "ask_when", "application_approved", APPROVED)
    assert text == "The lender approved your Pay Later application on Wednesday, March 12, with a credit line of $40,000.00."


async def test_thanks_after_a_late_apology_says_a_person_is_on_it():
    text, _ = await followup("thanks", "thank", "late_payment", LATE)
    assert "colleague is looking into the payment for TA-100212" in text
    text, _ = await followup("when exactly?", "ask_when", "late_payment", LATE)
    assert "should have reached your supplier by Monday, March 10" in text
    assert "completed on Wednesday, March 5" in text


async def test_ok_great_after_money_arrived_is_welcomed_about_that_order():
    arrived = {**SENT, "type": "disbursement_arrived"}
    text, _ = await followup("ok great", "affirm", "disbursement_arrived", arrived)
    assert text == "Good! Anything else about TA-100245 or Pay Later?"
    text, _ = await followup("thanks", "thank", "disbursement_arrived", arrived)
    assert text == "You're welcome! Anything else about TA-100245 or Pay Later?"


def _user(text):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "faq"}, "entities": []}}


async def test_the_context_lasts_three_buyer_messages():
    slots, events = appended("disbursement_sent", SENT)
    validate = ActionValidateSlotMappings()
    for earlier in range(3):  # the current message is the 1st, 2nd, 3rd since the proactive one
        tracker = make_tracker("and?", "faq", slots=slots, events=events + [_user("x")] * earlier)
        _, out = await run(validate, tracker)
        assert not [e for e in out if e.get("name") == "proactive_event"], earlier
    tracker = make_tracker("thanks", "thank", slots=slots, events=events + [_user("x")] * 3)
    _, out = await run(validate, tracker)
    assert SlotSet("proactive_event", None) in out and SlotSet("proactive_context", None) in out


async def test_a_new_session_keeps_the_context_only_if_the_buyer_has_not_written_since():
    slots, events = appended("disbursement_arrived", {**SENT, "type": "disbursement_arrived"})
    old_user = [_user("hello")]
    from rasa_sdk import Tracker

    def tracker_of(history):
        return Tracker("c", {"order_id": "TA-100245", **slots}, {}, history, False, None, {}, "action_listen")

    _, out = await run(ActionSessionStart(), tracker_of(old_user + events))  # came while the buyer was away
    assert SlotSet("proactive_event", "disbursement_arrived") in out
    _, out = await run(ActionSessionStart(), tracker_of(old_user + events + [_user("thanks")]))
    assert not [e for e in out if e.get("name") in ("proactive_event", "proactive_context")]
    assert SlotSet("order_id", "TA-100245") in out
