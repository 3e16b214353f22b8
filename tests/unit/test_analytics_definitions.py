"""The definitions of docs/ANALYTICS.md at their edges (bot/domain/analytics.py), and how the
gateway learns the intent from Rasa's REST answer (bot/rasa_channel.py, bot/gateway/rasa.py)."""
from __future__ import annotations

import asyncio
import datetime as dt

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.domain.analytics import Event, kind_for_intent, normalize, outcome
from bot.gateway.rasa import parse_reply
from bot.rasa_channel import TURN_ATTR, turn_of, with_turn

T0 = dt.datetime(2026, 3, 2, 9, 0)
LATER = T0 + dt.timedelta(days=5)


def ev(kind, minutes=0, **kw):
    return Event("c", kind, T0 + dt.timedelta(minutes=minutes), **kw)


def test_greetings_alone_do_not_involve():
    assert kind_for_intent("greet") is None and kind_for_intent("goodbye") is None
    assert kind_for_intent("faq") == "answer" and kind_for_intent("nlu_fallback") == "fallback"
    o = outcome([ev("fallback", text="hi?")], [], LATER)
    assert not o.involved and o.resolution is None


def test_thanks_confirms_only_right_after_the_last_answer():
    assert outcome([ev("answer", topic="faq/fee"), ev("thanks", 1)], [], T0).resolution == "confirmed"
    # a fallback in between: the thank-you is not about the answer; and a fallback within 24 h blocks "assumed"
    o = outcome([ev("answer", topic="faq/fee"), ev("fallback", 1, text="x"), ev("thanks", 2)], [], LATER)
    assert o.resolution is None


def test_assumed_needs_24_quiet_hours():
    evs = [ev("answer", topic="faq/fee")]
    assert outcome(evs, [], T0 + dt.timedelta(hours=23, minutes=59)).pending
    assert outcome(evs, [], T0 + dt.timedelta(hours=24)).resolution == "assumed"
    # a fallback 25 h later is outside the window
    late = outcome(evs + [ev("fallback", 25 * 60, text="?")], [], LATER)
    assert late.resolution == "assumed"


def test_not_really_and_handoff_are_never_resolved():
    assert outcome([ev("answer", topic="t"), ev("helpful", 1), ev("not_helpful", 2)], [], LATER).resolution is None
    assert outcome([ev("answer", topic="t"), ev("helpful", 1), ev("handoff", 2, reason="requested")],
                   [], LATER).resolution is None


def test_the_last_answer_counts():
    # helped with the first question, the second answered and then "not really"
    evs = [ev("answer", topic="a", text="q1"), ev("helpful", 1), ev("answer", 2, topic="b", text="q2"),
           ev("not_helpful", 3)]
    o = outcome(evs, [], LATER)
    assert o.resolution is None and o.unanswered == ["q2"] and o.topic == "a"


def test_withdrawn_on_the_same_topic_within_24_hours_only():
    evs = [ev("answer", topic="faq/fee"), ev("helpful", 1)]
    back = Event("other", "answer", T0 + dt.timedelta(hours=23), topic="faq/fee")
    other_topic = Event("other", "answer", T0 + dt.timedelta(hours=2), topic="faq/term")
    too_late = Event("other", "answer", T0 + dt.timedelta(hours=25), topic="faq/fee")
    assert outcome(evs, [back], LATER).withdrawn
    assert outcome(evs, [other_topic, too_late], LATER).resolution == "confirmed"


def test_similar_wording_groups():
    assert normalize("Blorp,  ZZZ!") == normalize("blorp zzz") == "blorp zzz"


def test_the_turn_travels_in_the_rest_answer_and_is_removed_for_the_buyer():
    assert turn_of({"intent": {"name": "faq"},
                    "response_selector": {"faq": {"response": {"intent_response_key": "faq/fee"}}}}) == \
        {"intent": "faq", "topic": "faq/fee"}
    assert turn_of({"intent": {"name": None}}) is None

    async def rasa(message):
        await message.output_channel.send_text_message(message.sender_id, "No fee.")
        setattr(message.output_channel, TURN_ATTR, {"intent": "faq", "topic": "faq/fee"})

    collector = CollectingOutputChannel()
    asyncio.run(with_turn(rasa)(UserMessage("fee?", collector, "s1")))
    assert collector.messages[-1] == {"recipient_id": "s1", "custom": {"turn": {"intent": "faq", "topic": "faq/fee"}}}
    reply = parse_reply(collector.messages)
    assert reply.turn == {"intent": "faq", "topic": "faq/fee"}
    assert [m["text"] for m in reply.messages] == ["No fee."]
