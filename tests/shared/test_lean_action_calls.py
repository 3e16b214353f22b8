"""bot/rasa_server.py install_lean_action_calls: an action call in a long session carries the
recent events only (ACTION_EVENT_TURNS user messages back), with slots and the latest message
complete; a short session's call is Rasa's own, unchanged."""
from __future__ import annotations

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.config import PROJECT_ROOT
from bot.rasa_server import ACTION_EVENT_TURNS, DEFAULT_ACTION_EVENT_TURNS, install_lean_action_calls


@pytest.fixture(scope="module")
def domain():
    install_lean_action_calls()
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def session(domain, turns):
    tracker = DialogueStateTracker("c", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(SlotSet("order_id", "TA-100231"))
    for i in range(turns):
        tracker.update(UserUttered(f"message {i}", {"name": "faq", "confidence": 0.9}, [], metadata={"client": "web"}))
        tracker.update(ActionExecuted("utter_faq"))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


def call(domain, tracker, action="action_handoff"):
    return RemoteAction(action, EndpointConfig("http://127.0.0.1:1/webhook"))._action_call_format(tracker, domain)


def test_a_long_session_sends_the_recent_turns_with_every_slot(domain):
    tracker = session(domain, 200)
    before = len(tracker.events)
    state = call(domain, tracker)["tracker"]
    users = [e["text"] for e in state["events"] if e["event"] == "user"]
    assert users == [f"message {i}" for i in range(200 - ACTION_EVENT_TURNS, 200)]
    assert state["slots"]["order_id"] == "TA-100231"  # set long before the window: still there
    assert state["latest_message"]["text"] == "message 199"
    assert len(tracker.events) == before  # the tracker itself is untouched


def test_a_short_session_is_sent_whole(domain):
    tracker = session(domain, 10)
    state = call(domain, tracker)["tracker"]
    assert len(state["events"]) == len(tracker.events)


@pytest.mark.parametrize("action", ["action_fallback", "action_faq_followup", "action_proactive_followup",
                                    "validate_pay_later_application_form", "action_order_status"])
def test_other_actions_get_the_last_few_turns_with_every_slot(domain, action):
    """Only the handoff looks far back (the orders named, for the agent's summary); the others
    need the latest message, the last two turns, the form's slot event or a proactive context at
    most 3 buyer messages old."""
    tracker = session(domain, 200)
    state = call(domain, tracker, action)["tracker"]
    users = [e["text"] for e in state["events"] if e["event"] == "user"]
    assert DEFAULT_ACTION_EVENT_TURNS >= 3
    assert users == [f"message {i}" for i in range(200 - DEFAULT_ACTION_EVENT_TURNS, 200)]
    assert state["slots"]["order_id"] == "TA-100231"
    assert state["latest_message"]["text"] == "message 199"


def test_a_session_under_the_window_is_sent_whole_to_every_action(domain):
    tracker = session(domain, 5)
    for action in ("action_fallback", "action_handoff"):
        assert len(call(domain, tracker, action)["tracker"]["events"]) == len(tracker.events)
