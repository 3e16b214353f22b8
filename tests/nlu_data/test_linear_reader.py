"""Issue 10 round 8: a TF-IDF + logistic-regression reader blended into DIET's and the
ResponseSelector's rankings (bot.nlu.linear, bot.nlu.components.LinearSecondOpinion)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.linear import FLOOR, LinearReader, blend, focus_text, geometric_mix, split_heads

EXAMPLES = [
    ("who lends the money", "faq/lender"), ("which bank is the lender", "faq/lender"),
    ("who provides the loan", "faq/lender"), ("who is the creditor behind pay later", "faq/lender"),
    ("how long can I finance an order", "faq/term"), ("what is the longest loan term", "faq/term"),
    ("can I take six months to pay", "faq/term"), ("is a 3 month loan possible", "faq/term"),
    ("show me my orders", "list_orders"), ("list my orders please", "list_orders"),
    ("what orders do I have", "list_orders"), ("my order list", "list_orders"),
    ("who won the world cup", "out_of_scope"), ("what is the capital of france", "out_of_scope"),
    ("tell me a recipe for pancakes", "out_of_scope"), ("how tall is mount everest", "out_of_scope"),
]
LONG = ("We have bought from the same supplier in Ningbo for two years and always paid by card. "
        "This time the order is bigger than usual and my accountant wants to spread it out a bit. "
        "How long can I finance it?")


@pytest.fixture(scope="module")
def reader() -> LinearReader:
    texts, labels = zip(*EXAMPLES)
    return LinearReader.fit(list(texts), list(labels), C=30.0)


def test_it_reads_the_labels_it_was_trained_on(reader):
    for text, label in [("who lends me the money", "faq/lender"), ("list all my orders", "list_orders"),
                        ("how long can I finance", "faq/term"), ("who won the world cup in 2010", "out_of_scope")]:
        probs = reader.probabilities(text)
        assert max(probs, key=probs.get) == label, (text, probs)
        assert math.isclose(sum(probs.values()), 1.0, rel_tol=1e-9)


def test_its_numbers_are_scikit_learns(reader):
    """The numpy reading equals TfidfVectorizer + LogisticRegression.predict_proba (refit here)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = zip(*EXAMPLES)
    vw = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", sublinear_tf=True)
    vc = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    clf = LogisticRegression(C=30.0, max_iter=3000).fit(hstack([vw.fit_transform(texts), vc.fit_transform(texts)]).tocsr(), labels)
    probe = ["who is the lender of my loan", "orders orders orders", "zzz", "a 6 month term?"]
    expected = clf.predict_proba(hstack([vw.transform(probe), vc.transform(probe)]).tocsr())
    for text, row in zip(probe, expected):
        got = reader.probabilities(text)
        assert np.allclose([got[c] for c in clf.classes_], row, atol=1e-7)


def test_a_message_with_no_known_ngram_gets_the_prior_not_an_error(reader):
    probs = reader.probabilities("")
    assert math.isclose(sum(probs.values()), 1.0, rel_tol=1e-9)
    assert reader.probabilities("ØØØ") == reader.probabilities("")


def test_a_long_message_is_read_as_its_question_and_whole_and_keeps_the_surer(reader):
    assert focus_text(LONG).strip() == "How long can I finance it?"
    probs = reader.probabilities(LONG)
    assert max(probs, key=probs.get) == "faq/term"
    assert math.isclose(sum(probs.values()), 1.0, rel_tol=1e-9)


def test_it_is_saved_without_pickle_and_reads_the_same_after_loading(reader, tmp_path: Path):
    reader.save(tmp_path)
    assert not list(tmp_path.glob("*.pkl"))
    again = LinearReader.load(tmp_path)
    assert again.probabilities(LONG) == reader.probabilities(LONG)
    assert LinearReader.load(tmp_path / "missing") is None


def test_split_heads_sums_the_topics_into_faq():
    intents, topics = split_heads({"faq/lender": 0.3, "faq/term": 0.1, "list_orders": 0.6})
    assert math.isclose(intents["faq"], 0.4) and intents["list_orders"] == 0.6
    assert math.isclose(topics["faq/lender"], 0.75) and math.isclose(topics["faq/term"], 0.25)


def test_the_geometric_mix_needs_both_readers_to_agree():
    mixed = dict(geometric_mix({"a": 0.9, "b": 0.1}, {"a": 0.1, "b": 0.9}, 0.5))
    assert math.isclose(mixed["a"], 0.5) and math.isclose(mixed["b"], 0.5)
    assert geometric_mix({"a": 1.0}, {"b": 1.0}, 0.0)[0][0] == "a"  # weight 0: the first reader only
    # a label the first reader does not rank (DIET ranks its top 10 only) counts as FLOOR there
    only_second = dict(geometric_mix({"a": 1.0}, {"a": 0.5, "z": 0.5}, 0.7))
    assert only_second["z"] < 0.02
    assert math.isclose(sum(only_second.values()), 1.0)
    assert geometric_mix({}, {}, 0.7) == []


def test_blend_turns_a_confident_wrong_topic_around_when_the_second_reader_is_sure():
    intents, topics = blend([("faq", 0.99), ("list_orders", 0.01)],
                            [("faq/repayment", 0.6), ("faq/term", 0.4)],
                            {"faq/term": 0.9, "faq/repayment": 0.05, "list_orders": 0.05}, 0.7)
    assert intents[0][0] == "faq" and topics[0][0] == "faq/term"
    assert FLOOR < topics[1][1] < topics[0][1]


def test_the_component_blends_rankings_and_points_the_answer_at_the_new_topic(reader):
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import LinearSecondOpinion

    comp = LinearSecondOpinion({"weight": 0.7}, reader=reader,
                               responses={"utter_faq/term": [{"text": "Up to six months."}]})
    rs = {"faq": {"response": {"intent_response_key": "faq/lender", "utter_action": "utter_faq/lender",
                               "responses": [{"text": "The lender is ..."}], "confidence": 0.5},
                  "ranking": [{"intent_response_key": "faq/lender", "confidence": 0.5},
                              {"intent_response_key": "faq/term", "confidence": 0.45}]}}
    message = Message(data={"text": "how long can I finance this order", "intent": {"name": "faq", "confidence": 0.9},
                            "intent_ranking": [{"id": 1, "name": "faq", "confidence": 0.9},
                                               {"id": 2, "name": "list_orders", "confidence": 0.1}],
                            "response_selector": rs})
    comp.process([message])
    assert message.get("intent")["name"] == "faq" and message.get("intent")["id"] == 1
    response = message.get("response_selector")["faq"]["response"]
    assert response["intent_response_key"] == "faq/term" and response["utter_action"] == "utter_faq/term"
    assert response["responses"] == [{"text": "Up to six months."}]
    ranking = message.get("response_selector")["faq"]["ranking"]
    assert ranking[0]["intent_response_key"] == "faq/term" and ranking[0]["confidence"] == response["confidence"]
    assert math.isclose(sum(r["confidence"] for r in message.get("intent_ranking")), 1.0, rel_tol=1e-6)


def test_the_component_without_a_reader_or_with_weight_0_changes_nothing(reader):
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import LinearSecondOpinion

    data = {"text": "who lends", "intent": {"name": "greet", "confidence": 0.9},
            "intent_ranking": [{"name": "greet", "confidence": 0.9}]}
    for comp in (LinearSecondOpinion({}), LinearSecondOpinion({"weight": 0}, reader=reader)):
        message = Message(data=dict(data))
        comp.process([message])
        assert message.get("intent") == {"name": "greet", "confidence": 0.9}


def test_a_message_either_reader_puts_out_of_scope_stays_out_of_scope():
    """The scope veto: DIET sure of a topic for trivia ("how many continents are there" -> the
    term, at 1.0) is not enough; the second reader must see a Pay Later question too, and the
    other way round."""
    diet_sure = [("faq", 0.999), ("out_of_scope", 0.001)]
    linear_says_off = {"out_of_scope": 0.6, "faq/term": 0.4}
    intents, _ = blend(diet_sure, [("faq/term", 1.0)], linear_says_off, 0.7)
    assert intents[0] == ("out_of_scope", 1.0) and [k for k, _ in intents].count("out_of_scope") == 1
    intents, _ = blend([("out_of_scope", 0.7), ("faq", 0.3)], [("faq/term", 1.0)], {"faq/term": 0.99, "out_of_scope": 0.01}, 0.7)
    assert intents[0] == ("out_of_scope", 1.0)
    # both see a Pay Later question: no veto; and the veto can be switched off
    intents, _ = blend(diet_sure, [("faq/term", 1.0)], {"faq/term": 0.9, "out_of_scope": 0.1}, 0.7)
    assert intents[0][0] == "faq"
    intents, _ = blend(diet_sure, [("faq/term", 1.0)], linear_says_off, 0.7, scope_veto=False)
    assert intents[0][0] == "faq"


# ------------------------------------------------------------------ round 9: sentence embeddings
def _bag_encoder(texts):
    """A stand-in encoder for the reader's own logic (the real one: tests/nlu_data/test_minilm.py):
    a normalised bag of hashed words, deterministic."""
    out = np.zeros((len(texts), 16))
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, sum(map(ord, w)) % 16] += 1.0
        out[i] /= np.linalg.norm(out[i]) or 1.0
    return out


def test_with_embeddings_the_reader_scores_ngrams_plus_the_scaled_embedding(tmp_path: Path):
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = zip(*EXAMPLES)
    seen = []
    enc = lambda ts: (seen.append(list(ts)), _bag_encoder(ts))[1]
    r = LinearReader.fit(list(texts), list(labels), C=30.0, embed_scale=2.0, encoder=enc)
    vw = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", sublinear_tf=True)
    vc = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    X = hstack([vw.fit_transform(texts), vc.fit_transform(texts), csr_matrix(_bag_encoder(texts) * 2.0)]).tocsr()
    clf = LogisticRegression(C=30.0, max_iter=3000).fit(X, labels)
    probe = ["who is the lender of my loan", "a 6 month term?"]
    expected = clf.predict_proba(hstack([vw.transform(probe), vc.transform(probe),
                                         csr_matrix(_bag_encoder(probe) * 2.0)]).tocsr())
    for text, row in zip(probe, expected):  # warm-started from the n-gram fit: the same optimum,
        got = r.probabilities(text)          # to the solver's tolerance
        assert np.allclose([got[c] for c in clf.classes_], row, atol=1e-4)
    # a long message: its focus and its whole text are encoded in one call
    seen.clear()
    r.probabilities(LONG)
    assert seen == [[focus_text(LONG), LONG]]
    # saved and loaded with an encoder: the same numbers; without one it refuses, it does not guess
    r.save(tmp_path)
    assert LinearReader.load(tmp_path, _bag_encoder).probabilities(LONG) == r.probabilities(LONG)
    with pytest.raises(ValueError):
        LinearReader.load(tmp_path)
    with pytest.raises(ValueError):
        LinearReader.fit(list(texts), list(labels), embed_scale=1.0)


def test_settled_when_both_readers_name_the_same_label_surely():
    from bot.nlu.linear import settled

    diet = ([("faq", 0.98), ("greet", 0.02)], [("faq/term", 0.95), ("faq/lender", 0.05)])
    sure = {"faq/term": 0.97, "greet": 0.03}
    assert settled(diet, sure, blend(*diet, sure, 0.7), 0.9)
    # the linear reader names another topic, or the blend is not sure enough, or a veto
    other = {"faq/lender": 0.97, "greet": 0.03}
    assert not settled(diet, other, blend(*diet, other, 0.7), 0.9)
    unsure = {"faq/term": 0.55, "greet": 0.45}
    assert not settled(diet, unsure, blend(*diet, unsure, 0.7), 0.9)
    off = {"out_of_scope": 0.8, "faq/term": 0.2}
    assert not settled(diet, off, blend(*diet, off, 0.7), 0.9)
    # an account intent: no topic needed
    acct = ([("list_orders", 0.99)], [("faq/term", 0.4)])
    assert settled(acct, {"list_orders": 0.98, "faq/term": 0.02}, blend(*acct, {"list_orders": 0.98, "faq/term": 0.02}, 0.7), 0.9)


def test_the_component_encodes_only_what_the_cheap_readers_do_not_settle(reader):
    """Round 9: the embedding reader (costly: the encoder) reads a message only when DIET and the
    n-gram reader do not settle it together; its reading then replaces the n-gram reader's."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import LinearSecondOpinion

    texts, labels = zip(*EXAMPLES)
    encoded = []
    embedded = LinearReader.fit(list(texts), list(labels), C=30.0, embed_scale=1.0,
                                encoder=lambda ts: (encoded.extend(ts), _bag_encoder(ts))[1])
    comp = LinearSecondOpinion({"weight": 0.7, "settled": 0.9}, reader=reader, embedded=embedded)

    def msg(text, intent, conf, topic=None):
        rs = {"faq": {"response": {"intent_response_key": topic, "confidence": conf},
                      "ranking": [{"intent_response_key": topic, "confidence": conf}]}} if topic else {}
        return Message(data={"text": text, "intent": {"name": intent, "confidence": conf},
                             "intent_ranking": [{"name": intent, "confidence": conf}], "response_selector": rs})

    encoded.clear()
    comp.process([msg("show me my orders", "list_orders", 0.99)])  # both readers agree, sure
    assert encoded == [] and comp.encoded == 0
    unsure = msg("who won the world cup", "faq", 0.99, "faq/lender")  # DIET: the lender; n-grams: off
    comp.process([unsure])
    assert encoded == ["who won the world cup"] and comp.encoded == 1
    assert unsure.get("intent")["name"] == "out_of_scope"
    # settled above 1: every message is read by the embedding reader
    always = LinearSecondOpinion({"weight": 0.7, "settled": 2.0}, reader=reader, embedded=embedded)
    always.process([msg("show me my orders", "list_orders", 0.99)])
    assert always.encoded == 1
