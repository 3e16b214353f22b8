"""Sequential latency of two trained models, both stacks up at once and measured in turns (issue
10: "sequential latency does not grow by more than 10 %"):

    python -m bench.ab_models --a models/round8.tar.gz --b models/paylater.tar.gz [--rounds 6]

Why not two `python -m bench --only speed` runs: this machine is shared and its load moves by
tens of percent within minutes, so two runs a few minutes apart differ more than the models do.
Here both product stacks (the four processes each, own SQLite files) are started first and
warmed up; then each round sends `--conversations` conversations of the bench's scripts, one
message at a time, to A and then to B (B first on odd rounds). Reported per model: the median
over rounds of the p50, mean and p95 latency (client side, request to full reply, through the
gateway as in `make bench`) and of Rasa's CPU milliseconds per message; and B/A of each.
Results: bench/results/ab_models.json, or `--out` (and printed)."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

from bench import RESULTS_DIR, WORK_DIR, product
from bench.load import run_load
from bench.memory import stack_cpu_s


def log(msg: str) -> None:
    print(f"[ab {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def one_run(stack, name: str, conversations: int) -> Dict[str, float]:
    cpu0 = stack_cpu_s(stack.pids())
    r = asyncio.run(run_load("sequential", stack.target(), product.SCRIPTS, 1, f"ab-{name}-{time.time_ns()}",
                             conversations=conversations, deadline_s=600))
    cpu1 = stack_cpu_s(stack.pids())
    return {"p50_ms": r.p50_ms, "mean_ms": round(statistics.fmean(r.latencies_ms), 1) if r.latencies_ms else None,
            "p95_ms": r.p95_ms, "ok": r.ok,
            "rasa_cpu_ms_per_message": round((cpu1["rasa"] - cpu0["rasa"]) * 1000 / max(r.ok, 1), 1)}


def summarise(runs: List[Dict[str, float]]) -> Dict[str, float]:
    keys = ("p50_ms", "mean_ms", "p95_ms", "rasa_cpu_ms_per_message")
    return {k: round(statistics.median(r[k] for r in runs if r[k] is not None), 1) for k in keys}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ab_models")
    ap.add_argument("--a", required=True, help="the reference model")
    ap.add_argument("--b", required=True, help="the model measured against it")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--conversations", type=int, default=12, help="per model and round (5 messages each)")
    ap.add_argument("--out", default=str(RESULTS_DIR / "ab_models.json"))
    args = ap.parse_args(argv)
    models = {"a": Path(args.a), "b": Path(args.b)}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stacks = {}
    try:
        for key, model in models.items():
            stacks[key] = product.start(WORK_DIR / f"ab-{key}-{stamp}", model=model, log=log)
        for key, stack in stacks.items():
            one_run(stack, key, 8)  # warm-up: TensorFlow functions, caches, connections
        runs: Dict[str, List[dict]] = {k: [] for k in stacks}
        for i in range(args.rounds):
            for key in (["a", "b"] if i % 2 == 0 else ["b", "a"]):
                runs[key].append(one_run(stacks[key], key, args.conversations))
                log(f"round {i + 1} {key}: {runs[key][-1]}")
    finally:
        for stack in stacks.values():
            stack.stop()
    result = {"measured_at": time.strftime("%Y-%m-%d %H:%M:%S %z"), "model_a": args.a, "model_b": args.b,
              "rounds": args.rounds, "conversations_per_round": args.conversations,
              "load_after": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
              "a": summarise(runs["a"]), "b": summarise(runs["b"]), "runs": runs}
    result["b_over_a"] = {k: round(result["b"][k] / result["a"][k], 3) for k in result["a"] if result["a"][k]}
    for k in result["a"]:
        print(f"{k:26s} a {result['a'][k]:7.1f}   b {result['b'][k]:7.1f}   b/a {result['b_over_a'].get(k, 0):.3f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
