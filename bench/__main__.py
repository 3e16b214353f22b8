"""python -m bench [--quick] [--skip-baseline] [--only speed|understanding|session] [--measure-train]

Starts the product stack (SQLite) and the plain `rasa init` bot on free loopback ports, measures
understanding, then speed — each load level runs on the product and right after on the baseline,
so both see the same machine load — then the session-length curve (bench/session.py, its own
stack) and writes bench/results/."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import traceback
from contextlib import ExitStack
from typing import Dict, List, Optional, Tuple

import rasa

from bench import RESULTS_DIR, WORK_DIR, baseline, product, report, session, train, understanding
from bench.load import RasaRestTarget, Target, run_load
from bench.memory import PeakSampler, stack_cpu_s


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def plan(quick: bool) -> dict:
    """How much load: bounded counts (conversations of 5 messages) and a deadline per run."""
    if quick:
        return {"quick": True, "warmup_conversations": 4, "sequential_conversations": 4,
                "levels": {"c20": (20, 1)}, "deadline_s": 120}
    return {"quick": False, "warmup_conversations": 8, "sequential_conversations": 12,
            "levels": {"c20": (20, 3), "c50": (50, 2)}, "deadline_s": 300}


class System:
    """One system under test: its load target, scripts and process ids."""

    def __init__(self, name: str, target: Target, scripts, pids: Dict[str, int], info: dict):
        self.name, self.target, self.scripts, self.pids, self.info = name, target, scripts, pids, info
        self.runs: Dict[str, dict] = {}


def run_speed(systems: List[System], cfg: dict, stamp: str) -> None:
    phases = [("warmup", 2, cfg["warmup_conversations"]), ("sequential", 1, cfg["sequential_conversations"])]
    phases += [(key, n, n * per_slot) for key, (n, per_slot) in cfg["levels"].items()]
    with ExitStack() as stack:
        samplers = {s.name: stack.enter_context(PeakSampler(s.pids)) for s in systems}
        for key, concurrency, conversations in phases:
            for s in systems:  # back to back: both systems see the same machine load
                log(f"{s.name}: {key}, {concurrency} at once, {conversations} conversations")
                load = round(os.getloadavg()[0], 2)
                cpu0 = stack_cpu_s(s.pids)
                r = asyncio.run(run_load(key, s.target, s.scripts, concurrency, f"{s.name}-{stamp}-{key}",
                                         conversations=conversations, deadline_s=cfg["deadline_s"]))
                if key != "warmup":
                    cpu1 = stack_cpu_s(s.pids)
                    # where the time goes: CPU milliseconds each process spent per answered message
                    cpu_ms = {n: round((cpu1[n] - cpu0[n]) * 1000 / max(r.ok, 1), 1) for n in cpu1}
                    s.runs[key] = {**r.summary(), "load_before": load, "cpu_ms_per_message": cpu_ms,
                                   "latencies_ms": r.latencies_ms, "by_message": r.by_message(s.scripts)}
                    log(f"{s.name} {key}: p50 {r.p50_ms} p95 {r.p95_ms} ms, {r.throughput_mps} msg/s, "
                        f"CPU ms/msg {cpu_ms}, load {load}")
    for s in systems:
        s.runs["memory_mb"] = samplers[s.name].peak


def start_product(stamp: str, rasa_module: Optional[str] = None, tag: str = "product"):
    try:
        stack = product.start(WORK_DIR / f"{tag}-{stamp}", log=log, rasa_module=rasa_module)
    except Exception as exc:
        log(f"product stack not started: {exc}")
        return None, {"status": f"not run: {str(exc).splitlines()[0][:300]}"}
    via = "gateway app API" if "gateway" in stack.parts else "Rasa REST webhook (gateway not in the stack)"
    log(f"{tag}: first answer {stack.start_s} s after launch (parts: {', '.join(stack.parts)}; via {via})")
    info = {"parts": stack.parts, "via": via, "start_s": stack.start_s}
    if rasa_module:
        info["rasa_entry_point"] = f"python -m {rasa_module} run ..."
    return stack, info


def start_baseline(stamp: str):
    try:
        model, train_s = baseline.ensure_model(log=log)
        t0 = time.monotonic()
        stack, url = baseline.start(model, WORK_DIR / f"baseline-{stamp}")
    except Exception as exc:
        log(f"baseline not started: {exc}")
        return None, None, {"status": f"not run: {str(exc).splitlines()[0][:300]}"}
    start_s = round(time.monotonic() - t0, 1)
    log(f"baseline: up in {start_s} s")
    return stack, url, {"train_s": train_s, "start_s": start_s, "model": model.name}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, 20 conversations only (a few minutes)")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the plain rasa init bot")
    parser.add_argument("--only", choices=["speed", "understanding", "session"])
    parser.add_argument("--session-turns", default="5,50,150,500",
                        help="turns of the session-length curve (bench/session.py); '' skips it")
    parser.add_argument("--compare-plain-rasa", action="store_true",
                        help="also measure the product with Rasa started by plain `rasa run` (without bot.rasa_server's fixes)")
    parser.add_argument("--measure-train", action="store_true",
                        help="time a full `rasa train` of the product (cold cache, into bench/work) and record it")
    args = parser.parse_args(argv)
    cfg = plan(args.quick)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    results = {
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": {"cpus": os.cpu_count(), "load_before": round(os.getloadavg()[0], 2),
                    "python": platform.python_version(), "rasa": rasa.__version__},
        "config": {**{k: v for k, v in cfg.items() if k != "levels"},
                   "levels": {k: {"concurrency": n, "conversations": n * s} for k, (n, s) in cfg["levels"].items()},
                   "messages_per_conversation": len(product.SCRIPTS[0]),
                   "conversations_per_slot": {k: s for k, (n, s) in cfg["levels"].items()}, "only": args.only,
                   "product_scripts": product.SCRIPTS, "baseline_scripts": baseline.SCRIPTS},
    }
    if args.measure_train:
        log("timing `rasa train` (cold cache) ...")
        train.measure(log=log)
    results["train"] = train.last()
    want_speed = args.only in (None, "speed")
    if args.only == "session":
        want_speed = False
    p_stack, b_stack, t_stack = None, None, None
    try:
        if args.only != "session":
            p_stack, results["product"] = start_product(stamp)
        if want_speed and args.compare_plain_rasa:
            t_stack, results["untuned"] = start_product(stamp, "rasa", "untuned")
        if want_speed and not args.skip_baseline:
            b_stack, b_url, results["baseline"] = start_baseline(stamp)
        if p_stack and args.only in (None, "understanding"):
            log("understanding: held-out NLU, out-of-scope, FAQ facts end to end")
            try:
                results["understanding"] = {
                    "nlu": understanding.evaluate_nlu(p_stack.parse),
                    "out_of_scope": understanding.fallback_rate(p_stack.parse),
                    "faq": understanding.faq_end_to_end(p_stack.anonymous_target(), f"bench-{stamp}"),
                    "sets": understanding.evaluate_sets(p_stack.parse),
                }
            except Exception as exc:
                traceback.print_exc()
                results["understanding"] = {"status": f"failed: {exc!r}"[:300]}
        elif not p_stack and args.only in (None, "understanding"):
            results["understanding"] = {"status": results["product"]["status"]}
        if want_speed:
            systems = []
            if p_stack:
                systems.append(System("product", p_stack.target(), product.SCRIPTS, p_stack.pids(), results["product"]))
            if t_stack:
                systems.append(System("untuned", t_stack.target(), product.SCRIPTS, t_stack.pids(), results["untuned"]))
            if b_stack:
                systems.append(System("baseline", RasaRestTarget(b_url), baseline.SCRIPTS,
                                      {n: p.pid for n, p in b_stack.procs.items()}, results["baseline"]))
            run_speed(systems, cfg, stamp)
            for s in systems:
                s.info.update(s.runs)
    finally:
        for s in (p_stack, t_stack, b_stack):
            if s is not None:
                s.stop()
    if args.only in (None, "session") and args.session_turns:
        turns = [int(t) for t in args.session_turns.split(",")]
        log(f"session-length curve at turns {turns} (its own stack)")
        try:
            results["session"] = session.run(turns, window=8 if args.quick else session.DEFAULT_WINDOW)
        except Exception as exc:
            traceback.print_exc()
            results["session"] = {"status": f"failed: {exc!r}"[:300]}
        before = RESULTS_DIR / "session-rasa.json"  # `python -m bench.session --store rasa`, a separate run
        if before.exists():
            results["session_before"] = json.loads(before.read_text())
    results["targets"] = report.targets(results)
    print(report.render(results))
    # a run whose baseline did not start has no ratios: it does not replace the published summary
    full = (not args.quick and args.only is None and not args.skip_baseline
            and not (results.get("baseline") or {}).get("status"))
    paths = report.write(results, publish=full)
    if not full:
        print("\n(partial run: bench/results/latest.json and SUMMARY.md were left as they are)")
    print("\nResults: " + ", ".join(str(p.relative_to(WORK_DIR.parent.parent)) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
