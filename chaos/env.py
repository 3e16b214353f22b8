"""The chaos suite's private services and the real stack on top of them.

- `PrivatePostgres`: its own PostgreSQL cluster (initdb + pg_ctl on a temporary directory and a
  free port, run as the `postgres` user when we are root). The machine's shared PostgreSQL is
  never touched: restarting this one is a fault.
- `PrivateRedis`: its own `redis-server` on a free port (no persistence): stopping it is a fault.
- `StackRun`: `python -m bot.stack run` — the real supervisor of `make run` — on free ports, the
  product and gateway databases in that PostgreSQL (two databases: `paylater` and `gateway`),
  live updates and limits through that Redis, the HTTP backend adapter (the backend API is in
  the buyer's path), demo data and demo agents. Rasa's tracker store stays on SQLite
  (endpoints.yml), in the run's directory.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

import sqlalchemy as sa

from bot.config import DEMO_JWT_SECRET, PROJECT_ROOT
from bot.stack import Ports, free_port

PG_BIN = Path(os.environ.get("PAYLATER_CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
MODEL = PROJECT_ROOT / "models" / "paylater.tar.gz"


def _as_postgres(argv: List[str]) -> List[str]:
    """initdb refuses to run as root: as root, run the server as the `postgres` user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class PrivatePostgres:
    def __init__(self, root: Path):
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.log = root / "postgres.log"

    def init(self) -> "PrivatePostgres":
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                     "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        self.start()
        admin = sa.create_engine(self.url("postgres"), future=True, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            for db in ("paylater", "gateway"):
                c.exec_driver_sql(f"CREATE DATABASE {db}")
        admin.dispose()
        return self

    def url(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts,
                                     "-w", "-t", "60", "start"]), check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60",
                                     "stop"]), check=False, capture_output=True)

    def sql(self, db: str, statement: str) -> None:
        eng = sa.create_engine(self.url(db), future=True, isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                c.exec_driver_sql(statement)
        finally:
            eng.dispose()


class PrivateRedis:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        import socket
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


class StackRun:
    """The real runner (`python -m bot.stack run`) on the private PostgreSQL and Redis."""

    def __init__(self, root: Path, pg: PrivatePostgres, redis: PrivateRedis, extra_env: Optional[Dict[str, str]] = None):
        self.root = root
        self.pg, self.redis = pg, redis
        self.ports = Ports.free()
        self.state_file = root / "stack.json"
        self.log_dir = root / "log"
        self.output = root / "runner.out"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLATER_")}
        env.update({
            "PAYLATER_DEMO_MODE": "1",
            "PAYLATER_JWT_SECRET": DEMO_JWT_SECRET,
            "PAYLATER_DATABASE_URL": pg.url("paylater"),
            "PAYLATER_GATEWAY_DATABASE_URL": pg.url("gateway"),
            "PAYLATER_GATEWAY_REDIS_URL": redis.url,
            "PAYLATER_LIMIT_REDIS_PREFIX": f"paylater:chaos:{os.getpid()}:limit:",
            "PAYLATER_TRACKER_DB": str(root / "tracker.db"),
            "PAYLATER_BACKEND_ADAPTER": "http",
            "PAYLATER_MAX_RESTARTS": "10",
            # the simulated buyers send faster than people: the abuse limits are not under test
            "PAYLATER_LIMIT_MESSAGES_PER_CONVERSATION": "1000/10",
            "PAYLATER_LIMIT_MESSAGES_PER_BUYER": "1000/10",
            "PAYLATER_LIMIT_MESSAGES_PER_ADDRESS": "5000/10",
            "PAYLATER_LIMIT_CONVERSATIONS_PER_ADDRESS": "1000/10",
            "PAYLATER_LIMIT_CONVERSATIONS_PER_BUYER": "1000/10",
            "PYTHONPATH": str(PROJECT_ROOT),
        })
        env.update(extra_env or {})
        self.env = env
        self.proc: Optional[subprocess.Popen] = None

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    def start(self, timeout_s: float = 600) -> "StackRun":
        for module in ("bot.demo_data", "bot.gateway.demo"):
            subprocess.run([sys.executable, "-m", module], env=self.env, cwd=PROJECT_ROOT, check=True, capture_output=True)
        out = open(self.output, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.stack", "run", "--model", str(MODEL), "--timeout", str(timeout_s),
             "--rasa-port", str(self.ports.rasa), "--actions-port", str(self.ports.actions),
             "--backend-port", str(self.ports.backend), "--gateway-port", str(self.ports.gateway),
             "--state-file", str(self.state_file), "--log-dir", str(self.log_dir)],
            env=self.env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        deadline = time.monotonic() + timeout_s
        while "Press Ctrl-C" not in self.output.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not start:\n{self.output.read_text(errors='replace')[-3000:]}")
            time.sleep(1)
        return self

    def parts(self) -> Dict[str, dict]:
        try:
            return json.loads(self.state_file.read_text())["parts"]
        except (OSError, ValueError, KeyError):
            return {}

    def pid(self, part: str) -> int:
        return int(self.parts()[part]["pid"])

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.gateway + "/health/ready", timeout=8) as r:
                return json.loads(r.read()).get("status") == "ready"
        except Exception:
            return False

    def wait_ready(self, timeout_s: float = 300) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.ready():
                return time.monotonic() - started
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("the runner exited")
            time.sleep(0.5)
        raise RuntimeError(f"the stack not ready within {timeout_s} s:\n{self.output.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        for part in self.parts().values():  # nothing may outlive the runner
            if part.get("pid"):
                try:
                    os.killpg(int(part["pid"]), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


class Environment:
    """Private PostgreSQL + Redis + the stack, in one temporary directory."""

    def __init__(self, keep: bool = False, extra_env: Optional[Dict[str, str]] = None):
        self.root = Path(tempfile.mkdtemp(prefix="paylater-chaos-"))
        os.chmod(self.root, 0o755)
        self.keep = keep
        self.pg = PrivatePostgres(self.root / "pg")
        self.redis = PrivateRedis(self.root)
        self.extra_env = extra_env
        self.stack: Optional[StackRun] = None

    def __enter__(self) -> "Environment":
        try:
            self.pg.init()
            self.redis.start()
            (self.root / "run").mkdir()
            self.stack = StackRun(self.root / "run", self.pg, self.redis, self.extra_env).start()
            self.stack.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.stack is not None:
            self.stack.stop()
        self.redis.stop()
        self.pg.stop("immediate")
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
