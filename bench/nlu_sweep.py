"""Sweep the decision settings (FallbackClassifier threshold, RetrievalGuard, two-question
thresholds, clarifying a sure FAQ question whose topic is unsure) on every evaluation set
without retraining (issue 10, round 3):

    python -m bench.nlu_sweep --model models/paylater.tar.gz [--cache results/nlu/parses.pkl] \
        [--stranger3 tests/nlu_stranger3] [--clarify-only]

The model parses each set once (cached); each setting is then simulated from the raw rankings
with bot.nlu_check's own scoring, so the figures are the ones `make test`'s NLU check reports.
Decide on the team's sets and the dev set (tests/nlu_dev/); read the stranger columns only to
confirm. Results: bench/results/nlu_sweep.json (and printed)."""
from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import logging
import pickle
import sys
from pathlib import Path
from typing import Any, Dict, List

from bench import RESULTS_DIR
from bot import nlu_check as nc
from bot.nlu import decide

COLUMNS = ["held_out.answered_right", "blind.answered_right", "held_out.oos_kept_out",
           "dev.article_answered_right", "dev.long_answered_right", "dev.off_topic_kept_out",
           "dev.multi_all_answered", "stranger.article_answered_right", "stranger.long_answered_right",
           "stranger.off_topic_kept_out", "stranger.multi_all_answered", "stranger.clarify_rate",
           # how often it asks, and how many off-topic messages get Pay Later buttons
           "blind.clarify_rate", "dev.clarify_rate", "held_out.oos_clarify_rate",
           "dev.off_topic_clarify_rate", "stranger.off_topic_clarify_rate"]
# with --stranger3: that set's totals only (bot.nlu_check.score_exam), like the NLU check
S3_COLUMNS = ["stranger3.article_answered_right", "stranger3.long_answered_right",
              "stranger3.off_topic_kept_out", "stranger3.clarify_rate", "stranger3.off_topic_clarify_rate"]


def reapply(parse: Dict[str, Any], threshold: float, ambiguity: float, guard: Dict[str, float]) -> Dict[str, Any]:
    """The parse as the pipeline would have returned it with these settings (from raw rankings)."""
    ranking = decide.intent_ranking(parse)
    out = dict(parse)
    if not ranking:
        return out
    name, conf = ranking[0]
    ambiguous = len(ranking) > 1 and conf - ranking[1][1] < ambiguity
    if conf < threshold or ambiguous or (name == decide.FAQ and not decide.faq_passes(parse, guard)):
        out["intent"] = {"name": "nlu_fallback", "confidence": conf}
    else:
        out["intent"] = {"name": name, "confidence": conf}
    return out


def parse_stranger3(model: str, folder: Path, cache: Path):
    """The third stranger set and its parses (totals only are ever printed), cached beside the rest."""
    s3, texts = nc.load_exam(folder)
    if s3 is None:
        raise SystemExit(f"missing stranger3 set {folder}")
    if cache.exists():
        return s3, pickle.loads(cache.read_bytes())
    parses, _ = asyncio.run(nc.parse_all(model, texts))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(parses))
    return s3, parses


def parse_sets(model: str, cache: Path):
    root = Path("tests")
    sets, problems = nc.load_sets(root / "nlu", root / "nlu_blind", root / "nlu_stranger", root / "nlu_dev")
    if cache.exists():
        P, known = pickle.loads(cache.read_bytes())
        return sets, P, known
    texts = [t for name in nc.SET_NAMES for t in nc.set_texts(sets, name)]
    parts = nc.part_texts(sets)
    parses, known = asyncio.run(nc.parse_all(model, texts + parts))
    known |= nc.project_labels()
    P: Dict[str, List[Dict[str, Any]]] = {}
    i = 0
    for name in nc.SET_NAMES:
        n = len(nc.set_texts(sets, name))
        P[name] = parses[i:i + n]
        i += n
    nc.split_parts(P, sets, parses[i:])
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps((P, known)))
    return sets, P, known


def quiet_rasa() -> None:
    """As bot.nlu_check does: Rasa's debug log prints every parsed text, and the stranger sets'
    texts must never be printed."""
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("rasa", "tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.nlu_sweep")
    ap.add_argument("--model", default="models/paylater.tar.gz")
    ap.add_argument("--cache", default="results/nlu/parses.pkl")
    ap.add_argument("--stranger3", default="", help="also score tests/nlu_stranger3/ (totals only)")
    ap.add_argument("--clarify-only", action="store_true",
                    help="sweep only CLARIFY's sure_faq, the other settings as configured")
    args = ap.parse_args(argv)
    quiet_rasa()
    sets, P, known = parse_sets(args.model, Path(args.cache))
    s3 = s3_parses = None
    if args.stranger3:
        s3, s3_parses = parse_stranger3(args.model, Path(args.stranger3), Path(args.cache).with_suffix(".s3.pkl"))
    threshold, ambiguity, guard = nc.model_settings()
    base_multi, base_clarify = dict(decide.MULTI), dict(decide.CLARIFY)
    grid = {
        "fallback": [threshold, 0.3, 0.5],
        "min_intent": [guard.get("min_intent", 0.5), 0.4, 0.6],
        "min_topic": [guard.get("min_topic", 0.3), 0.2, 0.4],
        "multi_intent": [base_multi["min_intent"], 0.5],
        "multi_topic": [base_multi["min_topic"], 0.4],
        # clarify a sure FAQ question whose topic is unsure (1.1 = off)
        "sure_faq": [base_clarify["sure_faq"], 1.1, 0.7, 0.8, 0.95, 0.99],
    }
    # sure_faq is swept with the other settings as configured (it only turns a no-answer into a
    # clarify), the other settings with sure_faq as configured: not the whole product
    clarify_only = {k: (v if k == "sure_faq" else v[:1]) for k, v in grid.items()}
    others = {k: (v[:1] if k == "sure_faq" else v) for k, v in grid.items()}
    settings = [dict(zip(g, values)) for g in ([clarify_only] if args.clarify_only else [clarify_only, others])
                for values in itertools.product(*g.values())]
    columns = COLUMNS + (S3_COLUMNS if s3 is not None else [])
    rows = []
    seen = set()
    for setting in settings:
        key = tuple(sorted(setting.items()))
        if key in seen:
            continue
        seen.add(key)
        g = {**decide.GUARD, **guard, "min_intent": setting["min_intent"], "min_topic": setting["min_topic"]}
        decide.MULTI.update({"min_intent": setting["multi_intent"], "min_topic": setting["multi_topic"]})
        decide.CLARIFY.update({"sure_faq": setting["sure_faq"]})
        Q = {k: ([reapply(p, setting["fallback"], ambiguity, g) for p in v] if not k.endswith("_parts") else v)
             for k, v in P.items()}
        metrics, _ = nc.score_sets(sets, copy.deepcopy(Q), known)
        if s3 is not None:
            metrics.update(nc.score_exam(s3, [reapply(p, setting["fallback"], ambiguity, g) for p in s3_parses],
                                         known, prefix="stranger3"))
        rows.append({"setting": setting, **{c: metrics.get(c) for c in columns}})
    decide.MULTI.update(base_multi)
    decide.CLARIFY.update(base_clarify)
    head = ["fb", "mi", "mt", "xi", "xt", "sf"] + [
        c.replace("answered_right", "ok").replace("stranger.", "s.").replace("stranger3.", "s3.")
         .replace("_kept_out", "_out").replace("held_out.", "h.").replace("clarify_rate", "clar")
        for c in columns]
    print(" ".join(f"{h:>8s}" for h in head))
    for r in rows:
        s = r["setting"]
        vals = [s["fallback"], s["min_intent"], s["min_topic"], s["multi_intent"], s["multi_topic"], s["sure_faq"]]
        vals += [r[c] if r[c] is not None else float("nan") for c in columns]
        print(" ".join(f"{v:8.3f}" for v in vals))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "nlu_sweep.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
