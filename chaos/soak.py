"""python -m chaos.soak [--minutes 20] [--sample-s 30]

Steady mixed load on the whole stack (the chaos suite's environment: real supervisor, private
PostgreSQL and Redis, no faults): three buyers ask the bot (FAQ, orders, credit), a fourth is
with an agent who answers each message, a WebSocket watches that buyer. Resident memory (RSS)
of each part's process tree is sampled every `sample_s`; at the end it prints, per part, the
RSS after the warm-up, at the end, the growth, and the ledger: every message stored once and
answered, no request that finally failed."""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Dict, List

from bench.memory import tree, vmrss_kb

from .env import MODEL, Environment
from .run import Chaos
from .traffic import Sent

PARTS = ("rasa", "actions", "backend", "gateway")


def rss_mb(pid: int) -> float:
    return sum(vmrss_kb(p) for p in tree(pid)) / 1024


async def soak(env: Environment, minutes: float, sample_s: float, warmup_s: float = 120.0) -> int:
    c = Chaos(env, say=lambda line: print(line, flush=True))
    await c.setup()
    samples: List[Dict[str, float]] = []
    sent: List[Sent] = []
    errors: List[str] = []
    started = time.monotonic()
    end = started + minutes * 60
    next_sample = started
    pids0 = {p: env.stack.pid(p) for p in PARTS}
    rounds = 0
    try:
        while time.monotonic() < end:
            try:
                sent += await c.round()
                rounds += 1
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            if time.monotonic() >= next_sample:
                sample = {"t": time.monotonic() - started, **{p: rss_mb(env.stack.pid(p)) for p in PARTS}}
                samples.append(sample)
                print(f"[soak {sample['t'] / 60:5.1f} min] rounds {rounds}, messages {len(sent)}, "
                      + ", ".join(f"{p} {sample[p]:.0f} MB" for p in PARTS), flush=True)
                next_sample += sample_s
            await asyncio.sleep(0.5)
        verdict = await c.ledger(sent, 0)
    finally:
        await c.close()
    restarted = [p for p in PARTS if env.stack.pid(p) != pids0[p]]
    base = next((s for s in samples if s["t"] >= warmup_s), samples[0])
    last = samples[-1]
    hours = max(1e-9, (last["t"] - base["t"]) / 3600)
    elapsed = time.monotonic() - started
    print(f"\nsoak: {elapsed / 60:.1f} min, {rounds} rounds, {len(sent)} buyer messages "
          f"({len(sent) / elapsed:.2f}/s), {len(c.agent.replies)} agent replies")
    print(f"{'part':<9} {'after warm-up':>14} {'end':>9} {'growth':>9} {'per hour':>10}")
    for p in PARTS:
        g = last[p] - base[p]
        print(f"{p:<9} {base[p]:>11.0f} MB {last[p]:>6.0f} MB {g:>+6.1f} MB {g / hours:>+7.1f} MB")
    answered = sum(1 for s in sent if "bot" in s.reply_senders)
    apologies = sum(1 for s in sent if "bot_unavailable" in s.reply_kinds)
    slowest = max((s.seconds for s in sent), default=0)
    print(f"answers: {answered} bot replies to {sum(1 for s in sent if not s.with_agent)} bot messages, "
          f"{apologies} apologies, slowest {slowest:.1f} s; restarted parts: {', '.join(restarted) or 'none'}")
    print(f"ledger: lost {verdict.lost + verdict.unanswered + verdict.undelivered}, duplicated {verdict.duplicated}; "
          f"errors {len(errors)}")
    for e in (errors + verdict.problems)[:10]:
        print(f"  {e}")
    return 0 if verdict.ok and not errors and not restarted else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaos.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--sample-s", type=float, default=30.0)
    p.add_argument("--warmup-s", type=float, default=120.0)
    args = p.parse_args(argv)
    if not MODEL.exists():
        print("no trained model: run `make train` first", file=sys.stderr)
        return 2
    print(f"soak: starting the stack on a private PostgreSQL and Redis, then {args.minutes:g} min of load ...", flush=True)
    with Environment() as env:
        return asyncio.run(soak(env, args.minutes, args.sample_s, args.warmup_s))


if __name__ == "__main__":
    raise SystemExit(main())
