"""Handing the conversation to a person: the reason from context, the agent's summary."""
from __future__ import annotations

import logging
from typing import Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.base import verified_buyer
from bot.actions.payloads import send_handoff, summary_payload
from bot.parsing import find_order_ids, normalize_order_id
from bot.ports import BackendError

logger = logging.getLogger(__name__)
FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope"}


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


def orders_mentioned(tracker: Tracker) -> List[str]:
    found: List[str] = []
    for event in user_events(tracker):
        entities = (event.get("parse_data") or {}).get("entities") or []
        ids = [normalize_order_id(str(e.get("value", ""))) for e in entities if e.get("entity") == "order_id"]
        for oid in [*ids, *find_order_ids(event.get("text"))]:
            if oid and oid not in found:
                found.append(oid)
    return found


def handoff_reason(tracker: Tracker) -> str:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent == "report_problem":
        return "dispute"
    if intent == "human_handoff":
        return "requested"
    if intent == "disbursement_status":
        return "late_disbursement"
    if tracker.get_slot("handoff_offered") or trailing_fallbacks(tracker):
        return "misunderstood"
    return "requested"


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        summary = None
        buyer = verified_buyer(tracker)
        if buyer is not None:
            try:
                summary = summary_payload(await buyer.call("buyer_summary"), orders_mentioned(tracker))
            except BackendError:
                logger.exception("buyer_summary failed: handing off without a summary")
        send_handoff(dispatcher, handoff_reason(tracker), summary)
        return [SlotSet("handoff_offered", False)]
