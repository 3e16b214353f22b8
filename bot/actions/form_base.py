"""A form validation base class in the spirit of Rasa's financial-demo `CustomFormValidationAction`:
checks every answer the same way before the slot's own `validate_<slot>` runs.

- `guard()` may end the form before anything else (e.g. the buyer is not signed in);
- "stop" / "cancel" ends the form, nothing is kept;
- an answer with an SSN, card, bank number or password is refused and NOT stored;
- "actually revenue is 80k" / "change the business name" updates or resets that other slot.
"""
from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.utils import call_potential_coroutine

from bot.actions.wording import Wording
from bot.parsing import parse_correction
from bot.sensitive import LABELS, find_sensitive

_STOP = re.compile(r"(?:please\s+)?(stop|cancel|quit|exit|never\s*mind|forget it|abort)\b.*", re.I)


def is_sensitive(text: str) -> bool:
    """Raw sensitive data, or a gateway label that shows some was typed and removed."""
    return bool(find_sensitive(text)) or any(label in text for label in LABELS.values())


class CustomFormValidationAction(FormValidationAction):
    form_slots: List[str] = []
    slot_labels: Dict[str, str] = {}  # slot -> the response naming it ("utter_label_field_<slot>")

    @abstractmethod
    def name(self) -> Text:
        """validate_<form name>"""

    async def guard(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> Optional[List[EventType]]:
        """Events that end the form now, or None to go on."""
        return None

    def end_form(self) -> Dict[str, Any]:
        return {**{slot: None for slot in self.form_slots}, "requested_slot": None}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        ended = await self.guard(dispatcher, tracker, domain)
        if ended is not None:
            return ended
        message = tracker.latest_message or {}
        text = (message.get("text") or "").strip()
        requested = tracker.get_slot("requested_slot")
        if requested and ((message.get("intent") or {}).get("name") == "stop" or _STOP.fullmatch(text)):
            dispatcher.utter_message(text=Wording(domain)("utter_form_stopped"))
            return [SlotSet(k, v) for k, v in self.end_form().items()]
        if requested and is_sensitive(text):
            dispatcher.utter_message(text=Wording(domain)("utter_form_sensitive_refused"))
            return [SlotSet(slot, None) for slot in {requested, *tracker.slots_to_validate()} if slot in self.form_slots]
        return await super().run(dispatcher, tracker, domain)

    async def get_validation_events(self, dispatcher, tracker, domain) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        candidates = tracker.slots_to_validate()
        text = (tracker.latest_message or {}).get("text") or ""
        correction = parse_correction(text, need_trigger=requested != self.form_slots[-1])
        if requested in candidates and correction and correction[0] != requested:
            slot, value = correction
            return [SlotSet(k, v) for k, v in (await self.correct(slot, value, requested, dispatcher, tracker, domain)).items()]
        if requested in candidates and correction and correction[1]:
            tracker.slots[requested] = correction[1]  # "sorry, 5 years" -> validate "5 years"
            for event in reversed(tracker.events):
                if event.get("event") == "slot" and event.get("name") == requested:
                    event["value"] = correction[1]
                    break
        return await super().get_validation_events(dispatcher, tracker, domain)

    async def correct(self, slot: str, value: str, requested: str, dispatcher, tracker, domain) -> Dict[str, Any]:
        """Update `slot` from the correction (validated like an answer) or reset it to be asked again."""
        w = Wording(domain)
        label = w(self.slot_labels[slot]) if slot in self.slot_labels else slot.replace("_", " ")
        if value:
            result = await call_potential_coroutine(getattr(self, f"validate_{slot}")(value, dispatcher, tracker, domain))
            if result.get(slot) is not None:
                dispatcher.utter_message(text=w("utter_form_updated", label=label))
            if "requested_slot" in result:  # the corrected answer ended the form
                return result
        else:
            dispatcher.utter_message(text=w("utter_form_change", label=label))
            result = {slot: None}
        return {**result, requested: None}
