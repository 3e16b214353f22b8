"""python -m chaos [--only NAME ...] [--redis-down-s 30] [--keep]

Starts a private PostgreSQL and Redis and the whole stack on them (the real supervisor), then
injects each fault in turn while buyers and an agent talk. Prints one line per fault and
`faults survived N/M, messages lost L, duplicated D`; exit 0 only when all survived, 0 lost
and 0 duplicated."""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

from .env import MODEL, Environment
from .run import ALL, run


def say(line: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {line}" if line.startswith("  ") else line, flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m chaos", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", choices=ALL, help="these faults only (default: all, in this order)")
    p.add_argument("--redis-down-s", type=float, default=30.0)
    p.add_argument("--backend-slow-s", type=float, default=10.0)
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = p.parse_args(argv)
    if not MODEL.exists():
        print("no trained model: run `make train` first", file=sys.stderr)
        return 2
    names = args.only or ALL
    started = time.monotonic()
    print(f"chaos: starting a private PostgreSQL and Redis and the whole stack (Rasa loads its model) ...", flush=True)
    with Environment(keep=args.keep) as env:
        print(f"chaos: stack ready in {time.monotonic() - started:.0f} s ({env.root}); faults: {', '.join(names)}",
              flush=True)
        result = asyncio.run(run(env, names, say, redis_down_s=args.redis_down_s, backend_slow_s=args.backend_slow_s))
    ok = result["survived"] == result["faults"] and result["lost"] == 0 and result["duplicated"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
