"""NLU check on text the model never saw: the held-out split (tests/nlu/), the blind set
(tests/nlu_blind/) and the stranger set (tests/nlu_stranger/: written by someone who never read
data/). None of them is ever used for training (tests/nlu_data/ checks there is no overlap).

    python -m bot.nlu_check --model models/paylater.tar.gz --data tests/nlu \
        --blind tests/nlu_blind --stranger tests/nlu_stranger --out results/nlu

Loads the trained model (rasa.core.agent.Agent), parses every message and reports, per set:

* intent accuracy (base intents, `faq` as one) and label accuracy (`faq/<topic>` and intents);
* "answered right": what the bot does with the parse (bot.nlu.decide: the guard, clarify, the
  second answer of a two-question message) gives the needed answer. The predicted label must be
  the gold label or one of its small EQUIVALENT answers below; a clarify question is not an
  answer (it is counted in the clarify rate);
* per-topic answered-right, the clarify rate, and a confusion list (gold -> what it got);
* off-topic kept out: the share of off-topic messages that get no Pay Later answer (the honest
  "not here", a fallback, a clarify question, or a chit-chat reply);
* multi-question coverage (stranger multi.tsv): the share of two-question messages whose every
  asked label is answered, and the share of asked labels answered;
* entity accuracy on the held-out split, and sweeps of the FallbackClassifier threshold and the
  RetrievalGuard's topic threshold, simulated from the raw rankings, to tune them on data.

Labels the model does not know (e.g. a new intent not merged yet) are counted as unscorable and
left out. The exam (--exam, tests/nlu_stranger2/), the third stranger set (--stranger3
tests/nlu_stranger3/, off unless named; `make test` names it) and the fourth (--stranger4
tests/nlu_stranger4/, off unless named) are reported by their totals only; so is the fifth
(--stranger5 tests/nlu_stranger5/, off unless named), whose confusion kinds were read for round 12.
Exits 1 when a figure is below GATES (set a few points under what was measured: a
regression fails `make test`) or when an evaluation file is missing; 2 on usage errors.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bot.nlu import decide  # noqa: E402  (pure functions, no framework imports)

# Minimums (maximum for *leak*) the check enforces: what the final model measured minus about
# 0.03, so a regression of a few points fails CI (docs/ADDING_AN_FAQ.md, "NLU gates").
GATES: Dict[str, float] = {
    # measured on the round-9 model of 2026-12-01 (round 8 + the embedding reader for what DIET and
    # the n-gram reader do not settle: `make train` 13:17, docs/ADDING_AN_FAQ.md "Round 9") -> gate,
    # about 0.03 under. In the comments: r9 figure (r8 = round 8 retrained on this machine 12:30;
    # r7 = DIET alone, retrained on the previous machine 09:52).
    "held_out.intent_accuracy": 0.955,           # r9 0.989; r8 0.965
    "held_out.label_accuracy": 0.945,            # r9 0.975; r8 0.949
    "held_out.answered_right": 0.95,             # r9 0.982; r8 0.956; r7 0.952
    # r11 1.000 (41 entities: one miss passes, two fail): the amount is bot.parsing's reading
    # (AmountExtractor); with DIET's tags it was 0.951 at 50 epochs and 0.927 at 40
    "held_out.entity_accuracy": 0.97,
    "held_out.oos_kept_out": 0.96,               # r8 1.000 (32 messages: one leak passes, two fail)
    "blind.answered_right": 0.955,               # r9 0.987; r8 0.973; r7 0.968
    "stranger.article_answered_right": 0.945,    # r9 0.979 (329); r8 0.951; r7 0.933
    "stranger.long_answered_right": 0.935,       # r9 0.965 (86: two more misses pass, three fail); r8 0.953
    "stranger.off_topic_kept_out": 0.97,         # r8 1.000 (123: three leaks pass, four fail); r7 0.943
    # two questions: r8 0.625 / 0.813, then 0.688 / 0.844 with the side-by-side split and account
    # actions answering a second FAQ question (helper multi, docs/ADDING_AN_FAQ.md)
    "stranger.multi_all_answered": 0.65,         # 0.688 (32: one more miss passes, two fail); r7 0.563
    "stranger.multi_label_coverage": 0.81,       # 0.844
    "stranger.clarify_rate_max": 0.04,           # r8 0.005; a maximum: asking too often is a regression too
    "blind.clarify_rate_max": 0.03,              # r8 0.008
    # off-topic messages offered Pay Later buttons (kept out, but a poor reply to trivia); 1 Dec,
    # with the clarify of a sure FAQ question whose topic is unsure: stranger 0.008 (1 of 123), dev 0
    "stranger.off_topic_clarify_rate_max": 0.035,  # four of 123 pass, five fail
    "dev.off_topic_clarify_rate_max": 0.04,        # two of 50 pass, three fail
    # the team's own dev set (tests/nlu_dev/)
    "dev.article_answered_right": 0.95,          # r9 0.982 (169); r8 0.982 here (0.976 on the last machine)
    "dev.long_answered_right": 0.96,             # r8 1.000 (28: 27 pass, 26 fail)
    "dev.off_topic_kept_out": 0.96,              # r8 1.000 (50: two leaks pass, three fail)
    "dev.multi_all_answered": 0.90,              # r8 1.000 (12: one miss passes, two fail)
}

# The exam (tests/nlu_stranger2/): a second stranger set, written after the first one was found
# paraphrased in training data, by a writer who never opened data/ or tests/. Only its totals are
# printed and kept (no texts, no per-label list, no confusion list), so nobody writes training
# data from it; gates about 0.03 under the shipped model's figures (filled in at the merge).
EXAM_GATES: Dict[str, float] = {
    # round 4: 0.850 / 0.816 / 0.765 / 0.884 / 0.469; round 5: 0.840 / 0.803 / 0.827 / 0.901 / 0.469;
    # round 6: 0.893 / 0.842 / 0.901 / 0.942 / 0.531; round 7 with length-aware DIET, retrained on this
    # machine 1 Dec 09:52: 0.896 / 0.842 / 0.827 / 0.942 / 0.500; round 8 (linear reader blended,
    # scope veto; read after the choice): 0.910 / 0.836 / 0.877 / 0.975 / 0.500; round 8 retrained on
    # this machine (12:30): 0.913 / 0.836 / 0.889 / 0.984 / 0.531; round 9 (the embedding reader;
    # read once, after its choice): 0.940 / 0.895 / 0.938 / 0.975 / 0.594; round 9 retrained on round
    # 10's machine (same code, data and seeds): 0.940 / 0.895 / 0.938 / 0.975 / 0.531
    "exam.article_answered_right": 0.91,            # r9 0.940 (299)
    "exam.account_dialogue_answered_right": 0.865,  # r9 0.895 (152)
    "exam.long_answered_right": 0.905,              # r9 0.938 (81: two more misses pass, three fail)
    "exam.off_topic_kept_out": 0.945,               # r9 0.975 (121: three more leaks pass, four fail)
    "exam.multi_all_answered": 0.50,                # r9 0.594, 0.531 retrained on another machine (32: the
                                                    # retrain spread is 2 messages; one more miss than 0.531
                                                    # passes, two fail)
}

# The third stranger set (tests/nlu_stranger3/, written blind on 1 Dec after the exam had chosen
# between variants): totals only, like the exam. Gates about 0.03 under the first model it judged
# (round 7, the shipped model of 1 Dec; docs/ADDING_AN_FAQ.md "Round 7 and the concurrent training, merged").
STRANGER3_GATES: Dict[str, float] = {
    # r7 (DIET alone, retrained here 09:52): 0.911 / 0.863 / 0.929 / 0.955 / 0.625 -> r8 0.944 / 0.925 /
    # 0.929 / 0.968 / 0.775 (0.936 / 0.925 / 0.929 / 0.968 / 0.800 retrained on this machine) -> r9:
    "stranger3.article_answered_right": 0.93,          # r9 0.960 (248)
    "stranger3.account_dialogue_answered_right": 0.895, # r9 0.925 (80)
    "stranger3.long_answered_right": 0.935,            # r9 0.965 (85: two more misses pass, three fail)
    "stranger3.off_topic_kept_out": 0.94,              # r9 0.974 (155: four more leaks pass, five fail)
    "stranger3.multi_all_answered": 0.725,             # r9 0.800 (40); r8 0.775 with multi's split
}

# The fourth stranger set (tests/nlu_stranger4/, written blind on 1 Dec by s4 to judge the session's
# changes at the end): totals only, like the exam and stranger3. Gates about 0.03 under the first
# model it judged (round 8), set after that model's choice was made.
STRANGER4_GATES: Dict[str, float] = {
    # first judged round 8 (never looked at before its choice was made): r7 (DIET alone)
    # 0.847 / 0.868 / 0.886 / 0.927 / 0.525 -> r8 (linear reader blended, scope veto) 0.898 / 0.904 /
    # 0.920 / 0.974 / 0.700 (0.913 / 0.904 / 0.932 / 0.974 / 0.700 retrained on this machine) -> r9
    # (the embedding reader; read once, after its choice):
    "stranger4.article_answered_right": 0.905,          # r9 0.937 (254)
    "stranger4.account_dialogue_answered_right": 0.92,  # r9 0.952 (83)
    "stranger4.long_answered_right": 0.92,              # r9 0.955 (88: two more misses pass, three fail)
    "stranger4.off_topic_kept_out": 0.95,               # r9 0.980 (151: four more leaks pass, five fail)
    "stranger4.multi_all_answered": 0.65,               # r9 0.700 (40: two more misses pass, three fail)
}

# The fifth stranger set (tests/nlu_stranger5/, written blind on 1 Dec by s5): its confusion kinds
# (never its texts) were read for a round-12 data experiment (not kept: docs/ADDING_AN_FAQ.md
# "Round 12"), so it is a dev set now; totals only in the report. Gates about 0.03 under round 11's
# model (the shipped one), the first it judged.
STRANGER5_GATES: Dict[str, float] = {
    "stranger5.article_answered_right": 0.89,          # r11 0.923 (221)
    "stranger5.account_dialogue_answered_right": 0.875, # r11 0.906 (64)
    "stranger5.long_answered_right": 0.945,            # r11 0.976 (82: two more misses pass, three fail)
    "stranger5.off_topic_kept_out": 0.92,              # r11 0.947 (133: three more leaks pass, four fail)
    "stranger5.multi_all_answered": 0.75,              # r11 0.8125 (32: two more misses pass, three fail)
}

# The sets reported by their totals only: (name = key prefix and option, gates), in report order.
TOTALS_SETS: Tuple[Tuple[str, Dict[str, float]], ...] = (
    ("exam", EXAM_GATES), ("stranger3", STRANGER3_GATES), ("stranger4", STRANGER4_GATES),
    ("stranger5", STRANGER5_GATES))

# Predicted label -> the gold labels its answer also settles (it states the needed fact first).
# Kept small; tests/nlu_data/test_equivalence.py checks each answer contains the facts.
EQUIVALENT: Dict[str, Set[str]] = {
    # states the eligibility rule (US business, >= 1 year, >= $50,000 revenue)
    "faq/application_requirements": {"faq/eligibility"},
    # "supports USD only, and it pays Trade Assurance orders only"
    "faq/currency": {"faq/trade_assurance_only"},
    # account actions that give the article's general answer before the personal part
    "credit_line": {"faq/credit_limit"},
    "disbursement_status": {"faq/payment_arrival"},
    "loan_cost": {"faq/loan_fees"},
}

NO_ANSWER_INTENTS = {"out_of_scope", "nlu_fallback"}
PAY_LATER_INTENTS = {
    "faq", "list_orders", "order_status", "check_pay_later", "apply_pay_later", "credit_line",
    "application_status", "disbursement_status", "loan_cost", "ask_refund", "report_problem",
}
FALLBACK_SWEEP = [0.3, 0.4, 0.5, 0.6, 0.7]
TOPIC_SWEEP = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7]


# ------------------------------------------------------------------------------ loading
def load_file(path: Path) -> List[Dict[str, Any]]:
    from rasa.shared.nlu.training_data.loading import load_data

    out = []
    td = load_data(str(path))
    for m in td.intent_examples:
        intent = m.get("intent")
        out.append({
            "text": m.get("text"), "intent": intent, "label": m.get("intent_response_key") or intent,
            "entities": [{"entity": e["entity"], "value": m.get("text")[e["start"]:e["end"]]}
                         for e in m.get("entities") or []],
            "file": str(path),
        })
    return out


def load_examples(data_dir: Path) -> List[Dict[str, Any]]:
    examples = []
    for path in sorted(data_dir.rglob("*.yml")) + sorted(data_dir.rglob("*.yaml")):
        examples += load_file(path)
    return examples


def load_oos(data_dir: Path) -> List[str]:
    out = []
    paths = [data_dir] if data_dir.is_file() else sorted(data_dir.rglob("*.txt"))
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def load_multi(path: Path) -> List[Dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 2 or row[0].startswith("#"):
                continue
            rows.append({"labels": [l.strip() for l in row[0].split(",") if l.strip()], "text": row[1].strip()})
    return rows


# ------------------------------------------------------------------------------ behaviour
def raw_top(parse: Dict[str, Any]) -> Tuple[Optional[str], float]:
    """The top intent before the FallbackClassifier / RetrievalGuard replaced it (if they did)."""
    ranking = decide.intent_ranking(parse)
    return ranking[0] if ranking else (None, 0.0)


def faq_topic(parse: Dict[str, Any]) -> Optional[str]:
    topics = decide.topic_ranking(parse)
    return topics[0][0] if topics else None


def predicted_label(parse: Dict[str, Any]) -> str:
    intent = (parse.get("intent") or {}).get("name")
    if intent == "faq":
        return faq_topic(parse) or "faq"
    return intent or "None"


# --baseline: what main's bot did before issue 10 (no clarify buttons, no second answer)
BASELINE = {"on": False}


def behaviour(parse: Dict[str, Any], intent: Optional[str] = None,
              part_parses: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    """What the bot does: answer (labels, in order), clarify (candidates) or no_answer.
    `part_parses`: the parses of the message's question clauses (action_faq_followup)."""
    intent = intent or (parse.get("intent") or {}).get("name")
    if intent == "nlu_fallback" and part_parses and not BASELINE["on"]:
        # action_fallback: a message of several questions answers its confident clauses
        topics = decide.extra_topics(None, part_parses, {"max_extra": decide.MULTI["max_fallback"]})
        if topics:
            return {"kind": "answer", "labels": topics}
    if intent in NO_ANSWER_INTENTS or not intent:
        fell_back = {**parse, "intent": {**(parse.get("intent") or {}), "name": intent}}  # as simulated
        cands = decide.clarify_candidates(fell_back) if intent == "nlu_fallback" and not BASELINE["on"] else []
        if not cands:
            return {"kind": "no_answer", "labels": []}
        # "sure_faq": a sure FAQ question whose topic is unsure (action_fallback names it as one)
        why = "sure_faq" if decide.sure_faq_unsure_topic(fell_back) else "close"
        return {"kind": "clarify", "labels": [], "candidates": cands, "why": why}
    if intent == "faq":
        labels = [faq_topic(parse) or "faq"]
        if part_parses and not BASELINE["on"]:
            labels += decide.extra_topics(labels[0], part_parses)
        return {"kind": "answer", "labels": labels}
    labels = [intent]
    if intent in ACCOUNT_INTENTS and part_parses and not BASELINE["on"]:
        # every account action (bot/actions/base.py BuyerAction) then answers a confident FAQ
        # clause other than the topic its own answer covers (its `covers`, EQUIVALENT here)
        covers = sorted(EQUIVALENT.get(intent, set()))
        labels += decide.extra_topics(covers[0] if covers else None, part_parses)
    return {"kind": "answer", "labels": labels}


# the intents answered by a BuyerAction (data/rules/account.yml)
ACCOUNT_INTENTS = {"list_orders", "order_status", "check_pay_later", "credit_line", "application_status",
                   "disbursement_status", "loan_cost", "ask_refund"}


def accepted(label: str) -> Set[str]:
    return {label} | EQUIVALENT.get(label, set())


def answered(b: Dict[str, Any], gold: str, first_only: bool = True) -> bool:
    if b["kind"] != "answer":
        return False
    labels = b["labels"][:1] if first_only else b["labels"]
    return any(gold in accepted(l) for l in labels)


def is_pay_later_answer(b: Dict[str, Any]) -> bool:
    return b["kind"] == "answer" and any(l.startswith("faq/") or l in PAY_LATER_INTENTS for l in b["labels"])


def simulate(parse: Dict[str, Any], threshold: float, ambiguity: float, guard: Dict[str, float]) -> Dict[str, Any]:
    """behaviour() with other FallbackClassifier / guard settings, from the raw rankings."""
    ranking = decide.intent_ranking(parse)
    if not ranking:
        return {"kind": "no_answer", "labels": []}
    name, conf = ranking[0]
    ambiguous = len(ranking) > 1 and conf - ranking[1][1] < ambiguity
    if conf < threshold or ambiguous or (name == "faq" and not decide.faq_passes(parse, guard)):
        return behaviour(parse, "nlu_fallback")
    return behaviour(parse, name)


# ------------------------------------------------------------------------------ scoring
def score_labelled(examples: List[Dict[str, Any]], parses: List[Dict[str, Any]], known: Set[str],
                   parts: Optional[List[List[Dict[str, Any]]]] = None) -> Dict[str, Any]:
    rows, per = [], defaultdict(Counter)
    unscorable = 0
    for e, p, pp in zip(examples, parses, parts or [[] for _ in examples]):
        if e["label"] not in known:
            unscorable += 1
            continue
        b = behaviour(p, part_parses=pp)
        pred = predicted_label(p)
        # an out-of-scope message is right when it gets the honest "not here" (no answer, no clarify)
        ok = b["kind"] == "no_answer" if e["label"] in NO_ANSWER_INTENTS else answered(b, e["label"])
        got = (b["labels"][0] if b["labels"] else b["kind"])
        per[e["label"]]["n"] += 1
        per[e["label"]]["ok"] += ok
        rows.append({"text": e["text"], "gold": e["label"], "intent_ok": (p.get("intent") or {}).get("name") == e["intent"],
                     "label_ok": pred == e["label"], "ok": ok, "got": got, "kind": b["kind"],
                     "raw_top": raw_top(p)[0], "confidence": round(raw_top(p)[1], 3),
                     "candidates": b.get("candidates", []), "why": b.get("why")})
    n = len(rows) or 1
    return {
        "n": len(rows), "unscorable": unscorable,
        "intent_accuracy": sum(r["intent_ok"] for r in rows) / n,
        "label_accuracy": sum(r["label_ok"] for r in rows) / n,
        "answered_right": sum(r["ok"] for r in rows) / n,
        "clarify_rate": sum(r["kind"] == "clarify" for r in rows) / n,
        "per_label": {k: dict(v) for k, v in per.items()},
        "rows": rows,
    }


def score_oos(texts: List[str], parses: List[Dict[str, Any]],
              parts: Optional[List[List[Dict[str, Any]]]] = None) -> Dict[str, Any]:
    rows = []
    for t, p, pp in zip(texts, parses, parts or [[] for _ in texts]):
        b = behaviour(p, part_parses=pp)
        rows.append({"text": t, "kept_out": not is_pay_later_answer(b), "kind": b["kind"], "why": b.get("why"),
                     "got": b["labels"][0] if b["labels"] else b["kind"],
                     "raw_top": raw_top(p)[0], "confidence": round(raw_top(p)[1], 3)})
    n = len(rows) or 1
    return {"n": len(rows), "kept_out": sum(r["kept_out"] for r in rows) / n,
            "fallback_rate": sum(r["kind"] != "answer" for r in rows) / n,
            "clarify_rate": sum(r["kind"] == "clarify" for r in rows) / n, "rows": rows}


def score_multi(items: List[Dict[str, Any]], parses: List[Dict[str, Any]], known: Set[str],
                parts: Optional[List[List[Dict[str, Any]]]] = None) -> Dict[str, Any]:
    rows, unscorable = [], 0
    parts = parts or [[] for _ in items]
    for it, p, pp in zip(items, parses, parts):
        golds = [g for g in it["labels"] if g in known]
        if len(golds) < len(it["labels"]):
            unscorable += 1
        if not golds:
            continue
        b = behaviour(p, part_parses=pp)
        got = [g for g in golds if answered(b, g, first_only=False)]
        rows.append({"text": it["text"], "gold": it["labels"], "answers": b["labels"], "kind": b["kind"],
                     "covered": len(got), "asked": len(golds)})
    n = len(rows) or 1
    asked = sum(r["asked"] for r in rows) or 1
    return {"n": len(rows), "unscorable": unscorable,
            "all_answered": sum(r["covered"] == r["asked"] for r in rows) / n,
            "label_coverage": sum(r["covered"] for r in rows) / asked,
            "first_answered": sum(r["covered"] > 0 for r in rows) / n, "rows": rows}


def confusions(rows: Iterable[Dict[str, Any]], top: int = 15) -> List[Tuple[str, str, int]]:
    c = Counter((r["gold"], r["got"]) for r in rows if not r["ok"])
    return [(g, p, n) for (g, p), n in c.most_common(top)]


def entity_accuracy(examples, parses) -> Tuple[float, List[Dict[str, Any]]]:
    total = ok = 0
    fails = []
    for e, p in zip(examples, parses):
        got = {(x["entity"], p["text"][x["start"]:x["end"]]) for x in p.get("entities") or [] if "start" in x}
        for g in e["entities"]:
            total += 1
            if (g["entity"], g["value"]) in got:
                ok += 1
            else:
                fails.append({"text": e["text"], "gold": g, "got": sorted(got)})
    return (ok / total if total else 1.0), fails


# ------------------------------------------------------------------------------ running
async def parse_all(model: str, texts: List[str]) -> Tuple[List[Dict[str, Any]], Set[str]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    known = set(agent.domain.intents) | {r[len("utter_"):] for r in agent.domain.responses if r.startswith("utter_faq/")}
    out = []
    for text in texts:
        out.append(await agent.parse_message(text))
    return out, known


def project_labels(domain_path: Path = Path("domain.yml")) -> Set[str]:
    """Intents and faq topics of the project's domain.yml (what the bot is meant to answer)."""
    import yaml

    try:
        dom = yaml.safe_load(domain_path.read_text()) or {}
    except OSError:
        return set()
    intents = {i if isinstance(i, str) else next(iter(i)) for i in dom.get("intents") or []}
    return intents | {r[len("utter_"):] for r in dom.get("responses") or {} if r.startswith("utter_faq/")}


def model_settings(config_path: Path = Path("config.yml")) -> Tuple[float, float, Dict[str, float]]:
    import yaml

    threshold, ambiguity, guard = 0.3, 0.1, {}
    try:
        cfg = yaml.safe_load(config_path.read_text())
    except OSError:
        return threshold, ambiguity, guard
    for comp in cfg.get("pipeline", []):
        if comp.get("name") == "FallbackClassifier":
            threshold = float(comp.get("threshold", 0.3))
            ambiguity = float(comp.get("ambiguity_threshold", 0.1))
        if str(comp.get("name", "")).endswith("RetrievalGuard"):
            guard = {k: float(comp[k]) for k in decide.GUARD if k in comp}
    return threshold, ambiguity, guard


SET_NAMES = ["held", "held_oos", "blind", "article", "long", "off", "multi",
             "dev_article", "dev_long", "dev_off", "dev_multi"]
# the four kinds of file of a stranger-style set (tests/nlu_stranger/, tests/nlu_dev/)
STRANGER_FILES = {"article": "article.yml", "long": "long.yml", "off": "off_topic.txt", "multi": "multi.tsv"}


def load_sets(held: Path, blind: Path, stranger: Path,
              dev: Optional[Path] = None) -> Tuple[Dict[str, list], List[str]]:
    """Every evaluation set; a missing file is a problem (the check fails, it does not pass).
    `dev`: the team's own stranger-style dev set (tests/nlu_dev/), optional."""
    problems = []
    files = {"held_oos": held / "out_of_scope_messages.txt", "blind": blind,
             **{k: stranger / f for k, f in STRANGER_FILES.items()},
             **({f"dev_{k}": dev / f for k, f in STRANGER_FILES.items()} if dev is not None else {})}
    for p in files.values():
        if not p.exists():
            problems.append(f"missing evaluation file {p}")
    ok = {k: p.exists() for k, p in files.items()}
    sets = {
        "held": [e for p in sorted(held.glob("*.yml")) for e in load_file(p)] if held.exists() else [],
        "held_oos": load_oos(files["held_oos"]) if ok["held_oos"] else [],
        "blind": load_examples(blind) if ok["blind"] else [],
        "article": load_file(files["article"]) if ok["article"] else [],
        "long": load_file(files["long"]) if ok["long"] else [],
        "off": load_oos(files["off"]) if ok["off"] else [],
        "multi": load_multi(files["multi"]) if ok["multi"] else [],
    }
    for k in STRANGER_FILES:
        key = f"dev_{k}"
        if not ok.get(key):
            sets[key] = []
        elif k in ("article", "long"):
            sets[key] = load_file(files[key])
        else:
            sets[key] = load_oos(files[key]) if k == "off" else load_multi(files[key])
    return sets, problems


EXAM_KINDS = ("article", "long", "off", "multi")


def load_exam(folder: Path) -> Tuple[Optional[Dict[str, list]], List[str]]:
    """The exam's four files, and every text to parse: messages, then their question clauses."""
    files = {k: folder / STRANGER_FILES[k] for k in EXAM_KINDS}
    if not all(p.exists() for p in files.values()):
        return None, []
    exam = {"article": load_file(files["article"]), "long": load_file(files["long"]),
            "off": load_oos(files["off"]), "multi": load_multi(files["multi"])}
    texts = [t for k in EXAM_KINDS for t in set_texts(exam, k)]
    return exam, texts + part_texts(exam, EXAM_KINDS)


def score_exam(exam: Dict[str, list], parses: List[Dict[str, Any]], known: Set[str],
               prefix: str = "exam") -> Dict[str, Any]:
    """The exam's totals, from the parses in load_exam's order. `prefix` names the set in the
    keys ("exam", or "stranger3" / "stranger4" / "stranger5" for tests/nlu_stranger3/, 4/ and 5/, scored the same way)."""
    P: Dict[str, Any] = {}
    i = 0
    for k in EXAM_KINDS:
        n = len(exam[k])
        P[k], i = parses[i:i + n], i + n
    split_parts(P, exam, parses[i:], EXAM_KINDS)
    art = score_labelled(exam["article"], P["article"], known, P["article_parts"])
    faq = [r for r in art["rows"] if r["gold"].startswith("faq/")]
    acc = [r for r in art["rows"] if not r["gold"].startswith("faq/")]
    long_ = score_labelled(exam["long"], P["long"], known, P["long_parts"])
    off = score_oos(exam["off"], P["off"], P["off_parts"])
    multi = score_multi(exam["multi"], P["multi"], known, P["multi_parts"])
    rate = lambda rows: round(sum(r["ok"] for r in rows) / len(rows), 4) if rows else 0.0  # noqa: E731
    figures = {
        "article_questions": len(faq),
        "article_answered_right": rate(faq),
        "account_dialogue_answered_right": rate(acc),
        "long_messages": long_["n"],
        "long_answered_right": round(long_["answered_right"], 4),
        "off_topic_messages": off["n"],
        "off_topic_kept_out": round(off["kept_out"], 4),
        "multi_messages": multi["n"],
        "multi_all_answered": round(multi["all_answered"], 4),
        # asking instead of answering: article + long messages, and off-topic messages that get
        # buttons (kept out, but "which Pay Later topic?" to trivia is a poor reply)
        "clarify_rate": rate([{"ok": r["kind"] == "clarify"} for r in art["rows"] + long_["rows"]]),
        "off_topic_clarify_rate": round(off["clarify_rate"], 4),
    }
    return {f"{prefix}.{k}": v for k, v in figures.items()}


def set_texts(sets: Dict[str, list], name: str) -> List[str]:
    return [x if isinstance(x, str) else x["text"] for x in sets[name]]


def part_texts(sets: Dict[str, list], names: Sequence[str] = tuple(SET_NAMES)) -> List[str]:
    """The question clauses of every message of several questions, set by set (parsed too:
    action_faq_followup and action_fallback answer confident clauses)."""
    out = []
    for name in names:
        for text in set_texts(sets, name):
            parts = decide.question_parts(text)
            out += parts if len(parts) >= 2 else []
    return out


def split_parts(P: Dict[str, List[Dict[str, Any]]], sets: Dict[str, list], part_parses: List[Dict[str, Any]],
                names: Sequence[str] = tuple(SET_NAMES)) -> None:
    """P["<set>_parts"]: per message, the parses of its clauses ([] for a one-question message)."""
    i = 0
    for name in names:
        out = []
        for text in set_texts(sets, name):
            n = len(decide.question_parts(text))
            n = n if n >= 2 else 0
            out.append(part_parses[i:i + n])
            i += n
        P[f"{name}_parts"] = out


def score_sets(sets: Dict[str, list], P: Dict[str, List[Dict[str, Any]]], known: Set[str]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Every figure of the report from the parses of each set (used by main() and bench/)."""
    held_ex, held_oos, blind_ex, art, long_, off, multi = (sets[n] for n in SET_NAMES[:7])
    held_s = score_labelled(held_ex, P["held"], known, P.get("held_parts"))
    held_o = score_oos(held_oos, P["held_oos"], P.get("held_oos_parts"))
    ent_acc, ent_fails = entity_accuracy(held_ex, P["held"])
    blind_s = score_labelled(blind_ex, P["blind"], known, P.get("blind_parts"))
    art_s = score_labelled(art, P["article"], known, P.get("article_parts"))
    art_faq = [r for r in art_s["rows"] if r["gold"].startswith("faq/")]
    art_acc = [r for r in art_s["rows"] if not r["gold"].startswith("faq/")]
    long_s = score_labelled(long_, P["long"], known, P.get("long_parts"))
    off_s = score_oos(off, P["off"], P.get("off_parts"))
    multi_s = score_multi(multi, P["multi"], known, P.get("multi_parts"))

    def rate(rows, key="ok"):
        return sum(r[key] for r in rows) / len(rows) if rows else 0.0

    in_scope_rows = art_s["rows"] + long_s["rows"]
    metrics = {
        "held_out.examples": held_s["n"],
        "held_out.intent_accuracy": held_s["intent_accuracy"],
        "held_out.label_accuracy": held_s["label_accuracy"],
        "held_out.answered_right": held_s["answered_right"],
        "held_out.clarify_rate": held_s["clarify_rate"],
        "held_out.entity_accuracy": ent_acc,
        "held_out.oos_messages": held_o["n"],
        "held_out.oos_kept_out": held_o["kept_out"],
        "held_out.oos_clarify_rate": held_o["clarify_rate"],
        "blind.examples": blind_s["n"],
        "blind.label_accuracy": blind_s["label_accuracy"],
        "blind.answered_right": blind_s["answered_right"],
        "blind.clarify_rate": blind_s["clarify_rate"],
        "stranger.article_questions": len(art_faq),
        "stranger.article_answered_right": rate(art_faq),
        "stranger.article_label_accuracy": rate(art_faq, "label_ok"),
        "stranger.account_dialogue_answered_right": rate(art_acc),
        "stranger.long_messages": long_s["n"],
        "stranger.long_answered_right": long_s["answered_right"],
        "stranger.off_topic_messages": off_s["n"],
        "stranger.off_topic_kept_out": off_s["kept_out"],
        "stranger.off_topic_clarify_rate": off_s["clarify_rate"],
        "stranger.multi_messages": multi_s["n"],
        "stranger.multi_all_answered": multi_s["all_answered"],
        "stranger.multi_label_coverage": multi_s["label_coverage"],
        "stranger.clarify_rate": (
            sum(r["kind"] == "clarify" for r in in_scope_rows) / len(in_scope_rows) if in_scope_rows else 0.0),
        "stranger.unscorable": art_s["unscorable"] + long_s["unscorable"] + multi_s["unscorable"],
    }
    details = {"held_out": held_s, "held_out_oos": held_o, "blind": blind_s, "stranger_article": art_s,
               "stranger_long": long_s, "stranger_off_topic": off_s, "stranger_multi": multi_s,
               "entity_failures": ent_fails}
    if sets.get("dev_article"):
        dev_art = score_labelled(sets["dev_article"], P["dev_article"], known, P.get("dev_article_parts"))
        dev_long = score_labelled(sets["dev_long"], P["dev_long"], known, P.get("dev_long_parts"))
        dev_off = score_oos(sets["dev_off"], P["dev_off"], P.get("dev_off_parts"))
        dev_multi = score_multi(sets["dev_multi"], P["dev_multi"], known, P.get("dev_multi_parts"))
        metrics.update({
            "dev.article_questions": dev_art["n"],
            "dev.article_answered_right": dev_art["answered_right"],
            "dev.long_answered_right": dev_long["answered_right"],
            "dev.off_topic_kept_out": dev_off["kept_out"],
            "dev.off_topic_clarify_rate": dev_off["clarify_rate"],
            "dev.clarify_rate": rate([{"ok": r["kind"] == "clarify"} for r in dev_art["rows"] + dev_long["rows"]]),
            "dev.multi_all_answered": dev_multi["all_answered"],
            "dev.multi_label_coverage": dev_multi["label_coverage"],
        })
        details.update({"dev_article": dev_art, "dev_long": dev_long, "dev_off_topic": dev_off,
                        "dev_multi": dev_multi})
    metrics = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}
    return metrics, details


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.nlu_check", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/paylater.tar.gz")
    ap.add_argument("--data", default="tests/nlu", help="held-out split (yml + out_of_scope_messages.txt)")
    ap.add_argument("--blind", default="tests/nlu_blind")
    ap.add_argument("--stranger", default="tests/nlu_stranger")
    ap.add_argument("--dev", default="tests/nlu_dev", help="the team's own stranger-style dev set")
    ap.add_argument("--exam", default="tests/nlu_stranger2",
                    help="a stranger set reported by its totals only (empty string: none)")
    ap.add_argument("--stranger3", default="",
                    help="the third stranger set (tests/nlu_stranger3/), totals only, gated by "
                         "STRANGER3_GATES; off unless named (`make test` names it)")
    ap.add_argument("--stranger4", default="",
                    help="the fourth stranger set (tests/nlu_stranger4/), totals only, gated by "
                         "STRANGER4_GATES; off unless named (`make test` names it)")
    ap.add_argument("--stranger5", default="",
                    help="the fifth stranger set (tests/nlu_stranger5/: a dev set since round 12 read its "
                         "confusion kinds), totals only, gated by STRANGER5_GATES; off unless named (`make test` names it)")
    ap.add_argument("--out", default="results/nlu")
    ap.add_argument("--no-fail", action="store_true", help="report only, always exit 0")
    ap.add_argument("--verbose", action="store_true", help="print every miss, not only the confusion lists")
    ap.add_argument("--baseline", action="store_true",
                    help="score as the bot before issue 10 behaved (no clarify, no second answer)")
    args = ap.parse_args(argv)
    BASELINE["on"] = args.baseline

    logging.basicConfig(level=logging.WARNING)
    for noisy in ("rasa", "tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)

    model, held, blind, stranger, out_dir = (Path(args.model), Path(args.data), Path(args.blind),
                                              Path(args.stranger), Path(args.out))
    if not model.exists():
        print(f"model not found: {model} (run make train)", file=sys.stderr)
        return 2
    sets, problems = load_sets(held, blind, stranger, Path(args.dev))
    if not sets["held"]:
        print(f"no held-out examples under {held}", file=sys.stderr)
        return 2
    texts = [t for name in SET_NAMES for t in set_texts(sets, name)]
    parts = part_texts(sets)
    # the sets reported by their totals only (name = key prefix, folder, gates), each parsed with the rest
    totals_sets = [(name, getattr(args, name), gates) for name, gates in TOTALS_SETS if getattr(args, name)]
    loaded: Dict[str, Tuple[Dict[str, list], List[str]]] = {}
    for name, folder, _ in totals_sets:
        ex, ex_texts = load_exam(Path(folder))
        if ex is None:
            problems.append(f"missing {name} set {folder}")
        else:
            loaded[name] = (ex, ex_texts)
    all_texts = texts + parts + [t for _, ex_texts in loaded.values() for t in ex_texts]
    parses, known = asyncio.run(parse_all(str(model), all_texts))
    n_team = len(texts) + len(parts)
    totals_parses, i = {}, n_team
    for name, (_, ex_texts) in loaded.items():
        totals_parses[name], i = parses[i:i + len(ex_texts)], i + len(ex_texts)
    parses = parses[:n_team]
    known |= project_labels()  # a label the project answers but this model does not know is a miss
    P: Dict[str, List[Dict[str, Any]]] = {}
    i = 0
    for name in SET_NAMES:
        n = len(set_texts(sets, name))
        P[name] = parses[i:i + n]
        i += n
    split_parts(P, sets, parses[i:])
    metrics, d = score_sets(sets, P, known)
    held_ex, blind_ex = sets["held"], sets["blind"]
    held_s, held_o, blind_s, art_s, long_s, off_s, multi_s = (
        d["held_out"], d["held_out_oos"], d["blind"], d["stranger_article"], d["stranger_long"],
        d["stranger_off_topic"], d["stranger_multi"])
    ent_fails = d["entity_failures"]

    # ---- report
    print("\nNLU check: held-out split", held, "| blind", blind, "| stranger", stranger)
    for k, v in metrics.items():
        print(f"  {k:45s} {v}")
    sections = [("held-out", held_s), ("blind", blind_s), ("stranger article+account", art_s), ("stranger long", long_s)]
    sections += [(f"dev {k}", d[f"dev_{k}"]) for k in ("article", "long") if f"dev_{k}" in d]
    for title, s in sections:
        print(f"\nAnswered right per label, {title} (only labels below 1.00):")
        for label in sorted(s["per_label"]):
            c = s["per_label"][label]
            if c["ok"] < c["n"]:
                print(f"  {label:40s} {c['ok'] / c['n']:.2f}  ({c['ok']}/{c['n']})")
        print(f"Top confusions, {title} (gold -> got, count):")
        for g, p, n in confusions(s["rows"]):
            print(f"  {g:34s} -> {p:34s} {n}")
        if args.verbose:
            for r in s["rows"]:
                if not r["ok"]:
                    print(f"    [{r['gold']} -> {r['got']} (raw {r['raw_top']} {r['confidence']})] {r['text']}")
    print("\nOff-topic answered with Pay Later content (held-out + stranger):")
    for r in held_o["rows"] + off_s["rows"]:
        if not r["kept_out"]:
            print(f"  [{r['got']} {r['confidence']}] {r['text']}")
    for r in d.get("dev_off_topic", {}).get("rows", []):
        if not r["kept_out"]:
            print(f"  dev [{r['got']} {r['confidence']}] {r['text']}")
    print("\nTwo-question messages not fully answered:")
    for r in multi_s["rows"] + d.get("dev_multi", {}).get("rows", []):
        if r["covered"] < r["asked"]:
            print(f"  {','.join(r['gold'])} -> {','.join(r['answers']) or r['kind']}: {r['text']}")
    if ent_fails:
        print(f"\nEntity failures ({len(ent_fails)}):")
        for f in ent_fails:
            print(f"  {f['gold']} in {f['text']!r}: got {f['got']}")

    totals: Dict[str, Dict[str, Any]] = {name: {} for name, _ in TOTALS_SETS}
    for name, folder, _ in totals_sets:
        if name not in loaded:
            continue
        totals[name] = score_exam(loaded[name][0], totals_parses[name], known, prefix=name)
        print(f"\n{name.capitalize()} {folder} (totals only; never train on it, never read it to write data):")
        for k, v in totals[name].items():
            print(f"  {k:45s} {v}")

    threshold, ambiguity, guard = model_settings()
    sweep_rows = []
    team = list(zip(held_ex, P["held"])) + list(zip(blind_ex, P["blind"]))
    team = [(e, p) for e, p in team if e["label"] in known]
    for t in FALLBACK_SWEEP:
        for mt in TOPIC_SWEEP:
            g = {**decide.GUARD, **guard, "min_topic": mt}
            ok = sum(answered(simulate(p, t, ambiguity, g), e["label"]) for e, p in team) / (len(team) or 1)
            kept = sum(not is_pay_later_answer(simulate(p, t, ambiguity, g)) for p in P["held_oos"]) / (len(P["held_oos"]) or 1)
            sweep_rows.append({"fallback_threshold": t, "min_topic": mt, "team_answered_right": round(ok, 4),
                               "held_out_oos_kept_out": round(kept, 4)})
    print(f"\nSweep on the team's sets (held-out + blind; ambiguity {ambiguity:.2f}): "
          "fallback threshold x guard min_topic -> answered right / held-out off-topic kept out")
    for r in sweep_rows:
        mark = "  <- configured" if abs(r["fallback_threshold"] - threshold) < 1e-9 and abs(r["min_topic"] - guard.get("min_topic", -1)) < 1e-9 else ""
        print(f"  {r['fallback_threshold']:.2f} x {r['min_topic']:.2f}   {r['team_answered_right']:.3f} / {r['held_out_oos_kept_out']:.3f}{mark}")

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "nlu_check.json").write_text(json.dumps({
        "metrics": metrics, "gates": GATES, **totals, **{f"{name}_gates": gates for name, gates in TOTALS_SETS},
        "equivalent": {k: sorted(v) for k, v in EQUIVALENT.items()},
        "held_out": held_s, "held_out_oos": held_o, "blind": blind_s, "stranger_article": art_s,
        "stranger_long": long_s, "stranger_off_topic": off_s, "stranger_multi": multi_s,
        "entity_failures": ent_fails, "sweep": sweep_rows,
        **{k: d[k] for k in ("dev_article", "dev_long", "dev_off_topic", "dev_multi") if k in d},
    }, indent=1, default=str))

    checked = [(key, minimum, metrics) for key, minimum in GATES.items()]
    checked += [(key, minimum, totals[name]) for name, _, gates in totals_sets if totals[name]
                for key, minimum in gates.items()]
    for key, minimum, metrics_k in checked:
        if key.endswith("_max"):
            k = key[: -len("_max")]
            if k in metrics_k and metrics_k[k] > minimum:
                problems.append(f"{k} {metrics_k[k]} > {minimum}")
        elif key in metrics_k and metrics_k[key] < minimum:
            problems.append(f"{key} {metrics_k[key]} < {minimum}")
    if problems:
        print("\nBELOW GATES: " + "; ".join(problems))
        return 0 if args.no_fail else 1
    print("\nAll NLU gates met. Results in", out_dir / "nlu_check.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
