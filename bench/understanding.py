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

# Unrelated to Pay Later: the bot must not answer these with Pay Later facts.
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


def load_held_out(path: Path = HELD_OUT) -> List[Tuple[str, str, str]]:
    """[(text, intent, full retrieval intent like faq/fee or same as intent)]"""
    from rasa.shared.nlu.training_data.loading import load_data

    files = sorted(p for p in path.rglob("*.yml")) + sorted(p for p in path.rglob("*.yaml"))
    rows = []
    for f in files:
        data = load_data(str(f))
        for ex in data.intent_examples:
            intent = ex.get("intent")
            full = ex.get("intent_response_key") or intent
            rows.append((ex.get("text"), intent, full))
    return rows


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


def evaluate_nlu(parse: Callable[[str], dict], rows=None) -> dict:
    rows = load_held_out() if rows is None else rows
    if not rows:
        return {"status": f"no held-out examples in {HELD_OUT.relative_to(PROJECT_ROOT)}"}
    pairs, full_pairs = [], []
    confusion: Dict[str, Counter] = defaultdict(Counter)
    for text, intent, full in rows:
        result = parse(text)
        predicted = (result.get("intent") or {}).get("name") or "none"
        pairs.append((intent, predicted))
        confusion[intent][predicted] += 1
        if full != intent:  # retrieval intent: which answer was picked
            sel = (result.get("response_selector") or {}).get(intent, {}).get("response", {})
            full_pairs.append((full, sel.get("intent_response_key") or predicted))
    macro, per = macro_f1(pairs)
    out = {
        "examples": len(rows),
        "intent_accuracy": round(sum(t == p for t, p in pairs) / len(pairs), 4),
        "intent_macro_f1": macro,
        "per_intent": per,
        "confusion": {t: dict(c) for t, c in sorted(confusion.items())},
        "misclassified": [{"text": r[0], "intent": t, "predicted": p} for r, (t, p) in zip(rows, pairs) if t != p][:50],
    }
    if full_pairs:
        out["retrieval_accuracy"] = round(sum(t == p for t, p in full_pairs) / len(full_pairs), 4)
        out["retrieval_examples"] = len(full_pairs)
    return out


def fallback_rate(parse: Callable[[str], dict]) -> dict:
    results = [(t, (parse(t).get("intent") or {}).get("name")) for t in OUT_OF_SCOPE]
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
    leaks_answers = asyncio.run(_ask_all(target, OUT_OF_SCOPE, prefix + "-oos"))
    leaks = [{"text": t, "answer": a[:200]} for t, a in zip(OUT_OF_SCOPE, leaks_answers)
             if any(f in a for f in PAY_LATER_FACTS)]
    return {
        "questions": len(FAQ),
        "faq_correct": correct,
        "faq_accuracy": round(correct / len(FAQ), 3),
        "details": details,
        "out_of_scope_leaks": len(leaks),
        "leak_samples": leaks[:5],
    }
