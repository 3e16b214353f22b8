"""Session start (client from metadata, slots carried over) and the per-turn client update."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.application_form import FORM_SLOTS
from bot.actions.base import metadata
from bot.actions.proactive import CONTEXT_SLOT, EVENT_SLOT, carry_context, context_expired
from bot.nlu.decide import client_mentioned
from bot.parsing import normalize_order_id

CLIENTS = ("web", "app")
NOT_CARRIED = {"requested_slot", "session_started_metadata", *FORM_SLOTS}  # a half-done form does not survive


def client_from(meta: Optional[Dict[str, Any]]) -> Optional[str]:
    client = (meta or {}).get("client")
    return client if client in CLIENTS else None


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        not_carried = NOT_CARRIED if carry_context(tracker) else NOT_CARRIED | {EVENT_SLOT, CONTEXT_SLOT}
        carried = {k: v for k, v in tracker.slots.items() if v is not None and k not in not_carried}
        client = client_from(tracker.get_slot("session_started_metadata")) or client_from(metadata(tracker))
        if client:
            carried["client"] = client
        events += [SlotSet(k, v) for k, v in carried.items()]
        events.append(ActionExecuted("action_listen"))
        return events


class ActionValidateSlotMappings(Action):
    """Runs after every user message (when listed in domain.yml's actions): keeps `client` in step
    with the metadata and `order_id` normalised ("ta100231" -> "TA-100231").

    What the buyer says beats the metadata for that answer: "how do I pay in the app" asked in the
    web widget sets `client` to app (both named: unset, so the answer covers both); the next
    message without a mention puts the metadata's client back."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        events: List[EventType] = []
        client = client_from(metadata(tracker))
        said = client_mentioned((tracker.latest_message or {}).get("text") or "")
        if said:
            client = None if said == "both" else said
            if client != tracker.get_slot("client"):
                events.append(SlotSet("client", client))
        elif client and client != tracker.get_slot("client"):
            events.append(SlotSet("client", client))
        raw = tracker.slots_to_validate().get("order_id")
        if raw:
            events.append(SlotSet("order_id", normalize_order_id(str(raw))))
        events += context_expired(tracker)  # a proactive message's context lasts a few messages
        return events
