"""Session-length curve: does a message cost the same at the 150th turn as at the 5th?

    python -m bench.session [--turns 5,50,150,500] [--window 5] [--store ours|rasa] [--model ...]

One signed-in buyer's conversation through the gateway's app API (the whole stack of `make run`
on SQLite), messages sent one after another from a mix of FAQ questions and order / credit
look-ups (custom actions every other message). At each turn of `--turns` the next `--window`
messages are measured: wall latency (p50) and CPU milliseconds per message of each process
(/proc, so what the other users of the machine do does not count; wall latency does).

`--store rasa` runs the same with Rasa's own `SQLTrackerStore` (an endpoints file with `type:
SQL`), and `--model` another model (e.g. one whose domain still lists
action_validate_slot_mappings), to measure "before".
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

from bench import RESULTS_DIR, WORK_DIR
from bench.memory import stack_cpu_s, stack_rss_mb

# No handoff, no form: the conversation must stay with the bot for 500 turns.
MIX = [
    "what is pay later?",
    "show my orders",
    "is there a processing fee?",
    "what's the status of order TA-100231?",
    "which currency can I pay in?",
    "what is my credit limit?",
    "how long is the loan term?",
    "where is the money for TA-100245?",
]
DEFAULT_TURNS = (5, 50, 150, 500)


def log(msg: str) -> None:
    print(f"[bench.session {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rasa_store_endpoints(run_dir: Path) -> str:
    """endpoints.yml with Rasa's own SQL tracker store instead of ours ("before")."""
    from bot.config import PROJECT_ROOT

    text = (PROJECT_ROOT / "endpoints.yml").read_text()
    lines = [line for line in text.splitlines() if "cache_mb" not in line]
    text = "\n".join(lines).replace("type: bot.tracker_store.PayLaterTrackerStore", "type: SQL")
    path = run_dir / "endpoints.rasa-sql.yml"
    run_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return str(path)


async def _curve(stack, turns: List[int], window: int, deadline_s: float) -> List[dict]:
    token = stack.token()
    headers = {"Authorization": f"Bearer {token}"}
    pids = stack.pids()
    points: List[dict] = []
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        # warm-up in another conversation: a fresh process's first messages pay for lazy imports
        # and graph tracing, which is not what turn 5 should measure
        async with http.post(f"{stack.gateway_url}/v1/conversations", json={"client": "web"}, headers=headers) as r:
            warm = await r.json()
        for text in MIX * 2:
            async with http.post(f"{stack.gateway_url}/v1/conversations/{warm['id']}/messages", json={"text": text},
                                 headers=headers) as r:
                await r.read()
        async with http.post(f"{stack.gateway_url}/v1/conversations", json={"client": "web"}, headers=headers) as r:
            conv = await r.json()
        url = f"{stack.gateway_url}/v1/conversations/{conv['id']}/messages"
        sent = 0
        for at in sorted(turns):
            while sent < at - 1:  # bring the session to `at - 1` messages, unmeasured
                async with http.post(url, json={"text": MIX[sent % len(MIX)]}, headers=headers) as r:
                    await r.read()
                sent += 1
                if time.monotonic() - started > deadline_s:
                    log(f"deadline reached at turn {sent}; stopping the curve")
                    return points
            lat, failed = [], 0
            cpu0 = stack_cpu_s(pids)
            for _ in range(window):
                t0 = time.perf_counter()
                async with http.post(url, json={"text": MIX[sent % len(MIX)]}, headers=headers) as r:
                    body = await r.json(content_type=None)
                lat.append((time.perf_counter() - t0) * 1000)
                sent += 1
                replies = [m for m in (body.get("messages") or []) if m.get("sender") == "bot"]
                failed += not replies or any(m.get("kind") == "bot_unavailable" for m in replies)
            cpu1 = stack_cpu_s(pids)
            cpu = {n: round((cpu1[n] - cpu0[n]) * 1000 / window, 1) for n in cpu1}
            point = {"turn": at, "messages": window, "p50_ms": round(statistics.median(lat), 1),
                     "mean_ms": round(statistics.fmean(lat), 1), "cpu_ms_per_message": cpu,
                     "cpu_ms_total": round(sum(cpu.values()), 1), "failed": failed,
                     "load": round(os.getloadavg()[0], 2), "rss_mb": stack_rss_mb(pids)}
            log(f"turn {at}: p50 {point['p50_ms']} ms, CPU {point['cpu_ms_total']} ms/message {cpu}")
            points.append(point)
    return points


def run(turns=DEFAULT_TURNS, window: int = 5, store: str = "ours", model: Optional[Path] = None,
        deadline_s: float = 1800.0) -> dict:
    from bench import product

    run_dir = WORK_DIR / f"session-{store}-{time.strftime('%Y%m%d-%H%M%S')}"
    endpoints = rasa_store_endpoints(run_dir) if store == "rasa" else "endpoints.yml"
    stack = product.start(run_dir, model=model or product.MODEL, log=log, endpoints=endpoints)
    try:
        points = asyncio.run(_curve(stack, list(turns), window, deadline_s))
    finally:
        stack.stop()
    return {"store": store, "model": str(model or product.MODEL), "window": window, "points": points}


def ratio(curve: Optional[dict], turn: int, base: int = 5, key: str = "cpu_ms_total") -> Optional[float]:
    pts = {p["turn"]: p for p in (curve or {}).get("points", [])}
    if turn not in pts or base not in pts or not pts[base][key]:
        return None
    return round(pts[turn][key] / pts[base][key], 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.session", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", default=",".join(map(str, DEFAULT_TURNS)))
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--store", choices=["ours", "rasa"], default="ours")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds; stop the curve after this")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"JSON file (default {RESULTS_DIR.name}/session-<store>.json)")
    args = parser.parse_args(argv)
    result = run([int(t) for t in args.turns.split(",")], args.window, args.store, args.model, args.deadline)
    result["ratio_150_vs_5"] = {"cpu": ratio(result, 150), "p50": ratio(result, 150, key="p50_ms")}
    out = args.out or RESULTS_DIR / f"session-{args.store}.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
