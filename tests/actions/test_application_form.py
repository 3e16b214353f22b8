"""The Pay Later application form: the applicant check before any question, each slot,
sensitive data, corrections, confirm, submit — against the real backend on the demo data."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, Optional

import pytest

from bot.actions.application_form import (
    FORM, ActionAskApplicationConfirmed, ActionSubmitApplication, ValidatePayLaterApplicationForm,
)

from bot.actions.wording import Wording
from bot.ports import ApplicationRequest

from .conftest import customs, domain, make_tracker, run, texts, token

DOMAIN = domain()
W = Wording(DOMAIN)
FILLED = {"business_name": "Blue Harbor Imports Inc", "us_based": True, "years_in_business": "6",
          "annual_revenue": "2500000.00", "requested_limit": "100000.00"}


def turn(text: str, requested: Optional[str], filled: Optional[Dict[str, Any]] = None, intent="inform",
         buyer="buyer-002", auth_token=None, candidate=True):
    """A form turn as Rasa sends it: slots so far, then the from_text candidate for `requested`."""
    slots = {**(filled or {}), "requested_slot": requested}
    tracker = make_tracker(text, intent=intent, buyer=buyer, auth_token=auth_token, slots=slots, active_loop=FORM)
    if requested and candidate:
        tracker.events.append({"event": "slot", "timestamp": None, "name": requested, "value": text})
        tracker.slots[requested] = text
    return tracker


def slot_sets(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def validate(text, requested, filled=None, **kw):
    return await run(ValidatePayLaterApplicationForm(), turn(text, requested, filled, **kw), DOMAIN)


# ------------------------------------------------------------------ guard at activation / every turn
@pytest.mark.parametrize("auth", [None, token("buyer-002", ttl=-3600)], ids=["anonymous", "expired"])
async def test_not_signed_in_gets_how_to_apply_then_the_offer_to_sign_in(backend, auth):
    dispatcher, events = await validate("I want to apply for pay later", None, buyer=None, auth_token=auth)
    text = texts(dispatcher)
    assert text.startswith(W("utter_general_application")) and text.endswith(W("utter_offer_sign_in_to_apply"))
    assert "$150,000" in text and "US business" in text
    assert slot_sets(events)["requested_slot"] is None and backend.calls == []


async def test_token_expiring_mid_form_ends_it(backend):
    dispatcher, events = await validate("Blue Harbor", "business_name", buyer=None, auth_token=token(ttl=-100))
    assert "Sign in" in texts(dispatcher) and slot_sets(events)["business_name"] is None


async def test_activation_with_existing_line_says_so_instead(backend):
    dispatcher, events = await validate("I want to apply for pay later", None, buyer="buyer-001")
    assert "already have an approved credit line" in texts(dispatcher) and "$31,620.00" in texts(dispatcher)
    assert slot_sets(events)["requested_slot"] is None


async def test_activation_with_open_application_gives_its_state_and_link(backend):
    dispatcher, events = await validate("apply for pay later", None, buyer="buyer-004")
    text = texts(dispatcher)
    assert "already applied" in text and "https://paylater.example.com/apply/APP-DEMO-004" in text
    assert slot_sets(events)["requested_slot"] is None


async def test_business_on_file_that_fails_a_rule_hears_every_reason_before_any_question(backend):
    """buyer-003 is a German business: told at once, with what to do instead, and no form."""
    dispatcher, events = await validate("I want to apply for pay later", None, buyer="buyer-003")
    text = texts(dispatcher)
    assert text.startswith(W("utter_applicant_cannot", lender="Kabbage"))
    assert "US" in text and W("utter_application_instead") in text
    assert "registered name" not in text and slot_sets(events)["requested_slot"] is None
    assert [c[0] for c in backend.calls] == ["applicant_check"]


async def test_declined_buyer_is_told_why_and_what_instead_not_invited_again(backend):
    await backend.real.start_application("buyer-002", ApplicationRequest(
        "Blue Harbor Imports Inc", False, Decimal("0.5"), Decimal("20000"), Decimal("50000")))
    dispatcher, events = await validate("apply for pay later", None)
    text = texts(dispatcher)
    assert text.startswith(W("utter_applicant_declined"))
    assert text.count("\n•") >= 3, text  # every reason: not US, under 1 year, under $50,000
    assert W("utter_application_instead") in text and "already applied" not in text
    assert slot_sets(events)["requested_slot"] is None


@pytest.mark.parametrize("message, stored, cap_said", [
    ("I want a Pay Later line of 200,000 dollars", "200000.00", True),
    ("I'd like a credit line of $50,000", "50000.00", False),
])
async def test_apply_with_a_limit_outside_the_form_prefills_it(backend, message, stored, cap_said):
    tracker = turn(message, None, intent="apply_pay_later")
    dispatcher, events = await run(ValidatePayLaterApplicationForm(), tracker, DOMAIN)
    assert slot_sets(events) == {"requested_limit": stored}  # as said: the backend caps it on submit
    text = texts(dispatcher)
    assert text.startswith(f"I've noted a requested credit limit of ${int(float(stored)):,}.00.")
    assert ("go up to $150,000" in text) is cap_said


async def test_activation_without_application_starts_the_form(backend):
    dispatcher, events = await validate("apply for pay later", None)
    assert dispatcher.messages == [] and events == []


async def test_activation_with_backend_down_apologises_and_hands_off(backend):
    backend.fail = "down"
    dispatcher, events = await validate("apply for pay later", None)
    assert [c["handoff"]["reason"] for c in customs(dispatcher)] == ["backend_down"]
    assert slot_sets(events)["requested_slot"] is None


# ------------------------------------------------------------------ each slot
@pytest.mark.parametrize(
    "slot, answer, stored",
    [
        ("business_name", "Blue Harbor Imports Inc", "Blue Harbor Imports Inc"),
        ("business_name", "  it's Blue   Harbor Imports Inc. ", "Blue Harbor Imports Inc"),
        ("us_based", "yes, we are in New Jersey", True),
        ("us_based", "we're based in Texas", True),
        ("us_based", "yep", True),
        ("years_in_business", "6 years", "6"),
        ("years_in_business", "18 months", "1.5"),
        ("annual_revenue", "about 2.5 million a year", "2500000.00"),
        ("annual_revenue", "$80,000", "80000.00"),
        ("requested_limit", "100k", "100000.00"),
        ("requested_limit", "fifty thousand", "50000.00"),
        ("application_confirmed", "yes", True),
        ("application_confirmed", "yep, submit it", True),
    ],
)
async def test_valid_answers_are_stored_normalised(backend, slot, answer, stored):
    dispatcher, events = await validate(answer, slot)
    assert slot_sets(events) == {slot: stored}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "slot, answer, reask",
    [
        ("business_name", "?", "legal name"),
        ("business_name", "yes", "legal name"),
        ("us_based", "purple", "based in the US"),
        ("years_in_business", "a while", "How long"),
        ("years_in_business", "since 2090", "How long"),
        ("annual_revenue", "lots", "annual revenue"),
        ("annual_revenue", "-50000", "annual revenue"),
        ("requested_limit", "as much as possible", "How much credit"),
    ],
)
async def test_invalid_answers_are_reasked_clearly(backend, slot, answer, reask):
    dispatcher, events = await validate(answer, slot)
    assert slot_sets(events) == {slot: None}
    assert reask in texts(dispatcher)


@pytest.mark.parametrize(
    "slot, answer, stored",
    [
        ("us_based", "we are in Germany", False),
        ("years_in_business", "6 months", "0.5"),
        ("annual_revenue", "30k", "30000.00"),
        ("requested_limit", "200k", "200000.00"),
    ],
)
async def test_answers_that_fail_a_rule_are_kept_for_the_backend_to_judge(backend, slot, answer, stored):
    """The form collects; start_application says every reason at once (and caps the limit)."""
    dispatcher, events = await validate(answer, slot)
    assert slot_sets(events) == {slot: stored} and dispatcher.messages == []


@pytest.mark.parametrize(
    "slot, answer",
    [
        ("us_based", "my ssn is 123-45-6789"),
        ("business_name", "4111 1111 1111 1111"),
        ("annual_revenue", "routing number 021000021 account 123456789"),
        ("years_in_business", "my password is hunter2"),
        ("business_name", "my ssn is [SSN removed]"),  # already redacted by the gateway
    ],
)
async def test_sensitive_data_is_refused_and_not_stored(backend, slot, answer):
    dispatcher, events = await validate(answer, slot)
    assert slot_sets(events) == {slot: None}
    text = texts(dispatcher)
    assert "never share" in text and "secure page" in text
    assert "6789" not in text and "1111" not in text and "hunter2" not in text


# ------------------------------------------------------------------ stop and corrections
@pytest.mark.parametrize("text, intent", [("stop", "stop"), ("never mind", "inform"), ("cancel the application", "deny")])
async def test_stop_ends_the_form_and_keeps_nothing(backend, text, intent):
    dispatcher, events = await validate(text, "annual_revenue", FILLED, intent=intent, candidate=intent != "stop")
    sets = slot_sets(events)
    assert sets["requested_slot"] is None and all(sets[s] is None for s in FILLED)
    assert "stopped" in texts(dispatcher)


async def test_correction_of_an_earlier_answer_mid_form(backend):
    filled = {k: FILLED[k] for k in ["business_name", "us_based", "years_in_business", "annual_revenue"]}
    dispatcher, events = await validate("actually revenue is 80k", "requested_limit", filled)
    assert slot_sets(events) == {"annual_revenue": "80000.00", "requested_limit": None}
    assert "updated the annual revenue" in texts(dispatcher)


async def test_correction_without_value_resets_that_slot(backend):
    dispatcher, events = await validate("change the business name", "years_in_business", {"business_name": "X Co", "us_based": True})
    assert slot_sets(events) == {"business_name": None, "years_in_business": None}
    assert "change the business name" in texts(dispatcher)


async def test_correction_to_a_failing_value_is_kept(backend):
    dispatcher, events = await validate("actually revenue is 20k", "requested_limit", FILLED)
    assert slot_sets(events) == {"annual_revenue": "20000.00", "requested_limit": None}


async def test_correction_of_the_slot_being_asked_uses_the_new_value(backend):
    dispatcher, events = await validate("sorry, the revenue is 90k", "annual_revenue", FILLED)
    assert slot_sets(events) == {"annual_revenue": "90000.00"}


async def test_unrelated_question_mid_form_is_left_to_other_rules(backend):
    dispatcher, events = await validate("talk to a person", "annual_revenue", intent="human_handoff", candidate=False)
    assert events == [] and dispatcher.messages == []


# ------------------------------------------------------------------ confirmation
async def test_confirmation_shows_a_summary():
    tracker = turn("100k", "application_confirmed", {**FILLED}, candidate=False)
    dispatcher, _ = await run(ActionAskApplicationConfirmed(), tracker, DOMAIN)
    text = texts(dispatcher)
    for part in ["Blue Harbor Imports Inc", "Based in the US: yes", "Years in business: 6", "$2,500,000.00", "$100,000.00", "submit"]:
        assert part in text
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["yes", "no"]


async def test_confirmation_no_asks_what_to_change(backend):
    dispatcher, events = await validate("no", "application_confirmed", FILLED)
    assert slot_sets(events) == {"application_confirmed": None}
    ask, _ = await run(ActionAskApplicationConfirmed(), turn("no", "application_confirmed", FILLED, candidate=False), DOMAIN)
    assert "What would you like to change" in texts(ask)
    change = ask.messages[0]["buttons"][3]["payload"]
    dispatcher, events = await validate(change, "application_confirmed", FILLED)
    assert slot_sets(events) == {"annual_revenue": None, "application_confirmed": None}


async def test_confirmation_answer_naming_a_field_resets_it(backend):
    dispatcher, events = await validate("the revenue", "application_confirmed", FILLED)
    assert slot_sets(events) == {"annual_revenue": None, "application_confirmed": None}


# ------------------------------------------------------------------ submit
async def test_submit_gives_secure_link_and_is_idempotent(backend):
    tracker = make_tracker("yes", buyer="buyer-002", slots={**FILLED, "application_confirmed": True})
    dispatcher, events = await run(ActionSubmitApplication(), tracker)
    text = texts(dispatcher)
    assert "submitted" in text and "https://paylater.example.com/apply/" in text
    assert "business checking" in text and "personal information" in text and "Never type" in text
    (call,) = [c for c in backend.calls if c[0] == "start_application"]
    assert call[1][0] == "buyer-002" and str(call[1][1].requested_limit) == "100000.00" and call[1][1].us_based is True
    assert all(v is None for v in slot_sets(events).values()) and "application_confirmed" in slot_sets(events)
    again, _ = await run(ActionSubmitApplication(), tracker)
    assert "already applied" in texts(again) and "https://" in texts(again)


@pytest.mark.parametrize("limit, said", [("200000.00", True), ("100000.00", False)])
async def test_limit_above_the_cap_is_reduced_by_the_backend_and_said(backend, limit, said):
    tracker = make_tracker("yes", buyer="buyer-002",
                           slots={**FILLED, "requested_limit": limit, "application_confirmed": True})
    dispatcher, _ = await run(ActionSubmitApplication(), tracker)
    text = texts(dispatcher)
    assert ("Credit limit applied for: $150,000.00." in text) is said, text
    assert ("150,000" in text) is said
    (call,) = [c for c in backend.calls if c[0] == "start_application"]
    assert str(call[1][1].requested_limit) == limit  # sent as said: the backend caps


async def test_submit_that_fails_rules_gives_every_reason_and_what_instead(backend):
    slots = {**FILLED, "us_based": False, "years_in_business": "0.5", "annual_revenue": "20000.00",
             "application_confirmed": True}
    dispatcher, _ = await run(ActionSubmitApplication(), make_tracker("yes", buyer="buyer-002", slots=slots))
    text = texts(dispatcher)
    assert text.startswith(W("utter_application_declined_now", lender="Kabbage"))
    assert text.count("\n•") == 3 and W("utter_application_instead") in text and "https://" not in text


async def test_submit_after_a_stopped_form_does_nothing(backend):
    dispatcher, events = await run(ActionSubmitApplication(), make_tracker("stop", buyer=None, slots={}))
    assert dispatcher.messages == [] and events == [] and backend.calls == []


async def test_submit_with_backend_down_apologises_and_hands_off(backend):
    backend.fail = "hang"
    tracker = make_tracker("yes", buyer="buyer-002", slots={**FILLED, "application_confirmed": True})
    dispatcher, _ = await run(ActionSubmitApplication(), tracker)
    assert [c["handoff"]["reason"] for c in customs(dispatcher)] == ["backend_down"]
