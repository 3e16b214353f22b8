"""After an FAQ answer: a second answer for a two-question message (the rule then asks for feedback)."""
from __future__ import annotations

from bot.actions.faq import ActionFaqFollowup

from .conftest import make_tracker, run


def faq_parse(text, ranking):
    return {"text": text, "intent": {"name": "faq", "confidence": 0.95},
            "intent_ranking": [{"name": "faq", "confidence": 0.95}],
            "response_selector": {"faq": {"ranking": [{"intent_response_key": k, "confidence": c} for k, c in ranking]}},
            "entities": [], "metadata": {"client": "web"}}


async def test_two_questions_get_the_second_answer_then_the_feedback_question():
    tracker = make_tracker("what is it and who lends the money", intent="faq", buyer=None)
    tracker.latest_message = faq_parse("what is it and who lends the money",
                                       [("faq/what_is_pay_later", 0.6), ("faq/lender", 0.35)])
    dispatcher, events = await run(ActionFaqFollowup(), tracker)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/lender"]
    assert events == []


async def test_one_question_gets_no_second_answer():
    tracker = make_tracker("who lends the money", intent="faq", buyer=None)
    tracker.latest_message = faq_parse("who lends the money", [("faq/lender", 0.9), ("faq/what_is_pay_later", 0.05)])
    dispatcher, _ = await run(ActionFaqFollowup(), tracker)
    assert dispatcher.messages == []
