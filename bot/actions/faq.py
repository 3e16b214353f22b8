"""After an FAQ answer (rule: faq -> utter_faq -> action_faq_followup -> utter_ask_faq_feedback):
the second answer of a two-question message; the rule then asks "Did this answer your question?"
(quick replies recorded as the intents feedback_helpful / feedback_not_helpful)."""
from __future__ import annotations

from typing import Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.nlu.decide import second_topic, topic_ranking


class ActionFaqFollowup(Action):
    def name(self) -> Text:
        return "action_faq_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        parse = tracker.latest_message or {}
        second = second_topic(parse)
        topics = topic_ranking(parse)
        responses = (domain or {}).get("responses") or {}
        if second and topics and second != topics[0][0] and (not responses or f"utter_{second}" in responses):
            dispatcher.utter_message(response=f"utter_{second}")
        return []
