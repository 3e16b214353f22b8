"""What the bot says when it did not understand the message as a whole: a message of several
questions gets the answers of its clauses the model is sure of (each clause parsed on its own,
as in action_faq_followup); when it reads like two or three Pay Later questions, or is surely a Pay
Later question whose topic is unsure, it asks which one with buttons
(bot.nlu.decide.clarify_candidates); otherwise honest, what it can do, and a
person."""
from __future__ import annotations

from typing import Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import trailing_fallbacks
from bot.actions.faq import parse_parts
from bot.config import Settings
from bot.nlu.decide import (CHOICES, MULTI, clarify_candidates, extra_topics, question_parts,
                             sure_faq_unsure_topic)

CAN_DO = (
    "I can answer questions about paying Trade Assurance orders with Pay Later, show your orders and what "
    "you still owe, check whether Pay Later can pay an order, help you apply for credit, tell you your "
    "credit line, say when a supplier gets paid, and work out what a Pay Later loan would cost."
)
PERSON = {"title": "Talk to a person", "payload": "/human_handoff"}
LEAD_IN = "I want to be sure I answer the right question. Is it about one of these?"
# hedged: a few off-topic messages read as sure FAQ questions too (bench/nlu_sweep: about 1-3 %
# of the stranger sets' off-topic messages), so the reply must also be right for them
PAY_LATER_LEAD_IN = ("This sounds like a Pay Later question, and I want to answer it right. Is it about one "
                     "of these? If not, a person from our support team can help.")


class ActionFallback(Action):
    parser = staticmethod(parse_parts)  # tests replace it

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        latest = tracker.latest_message or {}
        parts = question_parts(latest.get("text") or "")
        if (latest.get("intent") or {}).get("name") == "nlu_fallback" and len(parts) >= 2:
            topics = extra_topics(None, await self.parser(parts, Settings.from_env()),
                                  {"max_extra": MULTI["max_fallback"]})
            responses = (domain or {}).get("responses") or {}
            topics = [t for t in topics if not responses or f"utter_{t}" in responses]
            if topics:
                for topic in topics:
                    dispatcher.utter_message(response=f"utter_{topic}")
                return []
        candidates = clarify_candidates(latest)
        if candidates:
            buttons = [{"title": CHOICES[c][0], "payload": CHOICES[c][1]} for c in candidates]
            # a sure Pay Later question whose topic is unsure is named as one (issue 10)
            lead_in = PAY_LATER_LEAD_IN if sure_faq_unsure_topic(latest) else LEAD_IN
            dispatcher.utter_message(text=lead_in, buttons=buttons + [PERSON])
            return [SlotSet("handoff_offered", True)] if trailing_fallbacks(tracker) >= 2 else []
        if trailing_fallbacks(tracker) >= 2:
            dispatcher.utter_message(
                text="Sorry, I still can't help with that here. Would you like me to bring in a person from our support team?",
                buttons=[{"title": "Yes, talk to a person", "payload": "/human_handoff"},
                         {"title": "No, thanks", "payload": "/deny"}],
            )
            return [SlotSet("handoff_offered", True)]
        dispatcher.utter_message(
            text=f"Sorry, I can't help with that here. {CAN_DO} You can also talk to a person.",
            buttons=[PERSON],
        )
        return []
