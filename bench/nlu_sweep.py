"""Sweep the decision settings (FallbackClassifier threshold, RetrievalGuard, two-question
thresholds) on every evaluation set without retraining (issue 10, round 3):

    python -m bench.nlu_sweep --model models/paylater.tar.gz [--cache results/nlu/parses.pkl]

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
           "stranger.off_topic_kept_out", "stranger.multi_all_answered", "stranger.clarify_rate"]


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.nlu_sweep")
    ap.add_argument("--model", default="models/paylater.tar.gz")
    ap.add_argument("--cache", default="results/nlu/parses.pkl")
    args = ap.parse_args(argv)
    sets, P, known = parse_sets(args.model, Path(args.cache))
    threshold, ambiguity, guard = nc.model_settings()
    base_multi = dict(decide.MULTI)
    grid = {
        "fallback": [threshold, 0.3, 0.5],
        "min_intent": [guard.get("min_intent", 0.5), 0.4, 0.6],
        "min_topic": [guard.get("min_topic", 0.3), 0.2, 0.4],
        "multi_intent": [base_multi["min_intent"], 0.5],
        "multi_topic": [base_multi["min_topic"], 0.4],
    }
    rows = []
    seen = set()
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values))
        key = tuple(sorted(setting.items()))
        if key in seen:
            continue
        seen.add(key)
        g = {**decide.GUARD, **guard, "min_intent": setting["min_intent"], "min_topic": setting["min_topic"]}
        decide.MULTI.update({"min_intent": setting["multi_intent"], "min_topic": setting["multi_topic"]})
        Q = {k: ([reapply(p, setting["fallback"], ambiguity, g) for p in v] if not k.endswith("_parts") else v)
             for k, v in P.items()}
        metrics, _ = nc.score_sets(sets, copy.deepcopy(Q), known)
        rows.append({"setting": setting, **{c: metrics.get(c) for c in COLUMNS}})
    decide.MULTI.update(base_multi)
    head = ["fb", "mi", "mt", "xi", "xt"] + [c.replace("answered_right", "ok").replace("stranger.", "s.")
                                             .replace("_kept_out", "_out").replace("held_out.", "h.")
                                             for c in COLUMNS]
    print(" ".join(f"{h:>8s}" for h in head))
    for r in rows:
        s = r["setting"]
        vals = [s["fallback"], s["min_intent"], s["min_topic"], s["multi_intent"], s["multi_topic"]]
        vals += [r[c] if r[c] is not None else float("nan") for c in COLUMNS]
        print(" ".join(f"{v:8.3f}" for v in vals))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "nlu_sweep.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
