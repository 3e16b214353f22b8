"""Parse latency of two NLU models, loaded in one process and parsed alternately (A, B, A, B ...)
on the same messages, so shared-machine load hits both alike (issue 10: "latency within +10 %"):

    python -m bench.nlu_latency --a models/main.tar.gz --b models/paylater.tar.gz [--n 300]

Messages: every evaluation set's texts in a fixed shuffled order (short questions, long
messages, off-topic), each parsed once per model after a warm-up. Reports wall ms and process
CPU ms per parse (mean / median / p95), overall and for long messages (>= 22 words). Results:
bench/results/nlu_latency.json (and printed)."""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

from bench import RESULTS_DIR
from bot import nlu_check as nc


def texts(n: int) -> List[str]:
    root = Path("tests")
    sets, _ = nc.load_sets(root / "nlu", root / "nlu_blind", root / "nlu_stranger", root / "nlu_dev")
    out = list(dict.fromkeys(t for name in nc.SET_NAMES for t in nc.set_texts(sets, name)))
    random.Random(10).shuffle(out)
    return out[:n]


def summary(xs: List[float]) -> Dict[str, float]:
    xs = sorted(xs)
    if not xs:
        return {}
    return {"n": len(xs), "mean": round(statistics.fmean(xs), 2), "median": round(statistics.median(xs), 2),
            "p95": round(xs[min(len(xs) - 1, int(0.95 * len(xs)))], 2)}


async def run(a: str, b: str, msgs: List[str]) -> Dict[str, Dict[str, List[float]]]:
    from rasa.core.agent import Agent

    agents = {"a": Agent.load(a), "b": Agent.load(b)}
    for agent in agents.values():  # warm-up: first parses build TF functions
        for t in msgs[:10]:
            await agent.parse_message(t)
    out = {k: {"wall": [], "cpu": [], "long_wall": [], "long_cpu": []} for k in agents}
    for i, t in enumerate(msgs):
        order = ["a", "b"] if i % 2 == 0 else ["b", "a"]
        for k in order:
            w0, c0 = time.perf_counter(), time.process_time()
            await agents[k].parse_message(t)
            wall, cpu = (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000
            out[k]["wall"].append(wall)
            out[k]["cpu"].append(cpu)
            if len(t.split()) >= 22:
                out[k]["long_wall"].append(wall)
                out[k]["long_cpu"].append(cpu)
    return out


def main(argv=None) -> int:
    import logging
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)
    ap = argparse.ArgumentParser(prog="python -m bench.nlu_latency")
    ap.add_argument("--a", required=True, help="the reference model")
    ap.add_argument("--b", required=True, help="the model measured against it")
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args(argv)
    msgs = texts(args.n)
    raw = asyncio.run(run(args.a, args.b, msgs))
    result = {"model_a": args.a, "model_b": args.b, "messages": len(msgs), "load_before": round(os.getloadavg()[0], 2),
              **{k: {m: summary(v) for m, v in d.items()} for k, d in raw.items()}}
    for m in ("wall", "cpu", "long_wall", "long_cpu"):
        ra, rb = result["a"][m], result["b"][m]
        if ra and rb:
            result[f"ratio_{m}_mean"] = round(rb["mean"] / ra["mean"], 3)
            result[f"ratio_{m}_median"] = round(rb["median"] / ra["median"], 3)
            print(f"{m:10s} a {ra['mean']:7.2f} / {ra['median']:7.2f} ms   b {rb['mean']:7.2f} / {rb['median']:7.2f} ms"
                  f"   b/a mean {result[f'ratio_{m}_mean']:.3f} median {result[f'ratio_{m}_median']:.3f}  (n={ra['n']})")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "nlu_latency.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
