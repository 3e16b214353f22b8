"""Session-length curve: does a message cost the same at the 150th turn as at the 5th?

    python -m bench.session [--turns 5,50,150,500] [--window 16] [--store ours|rasa] [--model ...]

One signed-in buyer's conversations through the gateway's app API (the whole stack of `make run`
on SQLite), messages sent one after another from a mix of FAQ questions and order / credit
look-ups (custom actions every other message). At each turn T of `--turns`, `--window` messages
are measured: message T of that many new conversations for early turns (T <= 20), messages
T .. T+window-1 of one long conversation for later ones. Wall latency (p50) and CPU
milliseconds per message of each process (/proc, so what the other users of the machine do
does not count; wall latency does).

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
# Turns up to this are measured on new conversations (one message each), later ones on one long
# conversation (consecutive messages). A multiple of len(MIX) as the window gives each point the
# same mix of messages.
FRESH_UP_TO = 20
DEFAULT_WINDOW = 16


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


async def _send(http, url, headers, text) -> dict:
    async with http.post(url, json={"text": text}, headers=headers) as r:
        return await r.json(content_type=None)


def _failed(body: dict) -> bool:
    replies = [m for m in (body.get("messages") or []) if m.get("sender") == "bot"]
    return not replies or any(m.get("kind") == "bot_unavailable" for m in replies)


async def _curve(stack, turns: List[int], window: int, deadline_s: float) -> List[dict]:
    """At each turn T: CPU and latency of `window` messages. Early turns (T <= FRESH_UP_TO) take
    message T of `window` new conversations (each starting at another place of MIX, so the
    measured messages are the same mix as a window of consecutive ones); later turns take
    messages T .. T+window-1 of one long conversation. CPU is read around each measured message
    only (/proc counts in 10 ms ticks: summing over `window` messages keeps the error of a
    point near 10 ms / window per process)."""
    token = stack.token()
    headers = {"Authorization": f"Bearer {token}"}
    pids = stack.pids()
    points: List[dict] = []
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def conversation() -> str:
            async with http.post(f"{stack.gateway_url}/v1/conversations", json={"client": "web"},
                                 headers=headers) as r:
                return f"{stack.gateway_url}/v1/conversations/{(await r.json())['id']}/messages"

        # warm-up in another conversation: a fresh process's first messages pay for lazy imports
        # and graph tracing, which is not what turn 5 should measure
        warm = await conversation()
        for text in MIX * 2:
            await _send(http, warm, headers, text)

        async def measured(url: str, text: str, lat: List[float], cpu: Dict[str, float]) -> bool:
            cpu0 = stack_cpu_s(pids)
            t0 = time.perf_counter()
            body = await _send(http, url, headers, text)
            lat.append((time.perf_counter() - t0) * 1000)
            for name, value in stack_cpu_s(pids).items():
                cpu[name] = cpu.get(name, 0.0) + value - cpu0[name]
            return _failed(body)

        long_url = await conversation()
        sent = 0
        for at in sorted(turns):
            lat: List[float] = []
            cpu: Dict[str, float] = {}
            failed = 0
            if at <= FRESH_UP_TO:
                for j in range(window):
                    url = await conversation()
                    for i in range(at - 1):
                        await _send(http, url, headers, MIX[(j + i) % len(MIX)])
                    failed += await measured(url, MIX[(j + at - 1) % len(MIX)], lat, cpu)
            else:
                while sent < at - 1:  # bring the long session to `at - 1` messages, unmeasured
                    await _send(http, long_url, headers, MIX[sent % len(MIX)])
                    sent += 1
                    if time.monotonic() - started > deadline_s:
                        log(f"deadline reached at turn {sent}; stopping the curve")
                        return points
                for _ in range(window):
                    failed += await measured(long_url, MIX[sent % len(MIX)], lat, cpu)
                    sent += 1
            per = {n: round(v * 1000 / window, 1) for n, v in cpu.items()}
            point = {"turn": at, "messages": window, "fresh_conversations": at <= FRESH_UP_TO,
                     "p50_ms": round(statistics.median(lat), 1), "mean_ms": round(statistics.fmean(lat), 1),
                     "cpu_ms_per_message": per, "cpu_ms_total": round(sum(per.values()), 1), "failed": failed,
                     "load": round(os.getloadavg()[0], 2), "rss_mb": stack_rss_mb(pids)}
            log(f"turn {at}: p50 {point['p50_ms']} ms, CPU {point['cpu_ms_total']} ms/message {per}")
            points.append(point)
    return points


def run(turns=DEFAULT_TURNS, window: int = DEFAULT_WINDOW, store: str = "ours", model: Optional[Path] = None,
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
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW,
                        help="messages measured at each turn (a multiple of 8: the whole message mix)")
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
