"""A short chaos run inside `make test` (the whole suite is `make chaos`): the whole stack under
the real supervisor on a private PostgreSQL and Redis; kill -9 of the gateway mid-message and of
the backend, and Redis down for 8 s, while buyers and an agent talk. Nothing lost, nothing
doubled, every buyer message answered (or the apology), the agent's replies shown to the buyer,
the conversations go on afterwards."""
from __future__ import annotations

import asyncio
import os
import shutil

import pytest

from chaos.env import MODEL, PG_BIN, Environment
from chaos.run import run

pytestmark = [pytest.mark.chaos, pytest.mark.stack]


def test_quick_faults_lose_and_double_nothing():
    if not MODEL.exists():
        pytest.skip("no trained model: run `make train` (make test does)")
    if not (PG_BIN / "initdb").exists() or not shutil.which("redis-server"):
        pytest.skip(f"needs PostgreSQL's server binaries ({PG_BIN}) and redis-server for a private cluster")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("as root, the private PostgreSQL runs through runuser -u postgres")
    lines = []
    with Environment() as env:
        result = asyncio.run(run(env, ["kill-gateway", "kill-backend", "redis-down"], lines.append, redis_down_s=8))
    report = "\n".join(lines)
    print(report)
    assert result["survived"] == result["faults"] == 3, report
    assert result["lost"] == 0 and result["duplicated"] == 0, report
    assert lines[-1] == "faults survived 3/3, messages lost 0, duplicated 0"
