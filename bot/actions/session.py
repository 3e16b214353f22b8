"""Session start (client from metadata, slots carried over) and the per-turn client update."""
from __future__ import annotations

from typing import Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.application_form import FORM_SLOTS
from bot.actions.base import metadata
from bot.actions.proactive import CONTEXT_SLOT, EVENT_SLOT, buyer_messages_since_context, carry_context
from bot.slot_upkeep import client_from, slot_upkeep

NOT_CARRIED = {"requested_slot", "session_started_metadata", *FORM_SLOTS}  # a half-done form does not survive


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
    """The per-message slot upkeep (bot/slot_upkeep.py) for a model whose domain still lists
    this action. The product's domain no longer does: Rasa runs the same function in-process
    (bot/rasa_server.py), saving an action-server round trip per message."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        changes = slot_upkeep(metadata(tracker), (tracker.latest_message or {}).get("text"),
                              tracker.get_slot("client"), tracker.slots_to_validate().get("order_id"),
                              proactive_active=bool(tracker.get_slot(EVENT_SLOT)),
                              messages_since_proactive=buyer_messages_since_context(tracker))
        return [SlotSet(k, v) for k, v in changes.items()]
