"""Scale-out on one machine: two Rasa replicas with deploy/endpoints.scale.yml (SQL tracker
store on PostgreSQL, Redis lock store), one action server and backend, and — when the gateway
supports several replicas — two gateway instances sharing Redis pub/sub.

Everything lives in a database created for the session (`paylater_scale_test_<random>`) on the
PostgreSQL of `postgres_url`, dropped at the end; Redis keys are per-conversation and expire."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from bot.config import PROJECT_ROOT
from bot.stack import Ports, Stack, default_specs, free_port, stack_env

ENDPOINTS = PROJECT_ROOT / "deploy" / "endpoints.scale.yml"
MODEL = Path(os.environ.get("PAYLATER_SCALE_TEST_MODEL", PROJECT_ROOT / "models" / "paylater.tar.gz"))


def _with_db(url: str, db: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + db))


@pytest.fixture(scope="session")
def scale_db(postgres_url):
    """A fresh PostgreSQL database for the trackers (and the backend), dropped afterwards."""
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"paylater_scale_test_{secrets.token_hex(4)}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(postgres_url, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class Cluster:
    """The processes and their URLs; `rasa_urls[i]` is replica i."""

    def __init__(self, stack: Stack, env: Dict[str, str], rasa_urls: List[str], gateway_urls: List[str]):
        self.stack, self.env, self.rasa_urls, self.gateway_urls = stack, env, rasa_urls, gateway_urls
        self._domain: Optional[dict] = None
        self.token = env["PAYLATER_RASA_TOKEN"]

    def send(self, replica: int, sender: str, text: str, metadata: Optional[dict] = None) -> list:
        body = {"sender": sender, "message": text, "metadata": metadata or {"client": "web"}}
        req = urllib.request.Request(f"{self.rasa_urls[replica]}/webhooks/rest/webhook",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "X-Paylater-Channel-Token": self.token})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def tracker(self, replica: int, sender: str) -> dict:
        url = f"{self.rasa_urls[replica]}/conversations/{sender}/tracker?token={self.token}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            return json.loads(resp.read())

    def domain(self) -> dict:
        """The model's domain, read once (replica 0 may be stopped by a later test)."""
        if self._domain is None:
            req = urllib.request.Request(f"{self.rasa_urls[0]}/domain?token={self.token}",
                                         headers={"Accept": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                self._domain = json.loads(resp.read())
        return self._domain

    def stop_replica(self, replica: int) -> None:
        self.stack.stop_one(f"rasa-{replica}")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, scale_db, redis_url):
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` (or set PAYLATER_SCALE_TEST_MODEL)")
    tmp = tmp_path_factory.mktemp("scale")
    redis = urllib.parse.urlsplit(redis_url)
    ports = Ports.free()
    env = stack_env(demo=True, ports=ports)
    env.update({
        "PAYLATER_DATABASE_URL": scale_db,  # backend data on PostgreSQL too (the shared database)
        "PAYLATER_TRACKER_DB_URL": scale_db,
        "PAYLATER_REDIS_HOST": redis.hostname or "127.0.0.1",
        "PAYLATER_REDIS_PORT": str(redis.port or 6379),
        "PAYLATER_REDIS_PASSWORD": redis.password or "",
        "PAYLATER_REDIS_LOCK_DB": (redis.path or "/0").strip("/") or "0",
        "SQL_POOL_SIZE": "5",
        "SQL_MAX_OVERFLOW": "10",
    })
    specs = []
    subprocess.run([sys.executable, "-m", "bot.demo_data"], env=env, cwd=PROJECT_ROOT, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
    specs += default_specs(env, ports, only=["backend", "actions"])
    rasa_urls = []
    for i in range(2):
        replica_ports = Ports(free_port(), ports.actions, ports.backend, ports.gateway)
        (spec,) = default_specs(env, replica_ports, model=str(MODEL), endpoints=str(ENDPOINTS), only=["rasa"])
        spec.name = f"rasa-{i}"
        specs.append(spec)
        rasa_urls.append(f"http://127.0.0.1:{replica_ports.rasa}")
    gateway_urls: List[str] = []
    # Schema + demo agent once (as a migration job would), then two gateways that share
    # PostgreSQL and Redis pub/sub and know both Rasa replicas.
    subprocess.run([sys.executable, "-m", "bot.gateway.demo"], env=env, cwd=PROJECT_ROOT, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
    for i in range(2):
        gw_ports = Ports(ports.rasa, ports.actions, ports.backend, free_port())
        (spec,) = default_specs(env, gw_ports, only=["gateway"])
        spec.name = f"gateway-{i}"
        spec.env = {
            # demo mode like the rest of this cluster: outside it the demo JWT secret and the demo
            # agent the tests sign in with are refused at start-up (bot/startup_checks.py)
            "PAYLATER_DEMO_MODE": "1",
            "PAYLATER_GATEWAY_SCHEMA": "none",
            "PAYLATER_GATEWAY_REDIS_URL": redis_url,
            # this run's own rate-limit buckets (other runs on the same Redis come from 127.0.0.1 too)
            "PAYLATER_LIMIT_REDIS_PREFIX": f"paylater-scale-{os.getpid()}-{tmp.name}:limit:",
            "PAYLATER_RASA_URLS": ",".join(rasa_urls),
            "PAYLATER_RASA_URL": rasa_urls[0],
        }
        specs.append(spec)
        gateway_urls.append(f"http://127.0.0.1:{gw_ports.gateway}")
    stack = Stack(specs, env, tmp / "logs")
    stack.start(timeout_s=360)
    try:
        yield Cluster(stack, env, rasa_urls, gateway_urls)
    finally:
        stack.stop()
