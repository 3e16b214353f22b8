"""CPU per message of each process (and of each thread) of the product stack under the bench's
20-conversation load, for A/B comparisons in one run.

    python -m bench.stack_cpu [--variant NAME:KEY=VAL,KEY=VAL ...] [--rounds 2] [--baseline]
                              [--conversations 60] [--concurrency 20] [--opens 0]

Each `--variant` starts its own product stack (bench/product.py) with those environment settings
(no --variant: one stack as configured); every round runs the same load (bench/load.py, the
bench's scripts) on each stack in turn, and on the plain `rasa init` bot with --baseline, so all
see the same machine load. Reported per round: CPU ms per answered message of every process
(from /proc, user + system, children included), of each process's busiest threads, and the
ratio to the plain bot. `--opens N` also measures N conversation opens alone (POST
/v1/conversations: the bench counts their CPU but not their latency). Timings are reported,
never asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Dict, List, Optional

from bench import WORK_DIR, baseline, product
from bench.load import RasaRestTarget, run_load
from bench.memory import _TICKS, stack_cpu_s, tree


def log(msg: str) -> None:
    print(f"[stack_cpu {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def thread_cpu(pid: int) -> Dict[str, float]:
    """CPU seconds per thread of one process tree, keyed 'pid/tid comm'."""
    out: Dict[str, float] = {}
    for p in tree(pid):
        task_dir = Path(f"/proc/{p}/task")
        try:
            tids = list(task_dir.iterdir())
        except OSError:
            continue
        for t in tids:
            try:
                stat = (t / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            key = "main" if t.name == str(p) else f"tid {t.name}"
            key += f" {comm}" + ("" if p == pid else f" (child {p})")
            out[key] = out.get(key, 0.0) + (int(fields[11]) + int(fields[12])) / _TICKS
    return out


def parse_variant(text: str):
    name, _, rest = text.partition(":")
    env = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
    return name, env


def start_variant(name: str, env: Dict[str, str], stamp: str):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return product.start(WORK_DIR / f"stackcpu-{name}-{stamp}", log=log)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def measure(name: str, target, scripts, pids: Dict[str, int], concurrency: int, conversations: int,
            prefix: str) -> dict:
    load = round(os.getloadavg()[0], 2)
    cpu0 = stack_cpu_s(pids)
    th0 = {n: thread_cpu(pid) for n, pid in pids.items()}
    r = asyncio.run(run_load(name, target, scripts, concurrency, prefix, conversations=conversations, deadline_s=300))
    cpu1 = stack_cpu_s(pids)
    th1 = {n: thread_cpu(pid) for n, pid in pids.items()}
    per = lambda a, b: round((b - a) * 1000 / max(r.ok, 1), 2)
    cpu = {n: per(cpu0[n], cpu1[n]) for n in cpu1}
    threads = {}
    for n in th1:
        rows = {k: per(th0[n].get(k, 0.0), v) for k, v in th1[n].items()}
        threads[n] = dict(sorted(((k, v) for k, v in rows.items() if v >= 0.05), key=lambda kv: -kv[1]))
    return {"ok": r.ok, "errors": r.errors, "p50_ms": r.p50_ms, "p95_ms": r.p95_ms, "mps": r.throughput_mps,
            "load": load, "cpu_ms": cpu, "total_ms": round(sum(cpu.values()), 2), "threads": threads}


def measure_opens(name: str, stack, n: int, prefix: str) -> dict:
    """CPU of `n` conversation opens alone (half signed in, as in the bench's mix)."""
    import aiohttp

    target = stack.target()
    pids = stack.pids()

    async def go():
        async with aiohttp.ClientSession() as session:
            for i in range(n):
                await target.open(session, i, f"{prefix}-{i}")

    cpu0 = stack_cpu_s(pids)
    asyncio.run(go())
    cpu1 = stack_cpu_s(pids)
    return {n_: round((cpu1[n_] - cpu0[n_]) * 1000 / n, 2) for n_ in cpu1}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.stack_cpu", description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", default=[], help="NAME:KEY=VAL,KEY=VAL (repeatable)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--baseline", action="store_true", help="also the plain rasa init bot, each round")
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--conversations", type=int, default=60)
    ap.add_argument("--opens", type=int, default=0)
    ap.add_argument("--out", help="write the rounds as JSON here")
    args = ap.parse_args(argv)
    variants = [parse_variant(v) for v in args.variant] or [("product", {})]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    results: Dict[str, List[dict]] = {}
    with ExitStack() as es:
        systems, profiled = [], []
        for name, env in variants:
            log(f"starting {name} {env}")
            st = start_variant(name, env, stamp)
            es.callback(st.stop)
            systems.append((name, st.target(), product.SCRIPTS, st.pids(), st))
            if env.get("PAYLATER_PROFILE_DIR"):
                profiled.append(st)
        if args.baseline:
            model, _ = baseline.ensure_model(log=log)
            bst, url = baseline.start(model, WORK_DIR / f"stackcpu-baseline-{stamp}")
            es.callback(bst.stop)
            systems.append(("plain", RasaRestTarget(url), baseline.SCRIPTS, {n: p.pid for n, p in bst.procs.items()}, None))
        for name, target, scripts, pids, _ in systems:  # warm-up, as the bench does
            asyncio.run(run_load("warmup", target, scripts, 2, f"{name}-{stamp}-warm", conversations=8, deadline_s=300))
        for st in profiled:  # bot/profiling.py: count from here on
            for name, pid in st.pids().items():
                if name in ("rasa", "actions", "gateway"):  # the processes that call maybe_start
                    os.kill(pid, signal.SIGUSR1)
        for rnd in range(args.rounds):
            for name, target, scripts, pids, st in systems:
                m = measure(name, target, scripts, pids, args.concurrency, args.conversations, f"{name}-{stamp}-r{rnd}")
                if args.opens and st is not None:
                    m["opens_cpu_ms"] = measure_opens(name, st, args.opens, f"{name}-{stamp}-o{rnd}")
                results.setdefault(name, []).append(m)
                log(f"round {rnd} {name}: total {m['total_ms']} ms/msg {m['cpu_ms']} p50 {m['p50_ms']} p95 "
                    f"{m['p95_ms']} ok {m['ok']} err {m['errors']} load {m['load']}")
            if "plain" in results:
                plain = results["plain"][-1]["total_ms"]
                log("round %d ratios: %s" % (rnd, ", ".join(f"{n} {results[n][-1]['total_ms'] / plain:.2f}x"
                                                           for n in results if n != "plain")))
    for name, rounds in results.items():
        print(f"== {name}")
        for i, m in enumerate(rounds):
            print(f"  round {i}: total {m['total_ms']} {m['cpu_ms']} p50 {m['p50_ms']} p95 {m['p95_ms']} load {m['load']}"
                  + (f" opens {m['opens_cpu_ms']}" if "opens_cpu_ms" in m else ""))
            for proc, rows in m["threads"].items():
                top = list(rows.items())[:6]
                print(f"    {proc}: " + ", ".join(f"{k} {v}" for k, v in top))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
