"""Issue 10 round 4: a long message is read as its question sentence(s) and as the whole text;
per head the more confident reading wins (bot.nlu.components.LongMessageReader)."""
from __future__ import annotations

from bot.nlu.decide import whole_reading_wins

LONG = ("Our supplier in Ningbo wants the balance by bank transfer this time, they say it is their rule. "
        "We have always paid by card before and never had a problem with it. How long does it take to arrive?")


def reading(intents, topics):
    return {"intent": {"name": intents[0][0], "confidence": intents[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in intents],
            "response_selector": {"faq": {"ranking": [{"intent_response_key": k, "confidence": c} for k, c in topics]}}}


def test_the_whole_text_wins_a_head_only_when_it_is_surer():
    focus = reading([("faq", 0.99)], [("faq/payment_arrival", 0.45), ("faq/term", 0.3)])
    whole = reading([("faq", 0.98)], [("faq/tt", 0.93), ("faq/local_tt", 0.02)])
    assert whole_reading_wins(focus, whole) == (False, True)
    assert whole_reading_wins(whole, focus) == (True, False)
    same = reading([("faq", 0.99)], [("faq/tt", 0.93)])
    assert whole_reading_wins(same, same) == (False, False)  # a tie keeps the focus


def test_the_tokenizer_adds_a_whole_text_reading_of_a_long_message_only():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import WHOLE_OF, QuestionFocusTokenizer

    tok = QuestionFocusTokenizer({**QuestionFocusTokenizer.get_default_config(), "whole_reading": True})
    batch = tok.process([Message(data={"text": LONG}), Message(data={"text": "how long does a wire take?"})])
    assert len(batch) == 3 and batch[2].get(WHOLE_OF) == 0 and batch[2].get("text") == LONG
    focus_words = [t.text for t in batch[0].get("text_tokens")]
    whole_words = [t.text for t in batch[2].get("text_tokens")]
    assert focus_words == ["How", "long", "does", "it", "take", "to", "arrive"]
    assert "transfer" in whole_words and len(whole_words) > len(focus_words)
    off = QuestionFocusTokenizer(QuestionFocusTokenizer.get_default_config())
    assert len(off.process([Message(data={"text": LONG})])) == 1  # off by default


def test_the_reader_keeps_the_surer_head_and_drops_the_whole_text_copy():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import WHOLE_OF, LongMessageReader

    def message(r, **extra):
        return Message(data={"text": LONG, **r, **extra})

    focus = message(reading([("faq", 0.99)], [("faq/payment_arrival", 0.45)]))
    short = message(reading([("greet", 0.9)], [("faq/lender", 0.2)]))
    whole = message(reading([("faq", 0.98)], [("faq/tt", 0.93)]), **{WHOLE_OF: 0})
    out = LongMessageReader().process([focus, short, whole])
    assert out == [focus, short]
    assert out[0].get("intent")["confidence"] == 0.99  # the focus's intent was surer
    assert out[0].get("response_selector")["faq"]["ranking"][0]["intent_response_key"] == "faq/tt"
    assert out[1].get("intent")["name"] == "greet"
