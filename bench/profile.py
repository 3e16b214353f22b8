"""Where a message's time goes inside Rasa: cProfile of the Rasa message pipeline in-process
(the same model, endpoints and tracker store as `rasa run`, minus HTTP), summarised by phase
(tracker load/save, NLU components, policies, custom action calls) per message.

    python -m bench.profile [--model models/paylater.tar.gz] [--endpoints endpoints.yml]
                            [--messages 60] [--session-length 0] [--top 25]

--with-actions starts the backend and action server on free ports (demo data in a temporary
SQLite database) for the product model's custom actions.
--session-length N first writes N messages into the conversation, to measure how the SQL
tracker store's cost grows with the session (it loads every event of the session per message).
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

from bench import WORK_DIR

# (phase, module path fragment, function name) — cumulative time of these functions.
PHASES = [
    ("tracker: load + session", "rasa/core/processor.py", "fetch_tracker_and_update_session"),
    ("tracker: save", "rasa/core/processor.py", "save_tracker"),
    ("tracker store retrieve (SQL)", "rasa/core/tracker_store.py", "retrieve"),
    ("tracker store retrieve (ours)", "bot/tracker_store.py", "retrieve"),
    ("tracker store save (ours)", "bot/tracker_store.py", "save"),
    ("NLU: parse_message", "rasa/core/processor.py", "parse_message"),
    ("policies: predict next action", "rasa/core/processor.py", "predict_next_with_tracker_if_should"),
    ("actions: run (incl. action server HTTP)", "rasa/core/processor.py", "_run_action"),
    ("action server HTTP call", "rasa/core/actions/action.py", "run"),
    ("lock store", "rasa/core/lock_store.py", "lock"),
]
COMPONENTS = ["process", "process_training_data"]


def _cum(stats: pstats.Stats, fragment: str, func: str) -> float:
    total = 0.0
    for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        if name == func and fragment in path.replace("\\", "/"):
            total = max(total, ct)  # nested/recursive entries: the outermost is the largest
    return total


def _components(stats: pstats.Stats) -> Dict[str, float]:
    """Cumulative time of each graph component's `process` / policy `predict_action_probabilities`."""
    out: Dict[str, float] = {}
    for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        p = path.replace("\\", "/")
        if "/rasa/" not in p:
            continue
        if name in ("process", "predict_action_probabilities") and ("/nlu/" in p or "/policies/" in p):
            key = p.split("/rasa/", 1)[1].replace(".py", "") + f".{name}"
            out[key] = max(out.get(key, 0.0), ct)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


async def _drive(agent, texts: List[str], sender: str, metadata: dict, per_conversation: int = 0) -> List[float]:
    """Send texts in order; a new conversation every `per_conversation` messages (0: one)."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    lat = []
    for n, t in enumerate(texts):
        sid = f"{sender}-{n // per_conversation}" if per_conversation else sender
        t0 = time.perf_counter()
        await agent.handle_message(UserMessage(t, CollectingOutputChannel(), sid, metadata=metadata))
        lat.append((time.perf_counter() - t0) * 1000)
    return lat


class Sampler:
    """A statistical profiler without cProfile's per-call overhead (which inflates Python-heavy
    code several times): a thread looks at the main thread's Python stack every `interval`
    seconds (wall clock); samples where the event loop waits in `select` are idle and left out.
    Self share = the function on top of the stack, inclusive share = anywhere in it (work of
    TensorFlow's own threads shows as the Python call waiting for it)."""

    IDLE = ("select (", "_run_once (")

    def __init__(self, interval: float = 0.001):
        import threading

        self.interval = interval
        self.stacks: Dict[tuple, int] = {}
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            frame = sys._current_frames().get(self._main)
            stack = []
            while frame is not None:
                code = frame.f_code
                path = code.co_filename.replace("\\", "/")
                stack.append(f"{code.co_name} ({path.split('site-packages/')[-1].split('/work/')[-1]}:{code.co_firstlineno})")
                frame = frame.f_back
            if not stack or stack[0].startswith(self.IDLE[0]):
                continue
            key = tuple(stack)
            self.stacks[key] = self.stacks.get(key, 0) + 1

    def __enter__(self) -> "Sampler":
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(self.interval / 2)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._switch)

    def report(self, top: int = 30) -> dict:
        total = sum(self.stacks.values()) or 1
        own: Dict[str, int] = {}
        incl: Dict[str, int] = {}
        for stack, n in self.stacks.items():
            own[stack[0]] = own.get(stack[0], 0) + n
            for f in set(stack):
                incl[f] = incl.get(f, 0) + n
        pick = lambda d: [(round(100 * n / total, 1), f) for f, n in sorted(d.items(), key=lambda kv: -kv[1])[:top]]
        return {"samples": total, "self_percent": pick(own), "inclusive_percent": pick(incl)}


def profile(model: str, endpoints: Optional[str], texts: List[str], messages: int, session_length: int,
            metadata: dict, top: int, sort: str = "cumulative", dump: Optional[str] = None,
            sample: bool = False) -> dict:
    import logging

    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    eps = AvailableEndpoints.read_endpoints(endpoints) if endpoints else AvailableEndpoints()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    agent = loop.run_until_complete(load_agent(model_path=model, endpoints=eps))
    sender = f"profile-{uuid.uuid4().hex[:8]}"
    seq = [texts[i % len(texts)] for i in range(messages)]
    if session_length:
        loop.run_until_complete(_drive(agent, [texts[i % len(texts)] for i in range(session_length)], sender, metadata))
    else:
        loop.run_until_complete(_drive(agent, texts[:2], f"{sender}-warm", metadata))  # lazy init, not measured
    if sample:
        with Sampler() as sampler:
            lat = loop.run_until_complete(_drive(agent, seq, sender, metadata, 0 if session_length else 5))
        loop.close()
        n = len(seq)
        return {"model": model, "endpoints": endpoints, "messages": n, "session_length_before": session_length,
                "latency_ms": {"mean": round(sum(lat) / n, 2), "p50": round(sorted(lat)[n // 2], 2)},
                "sampled": sampler.report(top or 30), "top_cumulative": ""}
    prof = cProfile.Profile()
    prof.enable()
    # without --session-length: conversations of 5 messages, like the load mix
    lat = loop.run_until_complete(_drive(agent, seq, sender, metadata, 0 if session_length else 5))
    prof.disable()
    loop.close()
    stats = pstats.Stats(prof)
    if dump:
        stats.dump_stats(dump)
    n = len(seq)
    phases = {name: round(_cum(stats, frag, fn) * 1000 / n, 2) for name, frag, fn in PHASES}
    comps = {k: round(v * 1000 / n, 2) for k, v in list(_components(stats).items())[:15]}
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats(sort).print_stats(top)
    lat_sorted = sorted(lat)
    return {
        "model": model, "endpoints": endpoints, "messages": n, "session_length_before": session_length,
        "latency_ms": {"mean": round(sum(lat) / n, 2), "p50": round(lat_sorted[n // 2], 2), "max": round(lat_sorted[-1], 2)},
        "per_message_ms_by_phase": phases,
        "per_message_ms_by_component": comps,
        "top_cumulative": buf.getvalue(),
    }


def main(argv=None) -> int:
    import os

    from bot.config import PROJECT_ROOT
    from bot.stack import stack_env

    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "paylater.tar.gz"))
    parser.add_argument("--endpoints", default=None, help="endpoints file (default: none = in-memory tracker store)")
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--session-length", type=int, default=0)
    parser.add_argument("--texts", default=None, help="JSON list of messages (default: the product load mix, anonymous)")
    parser.add_argument("--token-buyer", default=None, help="add a buyer token (demo secret) to the metadata")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"],
                        help="order of the printed functions (tottime: where the CPU is spent)")
    parser.add_argument("--out", default=None, help="write the JSON result here")
    parser.add_argument("--pstats", default=None, help="also write the raw cProfile stats here (pstats format)")
    parser.add_argument("--sample", action="store_true",
                        help="a sampling profiler (the main thread's stack every 1 ms) instead of cProfile: "
                             "shares without cProfile's per-call overhead")
    parser.add_argument("--with-actions", action="store_true", help="start backend + action server on free ports")
    parser.add_argument("--fast-validate", action="store_true", help="install bot.rasa_server's cached validation first")
    parser.add_argument("--product", action="store_true",
                        help="install everything bot.rasa_server installs per message (cached validation, slot "
                             "upkeep inside Rasa, lean action calls, flat states, debug-only copies), as `make "
                             "run` has it "
                             "(PAYLATER_FLAT_STATES=0: without the flat states)")
    args = parser.parse_args(argv)
    if args.fast_validate or args.product:
        from bot.rasa_server import install_cached_validation as install

        install()
    if args.product:
        from bot.rasa_server import (install_debug_only_copies, install_flat_states, install_lean_action_calls,
                                     install_slot_upkeep)

        install_slot_upkeep()
        install_lean_action_calls()
        if os.environ.get("PAYLATER_FLAT_STATES", "1") != "0":
            install_flat_states()
            install_debug_only_copies()
    support = None
    if args.with_actions:
        import subprocess

        from bot.stack import Ports, Stack, default_specs

        run_dir = WORK_DIR / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
        run_dir.mkdir(parents=True)
        ports = Ports.free()
        env = stack_env(demo=True, ports=ports)
        env["PAYLATER_DATABASE_URL"] = f"sqlite:///{run_dir / 'paylater.db'}"
        env["PAYLATER_TRACKER_DB"] = str(run_dir / "tracker.db")
        subprocess.run([sys.executable, "-m", "bot.demo_data"], env=env, cwd=PROJECT_ROOT, check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
        support = Stack(default_specs(env, ports, only=["backend", "actions"]), env, run_dir / "logs")
        support.start(timeout_s=240)
        os.environ.update(env)
    for k, v in stack_env(demo=True).items():  # endpoints.yml substitutes these
        os.environ.setdefault(k, v)
    try:
        return _profile_main(args)
    finally:
        if support is not None:
            support.stop()


def _profile_main(args) -> int:
    import os

    if args.texts:
        texts = json.loads(args.texts)
    else:
        from bench.product import SCRIPTS

        texts = [t for s in SCRIPTS for t in s]
    metadata = {"client": "web"}
    if args.token_buyer:
        from bot.auth import mint_buyer_token

        metadata["auth_token"] = mint_buyer_token(args.token_buyer, os.environ["PAYLATER_JWT_SECRET"])
    result = profile(args.model, args.endpoints, texts, args.messages, args.session_length, metadata, args.top,
                     args.sort, args.pstats, args.sample)
    print(result.pop("top_cumulative") if args.top else "", file=sys.stderr)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
