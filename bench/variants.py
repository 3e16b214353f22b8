"""Runtime alternatives for Rasa, measured with the same load (Rasa REST directly, so only Rasa
and its stores differ; action server + backend shared):

    python -m bench.variants [--model models/paylater.tar.gz] [--quick]

  sqlite            endpoints.yml: SQLite tracker store, in-memory lock store (the `make run` default)
  pg+redis          deploy/endpoints.scale.yml: PostgreSQL tracker store, Redis lock store
  pg+redis x2 workers   the same with SANIC_WORKERS=2 (one port, two processes)
  pg+redis 2 replicas   two `rasa run` processes; the load pins each conversation to one replica
                        by a stable hash of its id, as the gateway must
  ... +cached validation  the same with bot.rasa_server's cached validation (action responses validated by a
                        validator built once instead of re-checking the schema on every call)
  ... +WAL              bot.rasa_server: also SQLite in WAL mode, synchronous=NORMAL

Uses a database `paylater_bench_<random>` created on the local PostgreSQL and dropped after.
Results: bench/results/variants.json (and printed)."""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Dict, List

from bench import RESULTS_DIR, WORK_DIR
from bench.load import RasaRestTarget, Request, run_load
from bench.memory import PeakSampler
from bench.report import table
from bot.auth import mint_buyer_token
from bot.config import PROJECT_ROOT
from bot.stack import Ports, Stack, default_specs, free_port, stack_env, use_rasa_entry

POSTGRES = os.environ.get("PAYLATER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("PAYLATER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pick(conversation_id: str, urls: List[str]) -> str:
    """Rendezvous hash: the gateway's replica choice (docs/SCALING.md)."""
    return max(urls, key=lambda u: hashlib.sha256(f"{u}|{conversation_id}".encode()).digest()[:8])


class PinnedRasaTarget(RasaRestTarget):
    def __init__(self, urls: List[str], metadata_for, channel_token=None):
        super().__init__(urls[0], metadata_for, channel_token)
        self.urls = [u.rstrip("/") + "/webhooks/rest/webhook" for u in urls]

    def request(self, conv, text) -> Request:
        req = super().request(conv, text)
        req.url = pick(conv[0], self.urls)
        return req


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(POSTGRES)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.variants")
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "paylater.tar.gz"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="variant names to run")
    args = parser.parse_args(argv)
    from bench import baseline, product

    is_product = Path(args.model).resolve() == (PROJECT_ROOT / "models" / "paylater.tar.gz").resolve()
    scripts = product.SCRIPTS if is_product else baseline.SCRIPTS
    per_slot = 1 if args.quick else 3
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = WORK_DIR / f"variants-{stamp}"
    run_dir.mkdir(parents=True)
    db = f"paylater_bench_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{db}"')
    pg = urllib.parse.urlunsplit(urllib.parse.urlsplit(POSTGRES)._replace(path="/" + db))
    redis = urllib.parse.urlsplit(REDIS)
    ports = Ports.free()
    env = stack_env(demo=True, ports=ports)
    env.update({
        "PAYLATER_DATABASE_URL": f"sqlite:///{run_dir / 'paylater.db'}",
        "PAYLATER_TRACKER_DB": str(run_dir / "tracker.db"),
        "PAYLATER_TRACKER_DB_URL": pg, "PAYLATER_REDIS_HOST": redis.hostname or "127.0.0.1",
        "PAYLATER_REDIS_PORT": str(redis.port or 6379), "PAYLATER_REDIS_PASSWORD": redis.password or "",
        "PAYLATER_REDIS_LOCK_DB": (redis.path or "/0").strip("/") or "0", "SQL_POOL_SIZE": "10", "SQL_MAX_OVERFLOW": "10",
    })
    token = mint_buyer_token("buyer-001", env["PAYLATER_JWT_SECRET"], ttl_s=6 * 3600)
    meta = lambda i: {"client": "web", **({"auth_token": token} if is_product and i % len(scripts) in product.SIGNED_IN else {})}
    scale = str(PROJECT_ROOT / "deploy" / "endpoints.scale.yml")
    variants = {
        "sqlite": {"endpoints": "endpoints.yml", "replicas": 1, "env": {}},
        "pg+redis": {"endpoints": scale, "replicas": 1, "env": {}},
        "pg+redis x2 workers": {"endpoints": scale, "replicas": 1, "env": {"SANIC_WORKERS": "2"}},
        "pg+redis 2 replicas": {"endpoints": scale, "replicas": 2, "env": {}},
        "sqlite +cached validation": {"endpoints": "endpoints.yml", "replicas": 1, "env": {}, "fast": True},
        "pg+redis 2 replicas +cached validation": {"endpoints": scale, "replicas": 2, "env": {}, "fast": True},
        "sqlite +cached validation +WAL": {"endpoints": "endpoints.yml", "replicas": 1, "env": {}, "fast": "wal"},
        "pg+redis +cached validation": {"endpoints": scale, "replicas": 1, "env": {}, "fast": True},
    }
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only}
    results: Dict[str, dict] = {}
    support = None
    try:
        if is_product:
            subprocess.run([sys.executable, "-m", "bot.demo_data"], env=env, cwd=PROJECT_ROOT, check=True,
                           stdout=subprocess.DEVNULL, timeout=300)
            support = Stack(default_specs(env, ports, only=["backend", "actions"]), env, run_dir / "logs")
            support.start(timeout_s=240)
        for name, v in variants.items():
            specs, urls = [], []
            for r in range(v["replicas"]):
                rp = Ports(free_port(), ports.actions, ports.backend, ports.gateway)
                (spec,) = default_specs(env, rp, model=args.model, endpoints=v["endpoints"], only=["rasa"])
                spec.name, spec.env = f"rasa-{r}", dict(v["env"])
                # plain `rasa` unless the variant measures bot.rasa_server's fixes
                use_rasa_entry(spec, "bot.rasa_server" if v.get("fast") else "rasa")
                if v.get("fast") is True:  # cached validation only
                    spec.env["PAYLATER_SQLITE_WAL"] = "0"
                specs.append(spec)
                urls.append(f"http://127.0.0.1:{rp.rasa}")
            stack = Stack(specs, env, run_dir / f"logs-{name.replace(' ', '_').replace('+', '')}")
            print(f"[variants] {name}: starting", file=sys.stderr, flush=True)
            stack.start(timeout_s=300)
            try:
                target = PinnedRasaTarget(urls, meta, env["PAYLATER_RASA_TOKEN"])
                asyncio.run(run_load("warmup", target, scripts, 4, f"v-{stamp}-{name}-w", conversations=8))
                with PeakSampler({s: p.pid for s, p in stack.procs.items()}) as mem:
                    seq = asyncio.run(run_load("sequential", target, scripts, 1, f"v-{stamp}-{name}-s", conversations=6))
                    c20 = asyncio.run(run_load("c20", target, scripts, 20, f"v-{stamp}-{name}-c",
                                               conversations=20 * per_slot, deadline_s=300))
                results[name] = {"sequential": seq.summary(), "c20": c20.summary(), "memory_mb": mem.peak,
                                 "load_before": round(os.getloadavg()[0], 2)}
                print(f"[variants] {name}: seq p50 {seq.p50_ms} ms, c20 {c20.throughput_mps} msg/s p95 {c20.p95_ms} ms "
                      f"errors {c20.errors + c20.timeouts}", file=sys.stderr, flush=True)
            finally:
                stack.stop()
    finally:
        if support:
            support.stop()
        _admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    rows = [[n, r["sequential"]["p50_ms"], r["c20"]["throughput_mps"], r["c20"]["p50_ms"], r["c20"]["p95_ms"],
             r["c20"]["errors"] + r["c20"]["timeouts"], (r["memory_mb"] or {}).get("total")] for n, r in results.items()]
    print(table([[str(c) for c in row] for row in rows],
                ["variant", "seq p50 ms", "c20 msg/s", "c20 p50 ms", "c20 p95 ms", "errors", "Rasa RSS MB"]))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = {"timestamp": time.strftime("%Y-%m-%d %H:%M:%S %z"), "model": args.model, "cpus": os.cpu_count(), "variants": results}
    (RESULTS_DIR / "variants.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
