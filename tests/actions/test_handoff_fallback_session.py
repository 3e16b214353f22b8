"""Handoff payload and reasons, fallback escalation, session start and per-turn client."""
from __future__ import annotations

import pytest

from bot.actions.fallback import ActionFallback
from bot.actions.handoff import ActionHandoff, note_handoff_reason
from bot.actions.payloads import REASON_TEXTS
from bot.actions.session import ActionSessionStart, ActionValidateSlotMappings

from .conftest import customs, make_tracker, run, texts, token, user_event


def handoff_of(dispatcher):
    (custom,) = customs(dispatcher)
    assert set(custom) == {"handoff"}
    return custom["handoff"]


async def test_requested_handoff_payload_shape(backend):
    events = [user_event("where is TA-100212", "order_status", [{"entity": "order_id", "value": "ta100212"}]),
              user_event("and TA 100245?", "order_status")]
    tracker = make_tracker("I want to talk to a person", intent="human_handoff", events=events)
    dispatcher, result = await run(ActionHandoff(), tracker)
    h = handoff_of(dispatcher)
    assert set(h) == {"reason", "reason_text", "summary", "announce"}
    assert h["reason"] == "requested" and h["reason_text"] == "Buyer asked for a person"
    assert h["announce"] == dispatcher.messages[0]["text"]  # the gateway says it once, in its queue notice
    s = h["summary"]
    assert set(s) == {"buyer_id", "business_name", "country", "orders_mentioned", "application", "credit_line"}
    assert s["buyer_id"] == "buyer-001" and s["business_name"] == "Acme Outdoor Supply LLC" and s["country"] == "US"
    assert s["orders_mentioned"] == ["TA-100212", "TA-100245"]
    assert s["credit_line"]["available"] == "31620.00" and s["application"]["state"] == "approved"
    text = texts(dispatcher)
    assert "person" in text and "reply here" in text
    assert dispatcher.messages[-1]["custom"] == {"handoff": h}  # the buyer's text comes first
    assert result == [slot_event("handoff_offered", False), slot_event("handoff_reason", None)]


async def test_anonymous_handoff_has_null_summary_and_no_backend_call(backend):
    dispatcher, _ = await run(ActionHandoff(), make_tracker("human please", intent="human_handoff", buyer=None))
    assert handoff_of(dispatcher)["summary"] is None and backend.calls == []


@pytest.mark.parametrize("failure", ["down", "hang"])
async def test_handoff_with_backend_down_still_hands_off_without_summary(backend, failure):
    backend.fail = failure
    dispatcher, _ = await run(ActionHandoff(), make_tracker("agent", intent="human_handoff"))
    h = handoff_of(dispatcher)
    assert h["reason"] == "requested" and h["summary"] is None


def slot_event(name, value):
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def bot_event(text, utter_action=None):
    return {"event": "bot", "timestamp": None, "text": text, "data": {},
            "metadata": {"utter_action": utter_action} if utter_action else {}}


LATE_REPORTED = [user_event("has my supplier been paid for TA-100212?", "disbursement_status"),
                 bot_event("The Pay Later payment for TA-100212 is late."),
                 slot_event("handoff_reason", "late_disbursement")]
PAID_REPORTED = [user_event("has my supplier been paid for TA-100231?", "disbursement_status"),
                 bot_event("The lender paid the supplier for TA-100231 on Tue, Nov 24.")]
BACKEND_DOWN = [user_event("show my orders", "list_orders"),
                bot_event("Sorry, I can't reach our payment systems right now.", "utter_backend_down")]
TWO_MISSES = [user_event("blorp", "nlu_fallback"), bot_event("Sorry, I can't help with that here."),
              user_event("zzz", "out_of_scope"), bot_event("Would you like a person?"),
              slot_event("handoff_offered", True)]
ONE_MISS = [user_event("blorp", "nlu_fallback"), bot_event("Sorry, I can't help with that here.")]


@pytest.mark.parametrize(
    "intent, events, reason",
    [
        pytest.param("report_problem", [], "dispute", id="dispute"),
        pytest.param("report_problem", LATE_REPORTED, "dispute", id="dispute-after-late-payout"),
        pytest.param("human_handoff", [], "requested", id="asked-for-a-person"),
        pytest.param("affirm", [], "requested", id="yes-out-of-the-blue"),
        # the bot just reported a late payout (and noted it): that is why a person is needed
        pytest.param("human_handoff", LATE_REPORTED, "late_disbursement", id="person-after-late-payout"),
        pytest.param("affirm", LATE_REPORTED, "late_disbursement", id="yes-after-late-payout"),
        # a disbursement question whose answer was fine is not a late disbursement
        pytest.param("human_handoff", PAID_REPORTED, "requested", id="person-after-paid-payout"),
        pytest.param("disbursement_status", [], "requested", id="disbursement-intent-alone"),
        # a late payout reported earlier, then other talk: the buyer's own request
        pytest.param("human_handoff", [*LATE_REPORTED, user_event("show my orders", "list_orders"),
                                       bot_event("You have 3 orders.")], "requested", id="late-payout-long-ago"),
        pytest.param("affirm", BACKEND_DOWN, "backend_down", id="yes-after-backend-down-offer"),
        pytest.param("human_handoff", [user_event("orders", "list_orders"), slot_event("handoff_reason", "backend_down")],
                     "backend_down", id="person-after-backend-down-noted"),
        pytest.param("affirm", TWO_MISSES, "misunderstood", id="yes-after-two-misses"),
        pytest.param("human_handoff", TWO_MISSES, "misunderstood", id="button-after-two-misses"),
        pytest.param("human_handoff", ONE_MISS, "misunderstood", id="button-after-a-miss"),
        pytest.param("nlu_fallback", [user_event("blorp", "nlu_fallback")], "misunderstood", id="fallback-now"),
        # the offer was made long ago and the buyer moved on: the request is their own
        pytest.param("human_handoff", [*TWO_MISSES, user_event("show my orders", "list_orders"),
                                       bot_event("You have 3 orders.")], "requested", id="misses-long-ago"),
        # a reason carried into a new session is not what just happened
        pytest.param("human_handoff", [user_event("hi", "greet"), {"event": "session_started", "timestamp": None},
                                       slot_event("handoff_reason", "late_disbursement")], "requested",
                     id="carried-into-new-session"),
    ],
)
async def test_handoff_reason_from_what_happened(backend, intent, events, reason):
    dispatcher, result = await run(ActionHandoff(), make_tracker("...", intent=intent, events=events))
    h = handoff_of(dispatcher)
    assert h["reason"] == reason
    assert h["reason_text"] == REASON_TEXTS[reason]
    assert slot_events(result) == {"handoff_offered": False, "handoff_reason": None}  # nothing stale left


def test_only_real_problems_can_be_noted():
    assert note_handoff_reason("late_disbursement") == slot_event("handoff_reason", "late_disbursement")
    with pytest.raises(ValueError):
        note_handoff_reason("requested")


async def test_first_fallback_is_honest_and_offers_a_person():
    dispatcher, events = await run(ActionFallback(), make_tracker("weather in Chicago?", intent="out_of_scope", buyer=None))
    text = texts(dispatcher)
    assert "can't help with that" in text and "orders" in text and "150,000" not in text and "Kabbage" not in text
    assert dispatcher.messages[0]["buttons"] == [{"title": "Talk to a person", "payload": "/human_handoff"}]
    assert events == []


async def test_second_fallback_in_a_row_offers_a_person_and_remembers():
    history = [user_event("hi", "greet"), user_event("blorp", "nlu_fallback")]
    dispatcher, events = await run(ActionFallback(), make_tracker("zzz", intent="out_of_scope", events=history))
    assert "person" in texts(dispatcher)
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_offered", "value": True}]


async def test_fallbacks_not_in_a_row_start_over():
    history = [user_event("blorp", "nlu_fallback"), user_event("show my orders", "list_orders")]
    _, events = await run(ActionFallback(), make_tracker("zzz", intent="nlu_fallback", events=history))
    assert events == []


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.mark.parametrize("client, expected", [("app", "app"), ("web", "web"), ("tv", None), (None, None)])
async def test_session_start_copies_client_and_carries_slots(client, expected):
    slots = {"order_id": "TA-100231", "handoff_offered": None, "requested_slot": "annual_revenue",
             "annual_revenue": "80000.00", "session_started_metadata": {"client": client} if client else None}
    tracker = make_tracker("", slots=slots, buyer=None)
    tracker.latest_message = {}
    _, events = await run(ActionSessionStart(), tracker)
    assert events[0]["event"] == "session_started"
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
    expected_slots = {"order_id": "TA-100231", **({"client": expected} if expected else {})}
    assert slot_events(events) == expected_slots


async def test_session_start_falls_back_to_latest_metadata():
    _, events = await run(ActionSessionStart(), make_tracker("hi", metadata={"client": "app"}, buyer=None))
    assert slot_events(events) == {"client": "app"}


@pytest.mark.parametrize("slot, meta, expected", [("web", "app", {"client": "app"}), ("app", "app", {}), ("web", "evil", {})])
async def test_client_follows_the_latest_metadata(slot, meta, expected):
    tracker = make_tracker("hi", slots={"client": slot}, metadata={"client": meta}, buyer=None)
    _, events = await run(ActionValidateSlotMappings(), tracker)
    assert slot_events(events) == expected


async def test_order_id_slot_is_normalised():
    tracker = make_tracker("ta100231", slots={"client": "web"}, buyer=None)
    tracker.events.append({"event": "slot", "timestamp": None, "name": "order_id", "value": "ta100231"})
    _, events = await run(ActionValidateSlotMappings(), tracker)
    assert slot_events(events) == {"order_id": "TA-100231"}


# ---- issue 10: clarify when unsure, what the buyer says beats the metadata, FAQ follow-up
def unsure_parse(text):
    return {
        "text": text,
        "intent": {"name": "nlu_fallback", "confidence": 0.45},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.45},
                           {"name": "faq", "confidence": 0.45}, {"name": "credit_line", "confidence": 0.40},
                           {"name": "apply_pay_later", "confidence": 0.1}],
        "response_selector": {"faq": {"ranking": [
            {"intent_response_key": "faq/first_month_credit", "confidence": 0.95},
            {"intent_response_key": "faq/credit_limit", "confidence": 0.05}]}},
        "entities": [], "metadata": {"client": "web"},
    }


async def test_unsure_reading_asks_with_buttons_in_the_buyers_terms():
    tracker = make_tracker("how does the credit work", intent="nlu_fallback", buyer=None)
    tracker.latest_message = unsure_parse("how does the credit work")
    dispatcher, events = await run(ActionFallback(), tracker)
    (msg,) = dispatcher.messages
    titles = [b["title"] for b in msg["buttons"]]
    assert titles[:2] == ["The first-month loan fee credit", "Your credit line"]
    assert titles[-1] == "Talk to a person"
    payloads = [b["payload"] for b in msg["buttons"]]
    assert payloads[0] == "What is the first month loan fee credit?" and payloads[1] == "/credit_line"
    assert "can't help" not in msg["text"] and events == []


async def test_off_topic_never_gets_clarify_buttons():
    tracker = make_tracker("who won the super bowl", intent="out_of_scope", buyer=None)
    tracker.latest_message = {**unsure_parse("who won the super bowl"), "intent": {"name": "out_of_scope", "confidence": 0.9},
                              "intent_ranking": [{"name": "out_of_scope", "confidence": 0.9}, {"name": "faq", "confidence": 0.05}]}
    dispatcher, _ = await run(ActionFallback(), tracker)
    assert "can't help with that" in texts(dispatcher)


def sure_faq_unsure_topic_parse(text):
    """The widget's case (shipped model, 1 Dec): faq 1.00, but no topic passed the guard."""
    return {
        "text": text,
        "intent": {"name": "nlu_fallback", "confidence": 1.0},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "faq", "confidence": 1.0},
                           {"name": "check_pay_later", "confidence": 0.0}],
        "response_selector": {"faq": {"ranking": [
            {"intent_response_key": "faq/term", "confidence": 0.155},
            {"intent_response_key": "faq/repayment", "confidence": 0.079},
            {"intent_response_key": "faq/loan_fees", "confidence": 0.069}]}},
        "entities": [], "metadata": {"client": "app"},
    }


async def test_a_sure_pay_later_question_with_an_unsure_topic_asks_instead_of_refusing():
    text = "can I pay in the app with pay later for a 3 month loan?"
    tracker = make_tracker(text, intent="nlu_fallback", buyer=None)
    tracker.latest_message = sure_faq_unsure_topic_parse(text)
    dispatcher, events = await run(ActionFallback(), tracker)
    (msg,) = dispatcher.messages
    assert "Pay Later question" in msg["text"] and "can't help" not in msg["text"]
    titles = [b["title"] for b in msg["buttons"]]
    assert titles == ["How long you can finance", "How to pay with Pay Later", "How repayment works",
                      "Talk to a person"]
    assert msg["buttons"][0]["payload"] == "How long can I finance an order with Pay Later?"
    assert events == []


async def test_the_second_miss_in_a_row_still_asks_but_remembers_the_offer_of_a_person():
    text = "can I pay in the app with pay later for a 3 month loan?"
    tracker = make_tracker(text, intent="nlu_fallback", events=[user_event("blorp", "nlu_fallback")])
    tracker.latest_message = sure_faq_unsure_topic_parse(text)
    dispatcher, events = await run(ActionFallback(), tracker)
    assert dispatcher.messages[0]["buttons"][-1]["title"] == "Talk to a person"
    assert events == [slot_event("handoff_offered", True)]


@pytest.mark.parametrize("text, meta, slot, expected", [
    ("how do I pay in the app", "web", "web", {"client": "app"}),
    ("and on the website instead?", "app", "app", {"client": "web"}),
    ("I'm on my laptop, where do I click to pay later", "app", "app", {"client": "web"}),
    ("in the app or on the website, how do I pay", "web", "web", {"client": None}),
    ("how do I apply", "web", "app", {"client": "web"}),  # no mention: the metadata is back
    ("can I apply for pay later", "app", "app", {}),  # "apply" is not "app"
])
async def test_what_the_buyer_says_beats_the_metadata(text, meta, slot, expected):
    tracker = make_tracker(text, slots={"client": slot}, metadata={"client": meta}, buyer=None)
    _, events = await run(ActionValidateSlotMappings(), tracker)
    assert slot_events(events) == expected
