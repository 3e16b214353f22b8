"""AmountExtractor: the `amount` entity is bot.parsing's reading, whatever DIET tagged."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.components import AmountExtractor


def extract(text, entities=()):
    message = Message(data={"text": text, "entities": list(entities)})
    AmountExtractor({}).process([message])
    return message.get("entities")


def test_a_spelled_out_amount_is_one_entity_where_diet_had_split_it():
    diet = [{"entity": "amount", "start": 18, "end": 24, "value": "twenty", "extractor": "DIETClassifier"},
            {"entity": "amount", "start": 25, "end": 33, "value": "thousand", "extractor": "DIETClassifier"}]
    got = extract("what would I pay, twenty thousand over 3 months", diet)
    assert [(e["entity"], e["value"], e["extractor"]) for e in got] == [("amount", "twenty thousand", "AmountExtractor")]


def test_other_entities_are_kept_and_the_order_id_is_not_read_as_money():
    oid = {"entity": "order_id", "start": 20, "end": 29, "value": "TA-100245", "extractor": "RegexEntityExtractor"}
    got = extract("what would it cost, TA-100245, for USD 12,000", [oid])
    assert [(e["entity"], e["value"]) for e in got] == [("order_id", "TA-100245"), ("amount", "USD 12,000")]


@pytest.mark.parametrize("text", ["I have 2 orders and two questions", "is it 6 months", "how much does it cost",
                                  "20k or 30k?"])
def test_no_amount_from_small_counts_or_from_a_choice(text):
    diet = [{"entity": "amount", "start": 0, "end": 1, "value": text[:1], "extractor": "DIETClassifier"}]
    assert extract(text, diet) == []


@pytest.mark.parametrize("text, value", [("borrow 5000", "5000"), ("could I get $50", "$50"), ("3k", "3k"),
                                         ("can we do fifteen thousand", "fifteen thousand")])
def test_a_plain_number_from_100_up_or_any_marked_amount_is_one(text, value):
    assert [e["value"] for e in extract(text)] == [value]
