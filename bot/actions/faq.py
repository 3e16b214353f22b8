"""After an FAQ answer (rule: faq -> utter_faq -> action_faq_followup -> utter_ask_faq_feedback):
the answer to the second question of a two-question message ("what is it and who lends?"); the
rule then asks "Did this answer your question?" (quick replies recorded as the intents
feedback_helpful / feedback_not_helpful).

The message is split into its question clauses (bot.nlu.decide.question_parts) and each clause is
parsed by the Rasa server that served the message (`POST /model/parse`, PAYLATER_RASA_URL and
PAYLATER_RASA_TOKEN, as every stack process gets them). Only a confident FAQ topic that was not
answered yet is added; any error or timeout simply leaves the first answer alone."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

import aiohttp
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.config import Settings
from bot.nlu.decide import extra_topics, question_parts, topic_ranking

logger = logging.getLogger(__name__)
PARSE_TIMEOUT_S = 2.0


async def parse_parts(parts: List[str], settings: Settings) -> List[Dict[str, Any]]:
    """The Rasa server's parse of each clause ([] when it can't be reached)."""
    params = {"token": settings.rasa_token} if settings.rasa_token else {}
    url = settings.rasa_url.rstrip("/") + "/model/parse"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=PARSE_TIMEOUT_S)) as session:

            async def one(text: str) -> Dict[str, Any]:
                async with session.post(url, params=params, json={"text": text}) as resp:
                    resp.raise_for_status()
                    return await resp.json()

            return list(await asyncio.gather(*(one(p) for p in parts)))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        logger.warning("second-question parse failed: %r", exc)
        return []


def has_second_question(parse: Optional[Dict[str, Any]]) -> bool:
    """Whether the followup has anything to do for this parse of the latest message: a message
    of one question clause gets nothing added. Rasa checks this before calling the action server
    (bot/rasa_server.py `install_local_followup_check`), so the two can't disagree."""
    return len(question_parts((parse or {}).get("text") or "")) >= 2


async def answer_second_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict,
                                 first: Optional[str], parser=parse_parts) -> None:
    """The answer to a confident FAQ question of the latest message other than `first` (the topic
    already answered): "what is it and who lends", "is my application approved, and what's the max"."""
    parts = question_parts((tracker.latest_message or {}).get("text") or "")
    if len(parts) < 2:  # has_second_question's test, on the parts already split
        return
    responses = (domain or {}).get("responses") or {}
    for topic in extra_topics(first, await parser(parts, Settings.from_env())):
        if not responses or f"utter_{topic}" in responses:
            dispatcher.utter_message(response=f"utter_{topic}")


class ActionFaqFollowup(Action):
    parser = staticmethod(parse_parts)  # tests replace it

    def name(self) -> Text:
        return "action_faq_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        topics = topic_ranking(tracker.latest_message or {})
        first = topics[0][0] if topics else None
        await answer_second_question(dispatcher, tracker, domain, first, self.parser)
        return []
