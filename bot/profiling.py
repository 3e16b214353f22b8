"""Opt-in profiling of a running process (the gateway, Rasa, the action server), for finding
where CPU goes in the whole stack under load (bench/stack_cpu.py). Off unless
PAYLATER_PROFILE_DIR is set; then PAYLATER_PROFILE picks how:

- `cprofile` (default): cProfile in every thread, timed by each thread's CPU clock (waiting
  costs nothing), merged into `<part>-<pid>.pstats` at exit; SIGUSR1 starts the count afresh
  (bench/stack_cpu.py sends it after the warm-up). Slow: compare rows, not totals.
- `sample`: every 5 ms a thread looks at every Python thread's stack and charges it the CPU time
  that thread used since the last look (per-thread CPU clocks). Cheap, but work that ends
  between two looks is charged to where the thread waits next (`select`, a queue's `get`).
  Written at exit as `<part>-<pid>.sample.json`.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Dict, Optional


class CpuSampler:
    def __init__(self, interval_s: float = 0.005):
        self.interval_s = interval_s
        self.own: Counter = Counter()
        self.incl: Counter = Counter()
        self.stacks: Counter = Counter()
        self.by_thread: Counter = Counter()
        self._stop = threading.Event()
        self._last: Dict[int, float] = {}
        self._thread = threading.Thread(target=self._run, name="paylater-sampler", daemon=True)

    def start(self) -> "CpuSampler":
        self._thread.start()
        return self

    def _cpu(self, ident: int) -> Optional[float]:
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(ident))
        except (OSError, ValueError, OverflowError):
            return None

    def _run(self) -> None:
        me = threading.get_ident()
        names = {}
        while not self._stop.wait(self.interval_s):
            frames = sys._current_frames()
            for ident, frame in frames.items():
                if ident == me:
                    continue
                now = self._cpu(ident)
                if now is None:
                    continue
                used = now - self._last.get(ident, now)
                self._last[ident] = now
                if used <= 0:
                    continue
                if ident not in names:
                    names = {t.ident: t.name for t in threading.enumerate()}
                self.by_thread[names.get(ident, str(ident))] += used
                chain = []
                f = frame
                while f is not None:
                    code = f.f_code
                    chain.append(f"{code.co_filename.rsplit('site-packages/', 1)[-1]}:{code.co_firstlineno}:{code.co_name}")
                    f = f.f_back
                if not chain:
                    continue
                self.own[chain[0]] += used
                for fn in set(chain):
                    self.incl[fn] += used
                self.stacks[" <- ".join(chain[:12])] += used

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def report(self, top: int = 80) -> dict:
        ms = lambda c: [(k, round(v * 1000, 1)) for k, v in c.most_common(top)]
        return {"cpu_ms_sampled": round(sum(self.by_thread.values()) * 1000, 1), "by_thread": ms(self.by_thread),
                "own": ms(self.own), "inclusive": ms(self.incl), "stacks": ms(self.stacks)}


def maybe_start(part: str, environ=os.environ) -> None:
    """Start profiling this process if PAYLATER_PROFILE_DIR is set; results are written at exit."""
    out_dir = environ.get("PAYLATER_PROFILE_DIR")
    if not out_dir:
        return
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    how = environ.get("PAYLATER_PROFILE", "cprofile")
    base = Path(out_dir) / f"{part}-{os.getpid()}"
    if how != "sample":
        import cProfile
        import marshal
        import signal

        profiles = []
        baseline: Dict = {}

        def per_thread(*_args):  # first event in a new thread: give it its own CPU-time profile
            prof = cProfile.Profile(time.thread_time)
            profiles.append(prof)
            prof.enable()

        def merged() -> Dict:
            out: Dict = {}
            for prof in list(profiles):
                prof.snapshot_stats()
                for fn, (cc, nc, tt, ct, callers) in prof.stats.items():
                    a = out.get(fn)
                    out[fn] = (cc, nc, tt, ct, dict(callers)) if a is None else \
                        (a[0] + cc, a[1] + nc, a[2] + tt, a[3] + ct, _add(a[4], callers))
            return out

        def mark(*_args) -> None:  # SIGUSR1: count from now on (after start-up and warm-up)
            baseline.clear()
            baseline.update(merged())

        threading.setprofile(per_thread)
        per_thread()  # this (main) thread
        signal.signal(signal.SIGUSR1, mark)

        def dump() -> None:
            stats = merged()
            for fn, old in baseline.items():
                if fn in stats:
                    new = stats[fn]
                    stats[fn] = (new[0] - old[0], new[1] - old[1], new[2] - old[2], new[3] - old[3],
                                 _sub(new[4], old[4]))
            with open(str(base) + ".pstats", "wb") as f:
                marshal.dump({fn: v for fn, v in stats.items() if v[1] > 0}, f)
    else:
        sampler = CpuSampler().start()

        def dump() -> None:
            sampler.stop()
            Path(str(base) + ".sample.json").write_text(json.dumps(sampler.report(), indent=1))
    atexit.register(dump)


def _add(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = tuple(x + y for x, y in zip(out[k], v)) if k in out else v
    return out


def _sub(a: dict, b: dict) -> dict:
    out = {}
    for k, v in a.items():
        w = tuple(x - y for x, y in zip(v, b[k])) if k in b else v
        if w[0] > 0:
            out[k] = w
    return out
