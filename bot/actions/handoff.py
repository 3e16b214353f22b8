"""Handing the conversation to a person: the reason from what happened, the agent's summary.

The reason is what the agent sees first in the queue, so it must say what really happened:
  dispute            the buyer reports a problem with a payment (intent `report_problem`);
  late_disbursement  the bot just reported a late or failed payout to the supplier;
  backend_down       the bot just could not reach the payments system;
  misunderstood      the bot did not understand the buyer's last message(s);
  requested          the buyer simply asked for a person.
"Just" means: in the bot's answer to the buyer's previous message, or in this turn. An action
that reports such a problem and offers a person says so with `note_handoff_reason(...)` (the
`handoff_reason` slot, which does not influence the dialogue); actions that hand off themselves
pass the reason to `send_handoff` directly.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.base import verified_buyer
from bot.actions.payloads import REASON_TEXTS, send_handoff, summary_payload
from bot.parsing import find_order_ids, normalize_order_id
from bot.ports import BackendError

logger = logging.getLogger(__name__)
FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope"}
REASON_SLOT = "handoff_reason"
# Reasons an earlier action may note for a handoff that follows (the others come from the turn itself).
NOTED_REASONS = {"late_disbursement", "backend_down", "dispute"}
# Responses that report a problem and offer a person: a handoff right after them has that reason.
RESPONSE_REASONS = {"utter_backend_down": "backend_down"}


def user_events(tracker: Tracker) -> List[dict]:
    return [e for e in tracker.events if e.get("event") == "user"]


def intent_of(event: dict) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def trailing_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user turns in a row were not understood."""
    count = 0
    for event in reversed(user_events(tracker)):
        if intent_of(event) not in FALLBACK_INTENTS:
            break
        count += 1
    return count


def misses_just_before(tracker: Tracker) -> int:
    """Not-understood user turns in a row, this one included when it is one, else ending with
    the turn before it ("blorp" / "zzz" / then "yes, a person")."""
    users = user_events(tracker)
    if users and intent_of(users[-1]) not in FALLBACK_INTENTS:
        users = users[:-1]
    count = 0
    for event in reversed(users):
        if intent_of(event) not in FALLBACK_INTENTS:
            break
        count += 1
    return count


def recent_events(tracker: Tracker) -> List[dict]:
    """The events since the buyer's previous message: the bot's last answer and this turn."""
    seen_users = 0
    for i in range(len(tracker.events) - 1, -1, -1):
        if tracker.events[i].get("event") == "user":
            seen_users += 1
            if seen_users == 2:
                return list(tracker.events[i + 1:])
    return list(tracker.events)


def recent_news(tracker: Tracker) -> List[dict]:
    """`recent_events` without the slots that action_session_start carried into a new session."""
    news: List[dict] = []
    starting = False
    for event in recent_events(tracker):
        kind = event.get("event")
        if kind == "session_started":
            news, starting = [], True
        elif kind == "action" and event.get("name") != "action_session_start":
            starting = False
        if not (starting and kind == "slot"):
            news.append(event)
    return news


def noted_reason(tracker: Tracker) -> Optional[str]:
    """The reason an action noted, or a problem response the bot sent, since the previous message."""
    found: Optional[str] = None
    for event in recent_news(tracker):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == REASON_SLOT:
            value = event.get("value")
            found = value if value in NOTED_REASONS else None
        elif kind == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter in RESPONSE_REASONS:
                found = RESPONSE_REASONS[utter]
    return found


def offered_after_misses(tracker: Tracker) -> bool:
    """action_fallback offered a person after repeated misses, since the previous message."""
    offered = False
    for e in recent_news(tracker):
        if e.get("event") == "slot" and e.get("name") == "handoff_offered":
            offered = e.get("value") is True
    return offered


def handoff_reason(tracker: Tracker) -> str:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent == "report_problem":
        return "dispute"
    noted = noted_reason(tracker)
    if noted:
        return noted
    if intent in FALLBACK_INTENTS or misses_just_before(tracker) or offered_after_misses(tracker):
        return "misunderstood"
    return "requested"


def note_handoff_reason(reason: str) -> EventType:
    """For an action that reports a problem and offers a person: the label of the handoff that
    follows if the buyer accepts (see the module docstring)."""
    if reason not in NOTED_REASONS or reason not in REASON_TEXTS:
        raise ValueError(f"not a reason an action can note: {reason!r}")
    return SlotSet(REASON_SLOT, reason)


def orders_mentioned(tracker: Tracker) -> List[str]:
    found: List[str] = []
    for event in user_events(tracker):
        entities = (event.get("parse_data") or {}).get("entities") or []
        ids = [normalize_order_id(str(e.get("value", ""))) for e in entities if e.get("entity") == "order_id"]
        for oid in [*ids, *find_order_ids(event.get("text"))]:
            if oid and oid not in found:
                found.append(oid)
    return found


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        summary = None
        buyer = verified_buyer(tracker)
        if buyer is not None:
            try:
                summary = summary_payload(await buyer.call("buyer_summary"), orders_mentioned(tracker))
            except BackendError:
                logger.exception("buyer_summary failed: handing off without a summary")
        send_handoff(dispatcher, handoff_reason(tracker), summary)
        return [SlotSet("handoff_offered", False), SlotSet(REASON_SLOT, None)]
