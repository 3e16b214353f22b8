"""Issue 10 checks that need no trained model: the stranger set is never trained on, the clarify
buttons name real answers, and the pure decision helpers (bot.nlu) behave."""
from __future__ import annotations

import csv
import sys
import re
from pathlib import Path

import pytest
import yaml

from bot.nlu.decide import (CHOICES, clarify_candidates, client_mentioned, domain_share, extra_topics, faq_passes,
                             named_topics, question_parts, sure_faq_unsure_topic)
from bot.nlu.focus import question_spans

ROOT = Path(__file__).resolve().parents[2]
STRANGER = ROOT / "tests" / "nlu_stranger"
EXAM = ROOT / "tests" / "nlu_stranger2"
# the third stranger set (written blind on 2026-12-01), the lead's final check: never trained on
STRANGER3 = ROOT / "tests" / "nlu_stranger3"
# the fourth (written blind by s4 on 2026-12-01) to judge the session's changes at the end: never trained on
STRANGER4 = ROOT / "tests" / "nlu_stranger4"
# the fifth (written blind by s5 on 2026-12-01): its confusion kinds (never its texts) were read
# for round 12's data experiment, so it is a dev set now; still never trained on
STRANGER5 = ROOT / "tests" / "nlu_stranger5"
DEV = ROOT / "tests" / "nlu_dev"
KINDS = ("article.yml", "long.yml", "off_topic.txt", "multi.tsv")
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())


def norm(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\{[^}]+\}", r"\1", text)
    return re.sub(r"[^a-z0-9$]+", " ", text.lower()).strip()


def examples(path: Path):
    for block in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
        if "intent" in block:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    yield line.strip()[2:]


def stranger_texts(*names, root=STRANGER):
    out = set()
    for name in names:
        path = root / name
        if name.endswith(".yml"):
            out |= {norm(t) for t in examples(path)}
        elif name.endswith(".tsv"):
            out |= {norm(r[1]) for r in csv.reader(path.open(), delimiter="\t") if len(r) > 1}
        else:
            out |= {norm(l) for l in path.read_text().splitlines() if l.strip() and not l.startswith("#")}
    return out


def test_stranger_set_is_present():
    for name in ("article.yml", "long.yml", "off_topic.txt", "multi.tsv"):
        assert (STRANGER / name).exists(), name


# account.yml, chitchat.yml and faq.yml predate the stranger set: their short questions ("what
# is pay later") collide with it by nature. Every file written since is checked (this test once
# covered two of them, and a copy sat in account_rules.yml).
WRITTEN_BEFORE_THE_STRANGER_SET = {"account.yml", "chitchat.yml", "faq.yml"}


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "data" / "nlu").glob("*.yml")
                                        if p.name not in WRITTEN_BEFORE_THE_STRANGER_SET))
def test_issue10_training_data_copies_nothing_from_the_stranger_set(name):
    seen = stranger_texts("article.yml", "long.yml", "off_topic.txt", "multi.tsv")
    copied = [t for t in examples(ROOT / "data" / "nlu" / name) if norm(t) in seen]
    assert not copied, copied


def test_no_training_example_is_a_stranger_long_or_two_question_message():
    seen = stranger_texts("long.yml", "multi.tsv")
    copied = [t for p in (ROOT / "data" / "nlu").glob("*.yml") for t in examples(p) if norm(t) in seen]
    assert not copied, copied


def test_the_dev_set_is_never_trained_on():
    """tests/nlu_dev/ (the team's stranger-style dev set) guides what data to add: its texts
    themselves never go into data/nlu/."""
    seen = stranger_texts("article.yml", "long.yml", "off_topic.txt", "multi.tsv", root=DEV)
    assert len(seen) > 250
    copied = [t for p in (ROOT / "data" / "nlu").glob("*.yml") for t in examples(p) if norm(t) in seen]
    assert not copied, copied


def test_the_third_stranger_set_is_never_trained_on():
    """tests/nlu_stranger3/ is the honest check at the end: no training file holds one of its
    texts. A failure names the training example only (it equals an evaluation text)."""
    seen = stranger_texts("article.yml", "long.yml", "off_topic.txt", "multi.tsv", root=STRANGER3)
    assert len(seen) > 500
    copied = [t for p in (ROOT / "data" / "nlu").glob("*.yml") for t in examples(p) if norm(t) in seen]
    assert not copied, copied


def test_the_third_stranger_set_shares_no_text_with_the_other_evaluation_sets():
    """An independent check: none of its texts is a text of the exam, the spent stranger set, the
    dev set, the held-out split or the blind set (the team has seen some of those texts in
    confusion lists). A failure names only stranger3's texts."""
    other = stranger_texts(*KINDS) | stranger_texts(*KINDS, root=DEV) | stranger_texts(*KINDS, root=EXAM)
    for folder in (ROOT / "tests" / "nlu", ROOT / "tests" / "nlu_blind"):
        for path in folder.glob("*.yml"):
            other |= {norm(t) for t in examples(path)}
        for path in folder.glob("*.txt"):
            other |= {norm(l) for l in path.read_text().splitlines() if l.strip() and not l.startswith("#")}
    shared = sorted(stranger_texts(*KINDS, root=STRANGER3) & other)
    assert not shared, shared


def _evaluation_texts_besides(*skip):
    """Normalised texts of every evaluation set except the folders in `skip` (never printed)."""
    texts = set()
    for root in (STRANGER, DEV, EXAM, STRANGER3, STRANGER4, STRANGER5):
        if root not in skip:
            texts |= stranger_texts(*KINDS, root=root)
    for folder in (ROOT / "tests" / "nlu", ROOT / "tests" / "nlu_blind"):
        for path in folder.glob("*.yml"):
            texts |= {norm(t) for t in examples(path)}
        for path in folder.glob("*.txt"):
            texts |= {norm(l) for l in path.read_text().splitlines() if l.strip() and not l.startswith("#")}
    return texts


@pytest.mark.parametrize("root, at_least", [(STRANGER4, 600), (STRANGER5, 500)], ids=["stranger4", "stranger5"])
def test_the_fourth_and_fifth_stranger_sets_are_never_trained_on(root, at_least):
    """tests/nlu_stranger4/ judges the session's changes at the end, tests/nlu_stranger5/ is a dev
    set (round 12 read its confusion kinds): no training file (any file under data/nlu/) holds one
    of their texts, nor a near copy (0.6 token Jaccard or more; each was written to be clear of
    every training example). A failure names the training example only."""
    seen = stranger_texts(*KINDS, root=root)
    assert len(seen) > at_least
    near_sets = [set(t.split()) for t in seen if t]
    copied, near = [], []
    for path in sorted((ROOT / "data" / "nlu").rglob("*.yml")):
        for t in examples(path):
            if norm(t) in seen:
                copied.append(t)
                continue
            a = _words(t)
            score = max(len(a & b) / len(a | b) for b in near_sets) if a else 0.0
            if score >= 0.6:
                near.append((round(score, 2), t))
    assert not copied, copied
    assert not near, near


@pytest.mark.parametrize("root", [STRANGER4, STRANGER5], ids=["stranger4", "stranger5"])
def test_the_fourth_and_fifth_stranger_sets_share_no_text_with_the_other_evaluation_sets(root):
    """None of their texts is a text of the exam, stranger3, the other of the two, the spent
    stranger set, the dev set, the held-out split or the blind set. A failure names only the
    set's own texts."""
    other = _evaluation_texts_besides(root)
    shared = sorted(stranger_texts(*KINDS, root=root) & other)
    assert not shared, shared


def test_every_clarify_button_names_a_real_answer():
    intents = set(DOMAIN["intents"])
    for label, (title, payload) in CHOICES.items():
        if label.startswith("faq/"):
            assert f"utter_{label}" in DOMAIN["responses"], label
            assert not payload.startswith("/"), label  # Rasa 3.6 cannot route /faq/<topic>
        else:
            assert label in intents and payload == f"/{label}", label
        assert title and title[0].isupper()


@pytest.mark.parametrize("text, expected", [
    ("how do I pay in the app", "app"), ("using the mobile app", "app"), ("I'm on my phone", "app"),
    ("on the website instead?", "web"), ("I'm on my laptop", "web"), ("from my computer", "web"),
    ("in the app or on the website?", "both"), ("how do I apply", None), ("application status", None),
    ("what is pay later", None),
])
def test_client_mentioned(text, expected):
    assert client_mentioned(text) == expected


@pytest.mark.parametrize("text, n", [
    ("what is it and who lends", 2), ("the most I can borrow and for how long", 2),
    ("is there a fee? what currency?", 2), ("who lends the money", 1), ("terms and conditions", 1),
    # two questions side by side: a comma or full stop after a clause that itself asks
    ("what's the limit, how long can I take it", 2), ("what is it. who lends", 2),
    ("is there a fee, what currency", 2), ("whats the fee. also, how long", 2),
    ("what's the fee, and is there a limit", 2), ("the fee and your term?", 2),
    # one question with a statement or condition before the comma stays whole
    ("I'm in the UK, can I use pay later", 1), ("we are a US company. do we qualify", 1),
    ("if I'm approved, how long is the term", 1), ("when I apply, what do I need", 1),
    ("hi, what is pay later", 1), ("ok, how do I pay", 1),
])
def test_question_parts(text, n):
    assert len(question_parts(text)) == n


def test_two_questions_side_by_side_keep_their_words():
    assert question_parts("what's the limit, how long can I take it") == ["what's the limit", "how long can I take it"]
    assert question_parts("what is it. who lends") == ["what is Pay Later", "who lends"]
    assert question_parts("when do I pay, and how much") == ["when do I pay", "how much"]


def test_a_clause_asking_what_it_is_asks_about_pay_later():
    assert question_parts("what is it and who lends") == ["what is Pay Later", "who lends"]
    assert question_parts("whats this? how does it work?") == ["what is Pay Later", "how does Pay Later work"]
    assert question_parts("who painted it and who sold it") == ["who painted it", "who sold it"]


VOCAB = {"pay", "later", "lender", "lends", "kabbage", "credit", "limit", "borrow", "financing", "ceiling"}


@pytest.mark.parametrize("text, share", [
    ("who painted the sistine chapel ceiling", 0.25),   # painted, sistine, chapel unknown
    ("who lends the money for pay later?", 0.75),        # money unknown
    ("finacing?", 1.0),                                  # a typo of a known word counts
    ("can I borrow $25,000?", 1.0),                      # amounts are neither known nor unknown
    ("and?", 1.0),                                       # no content word: nothing to judge
])
def test_domain_share(text, share):
    assert domain_share(text, VOCAB) == pytest.approx(share)


def test_guard_sends_a_pay_later_reading_of_unknown_words_to_not_here():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import RetrievalGuard

    guard = RetrievalGuard({"min_known_share": 0.3}, vocab=VOCAB)

    def run(text, intent, topic=("faq/lender", 0.95)):
        m = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.99},
                          "intent_ranking": [{"name": intent, "confidence": 0.99}],
                          "response_selector": {"faq": {"ranking": [
                              {"intent_response_key": topic[0], "confidence": topic[1]}]}}})
        return guard.process([m])[0].get("intent")["name"]

    assert run("who painted the sistine chapel ceiling", "faq") == "out_of_scope"
    assert run("give me the sistine chapel ceiling painter", "credit_line") == "out_of_scope"
    assert run("who lends the money for pay later?", "faq") == "faq"
    assert run("who painted the sistine chapel ceiling", "greet") == "greet"  # not a Pay Later reading
    assert RetrievalGuard({"min_known_share": 0.3}).process(  # no vocabulary (older model): off
        [Message(data={"text": "who painted it", "intent": {"name": "credit_line", "confidence": 0.9}})]
    )[0].get("intent")["name"] == "credit_line"


def parse(intent_conf, topics, intents=None):
    return {"text": "what is it and who lends", "intent": {"name": "faq", "confidence": intent_conf},
            "intent_ranking": intents or [{"name": "faq", "confidence": intent_conf}],
            "response_selector": {"faq": {"ranking": [{"intent_response_key": k, "confidence": c} for k, c in topics]}}}


def test_guard_needs_intent_and_topic_to_agree():
    assert faq_passes(parse(0.9, [("faq/lender", 0.9)]))
    assert not faq_passes(parse(0.9, [("faq/lender", 0.2), ("faq/term", 0.19)]))
    assert not faq_passes(parse(0.3, [("faq/lender", 0.9)]))


def test_clarify_offers_close_readings_and_never_for_off_topic():
    p = parse(0.5, [("faq/first_month_credit", 0.9)], [{"name": "faq", "confidence": 0.5},
                                                          {"name": "credit_line", "confidence": 0.4}])
    assert clarify_candidates(p) == ["faq/first_month_credit", "credit_line"]
    off = parse(0.5, [("faq/lender", 0.9)], [{"name": "out_of_scope", "confidence": 0.6},
                                              {"name": "faq", "confidence": 0.3}])
    assert clarify_candidates(off) == []


def fell_back(intent_conf, topics, text="can I pay in the app with pay later for a 3 month loan?", top="faq"):
    """A parse the RetrievalGuard sent to nlu_fallback (it keeps the classifier's ranking under it)."""
    return {"text": text, "intent": {"name": "nlu_fallback", "confidence": intent_conf},
            "intent_ranking": [{"name": "nlu_fallback", "confidence": intent_conf},
                               {"name": top, "confidence": intent_conf}, {"name": "check_pay_later", "confidence": 0.0}],
            "response_selector": {"faq": {"ranking": [{"intent_response_key": k, "confidence": c} for k, c in topics]}}}


UNSURE_TOPICS = [("faq/repayment", 0.16), ("faq/loan_fees", 0.08), ("faq/term", 0.07), ("faq/currency", 0.05),
                 ("faq/how_to_pay", 0.04)]


def test_a_sure_faq_question_with_an_unsure_topic_is_clarified_not_refused():
    # the widget's "can I pay in the app ... for a 3 month loan?": faq 1.00, best topic 0.16, so
    # no reading reaches min_best 0.2; the buyer's words name the term and where they pay
    p = fell_back(1.0, UNSURE_TOPICS)
    assert sure_faq_unsure_topic(p)
    assert clarify_candidates(p) == ["faq/term", "faq/how_to_pay", "faq/repayment"]
    # words that name no topic: the selector's best three
    plain = fell_back(1.0, UNSURE_TOPICS, text="how does this part work for us")
    assert clarify_candidates(plain) == ["faq/repayment", "faq/loan_fees", "faq/term"]
    # a named topic outside the selector's ranking is still offered, the selector's best kept
    assert clarify_candidates(fell_back(1.0, UNSURE_TOPICS[:2], text="is it in euros")) == [
        "faq/currency", "faq/repayment", "faq/loan_fees"]


def test_the_topics_the_buyer_named_lead_even_when_a_guess_reaches_min_best():
    # round 8's blended rankings for the widget sentence: faq 0.98, currency 0.24, loan fees 0.24,
    # term 0.18; 0.98 x 0.24 passes min_best 0.2, but the buyer named the term and the app
    blended = fell_back(0.984, [("faq/currency", 0.243), ("faq/loan_fees", 0.238), ("faq/term", 0.182),
                                ("faq/repayment", 0.09)])
    assert clarify_candidates(blended) == ["faq/term", "faq/how_to_pay", "faq/currency"]


def test_only_a_sure_faq_reading_that_fell_back_gets_the_topic_buttons():
    assert clarify_candidates(fell_back(0.6, UNSURE_TOPICS)) == []  # the intent is not sure either
    assert not sure_faq_unsure_topic(fell_back(0.6, UNSURE_TOPICS))
    # trivia: the vocabulary check put out_of_scope on top of the ranking
    trivia = fell_back(1.0, UNSURE_TOPICS, text="who painted the mona lisa")
    trivia["intent"] = {"name": "out_of_scope", "confidence": 1.0}
    trivia["intent_ranking"][0] = {"name": "out_of_scope", "confidence": 1.0}
    assert clarify_candidates(trivia) == [] and not sure_faq_unsure_topic(trivia)
    # an answered FAQ (e.g. a core fallback after it) is not this case
    answered = {**fell_back(1.0, UNSURE_TOPICS), "intent": {"name": "faq", "confidence": 1.0}}
    assert not sure_faq_unsure_topic(answered)
    # a sure reading of another intent that fell back is not a FAQ question
    assert clarify_candidates(fell_back(1.0, UNSURE_TOPICS, top="greet")) == []
    # one topic only: nothing to choose between
    assert clarify_candidates(fell_back(1.0, UNSURE_TOPICS[:1], text="how does this part work")) == []
    # off (sure_faq above 1): the old rule alone
    assert clarify_candidates(fell_back(1.0, UNSURE_TOPICS), {"sure_faq": 1.1}) == []


def test_the_nlu_check_scores_the_new_clarify_as_the_bot_does():
    """bot.nlu_check.behaviour mirrors action_fallback: a clarify (never a right answer), named
    "sure_faq", also when the sweep simulates the fallback on a parse that was answered."""
    from bot import nlu_check

    b = nlu_check.behaviour(fell_back(1.0, UNSURE_TOPICS))
    assert b["kind"] == "clarify" and b["why"] == "sure_faq" and b["candidates"][0] == "faq/term"
    assert not nlu_check.answered(b, "faq/term") and not nlu_check.is_pay_later_answer(b)
    answered = {**fell_back(1.0, UNSURE_TOPICS), "intent": {"name": "faq", "confidence": 1.0}}
    assert nlu_check.behaviour(answered, "nlu_fallback")["why"] == "sure_faq"
    assert nlu_check.behaviour(fell_back(0.45, UNSURE_TOPICS))["kind"] == "no_answer"


@pytest.mark.parametrize("text, expected", [
    ("can I pay in the app with pay later for a 3 month loan?", ["faq/term", "faq/how_to_pay"]),
    ("could we stretch it to six months", ["faq/term"]),
    ("a 12-month plan?", ["faq/term"]),
    ("is it a 1 year loan", ["faq/term"]),
    ("we have been in business 2 years, do we qualify", []),  # the eligibility rule's years
    ("who is the lender", ["faq/lender"]),
    ("does it take dollars only", ["faq/currency"]),
    ("on my laptop where do I click", ["faq/how_to_pay"]),
    ("how do I apply", []),
    ("is there a processing fee", []),
])
def test_named_topics_come_from_the_articles_facts(text, expected):
    assert named_topics(text) == expected


def test_extra_topics_only_from_confident_clauses():
    lender = parse(0.95, [("faq/lender", 0.9)])
    unsure = parse(0.95, [("faq/term", 0.3)])
    first = parse(0.95, [("faq/what_is_pay_later", 0.9)])
    assert extra_topics("faq/what_is_pay_later", [first, lender]) == ["faq/lender"]
    assert extra_topics("faq/what_is_pay_later", [first, unsure]) == []
    assert extra_topics("faq/lender", [lender]) == []


def test_question_focus_keeps_the_question_sentence_of_a_long_message():
    text = ("We have bought from the same supplier for two years and everything went fine. "
            "Our accountant wants to change how we pay. Anyway, can I pay in RMB?")
    spans = question_spans(text)
    assert [text[s:e].strip() for s, e in spans] == ["Anyway, can I pay in RMB?"]
    assert question_spans("can I pay in RMB?") is None


def test_question_focus_can_keep_the_sentence_the_question_points_to():
    text = ("We are based in the Netherlands and our wires are slow and expensive. "
            "I heard there is a local bank transfer option for European buyers. How does that work?")
    spans = question_spans(text, context=1)
    assert [text[s:e].strip() for s, e in spans] == [
        "I heard there is a local bank transfer option for European buyers.", "How does that work?"]


def test_question_focus_does_not_split_a_sentence_at_a_decimal_point():
    text = ("I do the bookkeeping for a family-owned hardware store and our season starts soon. "
            "Anyway, if I borrow $12,500.00 over three months how much do I pay back in the end?")
    spans = question_spans(text)
    assert [text[s:e].strip() for s, e in spans] == [
        "Anyway, if I borrow $12,500.00 over three months how much do I pay back in the end?"]


def test_question_focus_keeps_the_sentence_that_names_the_order():
    text = ("We bought cable from a factory in Ningbo last month, order TA-100245, for a hotel job. "
            "The weather has been awful here and the site is closed. Has the supplier been paid yet?")
    spans = question_spans(text)
    assert [text[s:e].strip() for s, e in spans] == [
        "We bought cable from a factory in Ningbo last month, order TA-100245, for a hotel job.",
        "Has the supplier been paid yet?"]


def test_bench_scores_every_set_with_the_nlu_check_definitions():
    from bench import understanding

    def says_not_here(text):
        return {"text": text, "intent": {"name": "out_of_scope", "confidence": 0.9},
                "intent_ranking": [{"name": "out_of_scope", "confidence": 0.9}]}

    result = understanding.evaluate_sets(says_not_here)
    m = result["metrics"]
    assert result["problems"] == []
    assert m["stranger.off_topic_kept_out"] == 1.0 and m["held_out.oos_kept_out"] == 1.0
    assert m["stranger.article_answered_right"] == 0.0 and m["stranger.multi_all_answered"] == 0.0
    assert set(result["confusions"]) == {"held_out", "blind", "stranger_article", "stranger_long"}


def _check_with_every_message_not_here(tmp_path, monkeypatch, capsys, *flags):
    """bot.nlu_check.main with a model that reads every message as out of scope: (what it printed,
    its JSON result)."""
    from bot import nlu_check

    async def says_not_here(model, texts):
        return ([{"text": t, "intent": {"name": "out_of_scope", "confidence": 0.9},
                  "intent_ranking": [{"name": "out_of_scope", "confidence": 0.9}]} for t in texts],
                nlu_check.project_labels(ROOT / "domain.yml"))

    monkeypatch.setattr(nlu_check, "parse_all", says_not_here)
    monkeypatch.chdir(ROOT)
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    out = tmp_path / "out"
    nlu_check.main(["--model", str(model), "--out", str(out), "--no-fail", *flags])
    return capsys.readouterr().out, __import__("json").loads((out / "nlu_check.json").read_text())


def _prints_none_of_its_texts(printed, folder):
    """No printed line holds one of the set's texts, unless it holds it inside another evaluation
    set's text that is printed (a longer message of the spent stranger set that happens to contain
    a short question of this one)."""
    texts = [t for t in stranger_texts(*KINDS, root=folder) if len(t) > 20]
    shown = {norm(line) for line in printed.splitlines()}
    other = None
    for t in texts:
        for line in shown:
            if t in line:
                other = other if other is not None else _evaluation_texts_besides(folder)
                if not any(t in o and o in line for o in other):
                    return False
    return True


def test_the_third_stranger_set_is_reported_by_its_totals_only(tmp_path, monkeypatch, capsys):
    """--stranger3 parses the set with the others and prints its totals (stranger3.*), never a
    text from it; the JSON keeps the totals only; every gate it has names one of those totals."""
    from bot import nlu_check

    printed, result = _check_with_every_message_not_here(tmp_path, monkeypatch, capsys, "--stranger3", str(STRANGER3))
    s3 = result["stranger3"]
    assert s3["stranger3.off_topic_kept_out"] == 1.0 and s3["stranger3.article_answered_right"] == 0.0
    assert s3["stranger3.article_questions"] >= 240 and s3["stranger3.off_topic_messages"] >= 150
    assert all(isinstance(v, (int, float)) for v in s3.values())
    assert "stranger3.long_answered_right" in printed
    assert _prints_none_of_its_texts(printed, STRANGER3)
    # its gates are its own (STRANGER3_GATES), checked only when the set is named
    assert not any("stranger3" in k for k in nlu_check.GATES) and not any("stranger3" in k for k in nlu_check.EXAM_GATES)
    assert set(nlu_check.STRANGER3_GATES) <= set(s3)


@pytest.mark.parametrize("name, root, article, off_topic, long_, multi, not_named", [
    ("stranger4", STRANGER4, 245, 150, 80, 40, "stranger3"),
    ("stranger5", STRANGER5, 220, 130, 80, 30, "stranger4"),
])
def test_the_fourth_and_fifth_stranger_sets_are_reported_by_their_totals_only(
        tmp_path, monkeypatch, capsys, name, root, article, off_topic, long_, multi, not_named):
    """--stranger4 / --stranger5 parse the set with the others and print its totals (<name>.*),
    never a text from it; the JSON keeps the totals only; its gates (STRANGER4_GATES /
    STRANGER5_GATES) name only those totals, and no other gate table names it."""
    from bot import nlu_check

    printed, result = _check_with_every_message_not_here(tmp_path, monkeypatch, capsys, f"--{name}", str(root))
    totals = result[name]
    assert totals[f"{name}.off_topic_kept_out"] == 1.0 and totals[f"{name}.article_answered_right"] == 0.0
    assert totals[f"{name}.article_questions"] >= article and totals[f"{name}.off_topic_messages"] >= off_topic
    assert totals[f"{name}.long_messages"] >= long_ and totals[f"{name}.multi_messages"] >= multi
    assert all(k.startswith(f"{name}.") and isinstance(v, (int, float)) for k, v in totals.items())
    assert result[not_named] == {}  # not named: not parsed
    assert f"{name}.long_answered_right" in printed
    assert _prints_none_of_its_texts(printed, root)
    own = {"stranger4": nlu_check.STRANGER4_GATES, "stranger5": nlu_check.STRANGER5_GATES}
    others = [nlu_check.GATES, nlu_check.EXAM_GATES, nlu_check.STRANGER3_GATES,
              *(gates for n, gates in own.items() if n != name)]
    assert not any(name in k for gates in others for k in gates)
    assert set(own[name]) <= set(totals)


def test_a_missing_evaluation_file_is_a_failure_not_a_pass(tmp_path):
    from bot import nlu_check

    held = tmp_path / "nlu"
    held.mkdir()
    (held / "held_out.yml").write_text((ROOT / "tests" / "nlu" / "held_out.yml").read_text())
    sets, problems = nlu_check.load_sets(held, tmp_path / "no_blind", tmp_path / "no_stranger")
    assert sets["held"] and sets["held_oos"] == []
    assert any("out_of_scope_messages.txt" in p for p in problems)
    assert sum("missing evaluation file" in p for p in problems) == 6


def _words(text: str) -> set:
    return set(norm(text).split())


@pytest.mark.parametrize("name", ["out_of_scope_round5.yml", "faq_round5.yml",
                                  "account_round6.yml", "out_of_scope_round6.yml",
                                  "faq_round6.yml", "faq_round7.yml", "account_round7.yml",
                                  "out_of_scope_round7.yml"])
def test_round5_examples_are_not_near_any_evaluation_text(name):
    """Examples written since round 5 (after the stranger set was found contaminated) are not
    within 0.6 token Jaccard of any stranger, exam, stranger3, stranger4, dev, held-out or blind
    text: a new question, not a one-word swap of an evaluation text. The exam's texts are read here only, never
    printed: a failure names the training example and its score, not the text it is near."""
    texts = _evaluation_texts_besides()
    evaluation = [set(t.split()) for t in texts if t]
    near = []
    for example in examples(ROOT / "data" / "nlu" / name):
        a = _words(example)
        score = max(len(a & b) / len(a | b) for b in evaluation)
        if score >= 0.6:
            near.append((round(score, 2), example))
    assert not near, near
