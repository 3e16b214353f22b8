"""Understanding: intent accuracy / macro F1 / confusion on the held-out NLU split (tests/nlu),
fallback rate on out-of-scope messages, FAQ answers checked for their facts end to end.

NLU results come from the running Rasa (`POST /model/parse`, the same model that serves the
load), so no second copy of the model is loaded in the benchmark process."""
from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import aiohttp

from bot.config import PROJECT_ROOT

HELD_OUT = PROJECT_ROOT / "tests" / "nlu"
FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope"}

# Unrelated to Pay Later (used only when tests/nlu/out_of_scope_messages.txt is missing).
OUT_OF_SCOPE = [
    "what's the weather in Paris tomorrow?",
    "tell me a joke",
    "who won the world cup in 2018?",
    "how do I reset my iphone",
    "book me a flight to New York",
    "what is the capital of Australia",
    "recommend a good pizza place nearby",
    "can you write a poem about the sea",
    "how many calories are in a banana",
    "translate hello into German",
    "what time is the football match tonight",
    "my cat is sick what should I do",
]
# Facts that only belong in Pay Later answers: one of them in an out-of-scope reply is a leak.
# ("Pay Later" itself may appear: "I can help with Pay Later questions" is the honest answer.)
PAY_LATER_FACTS = ["kabbage", "150,000", "150000", "six months", "working days", "processing fee", "first month"]

# Question -> required facts; each fact is a list of accepted spellings (lower case).
FAQ: List[Tuple[str, List[List[str]]]] = [
    ("Who lends the money for Pay Later?", [["kabbage"]]),
    ("Is there a processing fee for Pay Later?", [["free", "no processing fee", "no fee", "not charge"]]),
    ("How long until the supplier receives the payment?", [["1-3", "1–3", "1 to 3", "one to three"], ["working day", "business day"]]),
    ("Which currency can I use with Pay Later?", [["usd", "us dollar", "u.s. dollar"]]),
    ("What is the maximum credit limit?", [["150,000", "150000", "150k"]]),
    ("How long can I take to repay?", [["six months", "6 months", "six-month", "6-month"]]),
    ("How do I get the first month loan fee credit?", [["automatic"], ["statement"]]),
    ("What do I need to apply for Pay Later?", [["checking"], ["personal"]]),
    ("When can I apply for Pay Later?", [["checkout"], ["advance"]]),
    ("What is Pay Later?", [["trade assurance"]]),
]


def _nlu_check():
    """bot/nlu_check.py (the conversation engineer's held-out check): its loaders and label rules."""
    try:
        from bot import nlu_check

        return nlu_check
    except ImportError:
        return None


def load_held_out(path: Path = HELD_OUT) -> List[dict]:
    """[{"text", "intent", "label"}]: label is faq/<topic> for FAQ examples, else the intent."""
    nc = _nlu_check()
    if nc is not None:
        return nc.load_examples(path)
    from rasa.shared.nlu.training_data.loading import load_data

    rows = []
    for f in sorted(path.rglob("*.yml")) + sorted(path.rglob("*.yaml")):
        for ex in load_data(str(f)).intent_examples:
            rows.append({"text": ex.get("text"), "intent": ex.get("intent"),
                         "label": ex.get("intent_response_key") or ex.get("intent")})
    return rows


def out_of_scope_messages(path: Path = HELD_OUT) -> List[str]:
    nc = _nlu_check()
    msgs = nc.load_oos(path) if nc is not None else []
    return msgs or OUT_OF_SCOPE


def macro_f1(pairs: Sequence[Tuple[str, str]]) -> Tuple[float, Dict[str, dict]]:
    """pairs of (true, predicted) -> (macro F1 over true labels, per-label P/R/F1/support)."""
    tp, fp, fn, support = Counter(), Counter(), Counter(), Counter()
    for t, p in pairs:
        support[t] += 1
        if t == p:
            tp[t] += 1
        else:
            fp[p] += 1
            fn[t] += 1
    per = {}
    for label in sorted(support):
        prec = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        rec = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[label] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3), "support": support[label]}
    macro = sum(v["f1"] for v in per.values()) / len(per) if per else 0.0
    return round(macro, 4), per


def _label(result: dict) -> str:
    nc = _nlu_check()
    if nc is not None:
        return nc.predicted_label(result)
    intent = (result.get("intent") or {}).get("name") or "None"
    if intent == "faq":
        sel = (result.get("response_selector") or {}).get("faq", {}).get("response", {})
        return sel.get("intent_response_key") or "faq"
    return intent


def evaluate_nlu(parse: Callable[[str], dict], rows=None) -> dict:
    """Same definitions as bot/nlu_check.py (faq counts as one intent; FAQ selection = the right
    faq/<topic>), on the model the running Rasa serves."""
    rows = load_held_out() if rows is None else rows
    if not rows:
        return {"status": f"no held-out examples in {HELD_OUT.relative_to(PROJECT_ROOT)}"}
    pairs, label_pairs = [], []
    confusion: Dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        result = parse(row["text"])
        predicted = (result.get("intent") or {}).get("name") or "None"
        pairs.append((row["intent"], predicted))
        label_pairs.append((row["label"], _label(result)))
        confusion[row["intent"]][predicted] += 1
    macro, per = macro_f1(pairs)
    faq = [(t, p) for t, p in label_pairs if t.startswith("faq/")]
    out = {
        "examples": len(rows),
        "source": "bot.nlu_check loaders" if _nlu_check() else "bench loader",
        "intent_accuracy": round(sum(t == p for t, p in pairs) / len(pairs), 4),
        "intent_macro_f1": macro,
        "label_accuracy": round(sum(t == p for t, p in label_pairs) / len(label_pairs), 4),
        "per_intent": per,
        "confusion": {t: dict(c) for t, c in sorted(confusion.items())},
        "misclassified": [{"text": r["text"], "label": t, "predicted": p}
                          for r, (t, p) in zip(rows, label_pairs) if t != p][:60],
    }
    if faq:
        out["retrieval_accuracy"] = round(sum(t == p for t, p in faq) / len(faq), 4)
        out["retrieval_examples"] = len(faq)
    return out


def fallback_rate(parse: Callable[[str], dict]) -> dict:
    msgs = out_of_scope_messages()
    results = [(t, (parse(t).get("intent") or {}).get("name")) for t in msgs]
    caught = [t for t, i in results if i in FALLBACK_INTENTS]
    return {
        "messages": len(results),
        "fallback_rate": round(len(caught) / len(results), 3),
        "not_caught": [{"text": t, "intent": i} for t, i in results if i not in FALLBACK_INTENTS],
    }


def _reply_text(body) -> str:
    parts = []
    msgs = body if isinstance(body, list) else [m for m in (body or {}).get("messages", []) if m.get("sender") != "buyer"]
    for m in msgs:
        parts.append(str(m.get("text") or ""))
        parts.extend(str(b.get("title", "")) for b in m.get("buttons") or [])
    return "\n".join(parts).lower()


async def _ask_all(target, questions: Sequence[str], prefix: str) -> List[str]:
    timeout = aiohttp.ClientTimeout(total=60)
    answers = []
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for n, q in enumerate(questions):  # one fresh anonymous conversation per question
            try:
                req = target.request(await target.open(session, n, f"{prefix}-{n}"), q)
                async with session.post(req.url, json=req.json, headers=req.headers) as resp:
                    answers.append(_reply_text(await resp.json(content_type=None)) if resp.status == 200 else f"<HTTP {resp.status}>")
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as exc:
                answers.append(f"<error {exc!r}>")
    return answers


def faq_end_to_end(target, prefix: str) -> dict:
    """Every FAQ question through the entry point; correct = every required fact present."""
    answers = asyncio.run(_ask_all(target, [q for q, _ in FAQ], prefix + "-faq"))
    details, correct = [], 0
    for (q, facts), answer in zip(FAQ, answers):
        missing = [alts[0] for alts in facts if not any(a in answer for a in alts)]
        correct += not missing
        details.append({"question": q, "ok": not missing, "missing": missing, "answer": answer[:300]})
    oos = out_of_scope_messages()
    leaks_answers = asyncio.run(_ask_all(target, oos, prefix + "-oos"))
    leaks = [{"text": t, "answer": a[:200]} for t, a in zip(oos, leaks_answers)
             if any(f in a for f in PAY_LATER_FACTS)]
    return {
        "questions": len(FAQ),
        "faq_correct": correct,
        "faq_accuracy": round(correct / len(FAQ), 3),
        "details": details,
        "out_of_scope_leaks": len(leaks),
        "leak_samples": leaks[:5],
    }


def evaluate_sets(parse: Callable[[str], dict]) -> dict:
    """Issue 10: bot/nlu_check.py's figures (held-out, blind, stranger: answered right, per topic,
    off-topic kept out, two-question coverage, clarify rate, top confusions) on the running Rasa."""
    nc = _nlu_check()
    if nc is None or not hasattr(nc, "score_sets"):
        return {"status": "bot.nlu_check.score_sets not available"}
    root = PROJECT_ROOT / "tests"
    sets, problems = nc.load_sets(root / "nlu", root / "nlu_blind", root / "nlu_stranger", root / "nlu_dev")
    parses = {name: [parse(t) for t in nc.set_texts(sets, name)] for name in nc.SET_NAMES}
    nc.split_parts(parses, sets, [parse(t) for t in nc.part_texts(sets)])
    known = nc.project_labels(PROJECT_ROOT / "domain.yml")
    for name in nc.SET_NAMES:
        for p in parses[name]:
            known.add((p.get("intent") or {}).get("name"))
    metrics, details = nc.score_sets(sets, parses, known)
    return {
        "metrics": metrics,
        "problems": problems,
        "per_topic": {k: details[k]["per_label"] for k in ("held_out", "blind", "stranger_article", "stranger_long")},
        "confusions": {k: nc.confusions(details[k]["rows"]) for k in ("held_out", "blind", "stranger_article", "stranger_long")},
    }
