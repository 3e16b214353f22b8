"""python -m bench [--quick] [--skip-baseline] [--only speed|understanding] [--measure-train]

Starts the product stack (SQLite) on free loopback ports, measures understanding and speed,
then the plain `rasa init` bot with the same load, and writes bench/results/."""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import traceback
from typing import Optional

import rasa

from bench import WORK_DIR, baseline, product, report, train, understanding
from bench.load import run_load
from bench.memory import PeakSampler


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def plan(quick: bool) -> dict:
    """How much load: bounded counts (conversations) and a deadline per run."""
    if quick:
        return {"quick": True, "warmup_conversations": 4, "sequential_conversations": 4,
                "levels": {"c20": (20, 1)}, "deadline_s": 120}
    return {"quick": False, "warmup_conversations": 8, "sequential_conversations": 12,
            "levels": {"c20": (20, 3), "c50": (50, 2)}, "deadline_s": 300}


def speed(make_request, scripts, pids, cfg: dict, prefix: str) -> dict:
    out = {}
    asyncio.run(run_load("warmup", make_request, scripts, 2, f"{prefix}-warm",
                         conversations=cfg["warmup_conversations"], deadline_s=cfg["deadline_s"]))
    with PeakSampler(pids) as sampler:
        log(f"{prefix}: sequential, {cfg['sequential_conversations']} conversations")
        out["sequential"] = asyncio.run(run_load("sequential", make_request, scripts, 1, f"{prefix}-seq",
                                                 conversations=cfg["sequential_conversations"], deadline_s=cfg["deadline_s"]))
        for key, (n, per_slot) in cfg["levels"].items():
            log(f"{prefix}: {n} concurrent conversations, {n * per_slot} in all")
            out[key] = asyncio.run(run_load(key, make_request, scripts, n, f"{prefix}-{key}",
                                            conversations=n * per_slot, deadline_s=cfg["deadline_s"]))
    result = {k: {**v.summary(), "latencies_ms": v.latencies_ms} for k, v in out.items()}
    result["memory_mb"] = sampler.peak
    return result


def run_product(args, cfg: dict, stamp: str) -> tuple:
    results_u: Optional[dict] = None
    try:
        stack = product.start(WORK_DIR / f"product-{stamp}", log=log)
    except Exception as exc:  # report what ran, keep going with the baseline
        log(f"product stack not started: {exc}")
        reason = f"not run: {str(exc).splitlines()[0][:300]}"
        return {"status": reason}, {"status": reason}
    try:
        log(f"product: first answer {stack.start_s} s after launch (parts: {', '.join(stack.parts)})")
        make = stack.request_factory()
        via = "gateway app API" if "gateway" in stack.parts else "Rasa REST webhook (gateway not in the stack yet)"
        if args.only in (None, "understanding"):
            log("understanding: held-out NLU, out-of-scope, FAQ facts end to end")
            results_u = {
                "nlu": understanding.evaluate_nlu(stack.parse),
                "out_of_scope": understanding.fallback_rate(stack.parse),
                "faq": understanding.faq_end_to_end(stack.request_factory(), f"bench-{stamp}"),
            }
        p = {"parts": stack.parts, "via": via, "start_s": stack.start_s}
        if args.only in (None, "speed"):
            p.update(speed(make, product.SCRIPTS, stack.pids(), cfg, f"pl-{stamp}"))
        return p, results_u
    except Exception as exc:
        traceback.print_exc()
        return {"status": f"failed: {exc!r}"[:300]}, results_u
    finally:
        stack.stop()


def run_baseline(cfg: dict, stamp: str) -> dict:
    try:
        model, train_s = baseline.ensure_model(log=log)
        t0 = time.monotonic()
        stack, url = baseline.start(model, WORK_DIR / f"baseline-{stamp}")
    except Exception as exc:
        log(f"baseline not started: {exc}")
        return {"status": f"not run: {str(exc).splitlines()[0][:300]}"}
    try:
        from bench.load import rasa_rest_request

        start_s = round(time.monotonic() - t0, 1)
        out = {"train_s": train_s, "start_s": start_s, "model": model.name}
        out.update(speed(rasa_rest_request(url), baseline.SCRIPTS, {n: p.pid for n, p in stack.procs.items()}, cfg, f"base-{stamp}"))
        return out
    finally:
        stack.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, 20 conversations only (a few minutes)")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the plain rasa init bot")
    parser.add_argument("--only", choices=["speed", "understanding"])
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
                   "conversations_per_slot": {k: s for k, (n, s) in cfg["levels"].items()}, "only": args.only},
    }
    if args.measure_train:
        log("timing `rasa train` (cold cache) ...")
        train.measure(log=log)
    results["train"] = train.last()
    results["product"], u = run_product(args, cfg, stamp)
    if u is not None:
        results["understanding"] = u
    if args.only != "understanding" and not args.skip_baseline:
        results["baseline"] = run_baseline(cfg, stamp)
    results["targets"] = report.targets(results)
    print(report.render(results))
    paths = report.write(results)
    print("\nResults: " + ", ".join(str(p.relative_to(WORK_DIR.parent.parent)) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
