"""After an FAQ answer: the second question of a two-question message gets its answer too (the
rule then asks for feedback)."""
from __future__ import annotations

from bot.actions.faq import ActionFaqFollowup

from .conftest import make_tracker, run


def faq_parse(text, topic, conf=0.95):
    return {"text": text, "intent": {"name": "faq", "confidence": conf},
            "intent_ranking": [{"name": "faq", "confidence": conf}],
            "response_selector": {"faq": {"ranking": [{"intent_response_key": topic, "confidence": conf}]}},
            "entities": []}


class Parser:
    def __init__(self, answers):
        self.answers, self.asked = answers, []

    async def __call__(self, parts, settings):
        self.asked.append(parts)
        return [self.answers[p] for p in parts]


async def follow_up(text, first, answers):
    action = ActionFaqFollowup()
    action.parser = Parser(answers)
    tracker = make_tracker(text, intent="faq", buyer=None)
    tracker.latest_message = faq_parse(text, first)
    dispatcher, events = await run(action, tracker)
    return [m.get("response") for m in dispatcher.messages], action.parser.asked, events


async def test_two_questions_get_the_second_answer():
    said, asked, events = await follow_up(
        "what is it and who lends the money", "faq/what_is_pay_later",
        {"what is Pay Later": faq_parse("what is Pay Later", "faq/what_is_pay_later"),
         "who lends the money": faq_parse("who lends the money", "faq/lender")})
    # "what is it" is parsed as "what is Pay Later" (bot.nlu.decide.question_parts)
    assert said == ["utter_faq/lender"] and asked == [["what is Pay Later", "who lends the money"]] and events == []


async def test_an_unsure_second_clause_adds_nothing():
    said, _, _ = await follow_up(
        "is there a fee? and the other thing", "faq/processing_fee",
        {"is there a fee": faq_parse("is there a fee", "faq/processing_fee"),
         "and the other thing": faq_parse("and the other thing", "faq/term", conf=0.3)})
    assert said == []


async def test_one_question_is_not_parsed_again():
    said, asked, _ = await follow_up("who lends the money", "faq/lender", {})
    assert said == [] and asked == []


async def test_rasa_unreachable_leaves_the_first_answer_alone(monkeypatch):
    monkeypatch.setenv("PAYLATER_RASA_URL", "http://127.0.0.1:9")  # nothing listens there
    tracker = make_tracker("what is it and who lends", intent="faq", buyer=None)
    tracker.latest_message = faq_parse("what is it and who lends", "faq/what_is_pay_later")
    dispatcher, events = await run(ActionFaqFollowup(), tracker)
    assert dispatcher.messages == [] and events == []


async def test_a_message_of_two_questions_that_fell_back_gets_its_sure_answers():
    from bot.actions.fallback import ActionFallback

    action = ActionFallback()
    action.parser = Parser({"is there a processing fee": faq_parse("x", "faq/processing_fee"),
                            "how long can I finance an order for": faq_parse("y", "faq/term")})
    text = "is there a processing fee, and how long can I finance an order for?"
    tracker = make_tracker(text, intent="nlu_fallback", buyer=None)
    dispatcher, events = await run(action, tracker)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_faq/processing_fee", "utter_faq/term"]
    assert events == []


async def test_an_off_topic_message_of_two_questions_is_still_not_answered():
    from bot.actions.fallback import ActionFallback

    action = ActionFallback()
    action.parser = Parser({"who won the game": {"intent": {"name": "out_of_scope", "confidence": 0.9},
                                                 "intent_ranking": [{"name": "out_of_scope", "confidence": 0.9}]},
                            "what's the weather": {"intent": {"name": "out_of_scope", "confidence": 0.9},
                                                   "intent_ranking": [{"name": "out_of_scope", "confidence": 0.9}]}})
    tracker = make_tracker("who won the game and what's the weather", intent="nlu_fallback", buyer=None)
    dispatcher, _ = await run(action, tracker)
    assert "can't help with that" in " ".join(m.get("text") or "" for m in dispatcher.messages)


async def account_answer(action, text, intent, answers):
    action.parser = Parser(answers)
    tracker = make_tracker(text, intent=intent, buyer=None)  # anonymous: the general answer, then sign in
    dispatcher, events = await run(action, tracker)
    return [m.get("response") for m in dispatcher.messages], events


async def test_an_account_question_and_an_faq_question_get_both_answers():
    from bot.actions.credit import ActionApplicationStatus

    said, events = await account_answer(
        ActionApplicationStatus(), "has my application been approved? what is the most I can borrow",
        "application_status",
        {"has my application been approved": {"text": "x", "intent": {"name": "application_status", "confidence": 0.9},
                                               "intent_ranking": [{"name": "application_status", "confidence": 0.9}]},
         "what is the most I can borrow": faq_parse("y", "faq/credit_limit")})
    assert said[-1] == "utter_faq/credit_limit" and len(said) == 2 and events == []


async def test_an_account_answer_does_not_repeat_the_faq_topic_it_covers():
    from bot.actions.credit import ActionCreditLine

    said, _ = await account_answer(
        ActionCreditLine(), "how much credit do I have left? what is the limit", "credit_line",
        {"how much credit do I have left": faq_parse("x", "faq/credit_limit"),
         "what is the limit": faq_parse("y", "faq/credit_limit")})
    assert "utter_faq/credit_limit" not in said


def test_the_check_mirrors_the_account_actions():
    import bot.actions  # noqa: F401  every action registered
    from bot.actions.base import BuyerAction
    from bot.nlu_check import ACCOUNT_INTENTS, EQUIVALENT
    import inspect
    from pathlib import Path

    import yaml

    rules = yaml.safe_load(Path("data/rules/account.yml").read_text())["rules"] + \
        yaml.safe_load(Path("data/rules/chitchat.yml").read_text())["rules"]
    by_action = {}
    for rule in rules:
        steps = rule["steps"]
        if len(steps) == 2 and "intent" in steps[0] and "entities" not in steps[0]:
            by_action[steps[1]["action"]] = steps[0]["intent"]
    classes = BuyerAction.__subclasses__()
    classes += [s for c in classes for s in c.__subclasses__()]
    actions = [c() for c in classes if not inspect.isabstract(c)]
    account = {by_action[a.name()]: a for a in actions if a.name() in by_action}
    assert set(account) == ACCOUNT_INTENTS
    for intent, action in account.items():
        assert {action.covers} - {None} == EQUIVALENT.get(intent, set()), intent
