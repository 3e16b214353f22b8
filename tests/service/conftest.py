"""The real runner (`python -m bot.stack run`, what `make run` starts) on free ports, demo data in
a temporary SQLite database, the HTTP backend adapter (so the backend API is in the buyer's
path) and JSON logs. Started once per module: tests kill its parts one after another."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import pytest
import requests

from bot.auth import mint_buyer_token
from bot.config import DEMO_JWT_SECRET, PROJECT_ROOT
from bot.stack import Ports

from svc_helpers import START_TIMEOUT_S

MODEL = PROJECT_ROOT / "models" / "paylater.tar.gz"


@dataclass
class Runner:
    proc: subprocess.Popen
    ports: Ports
    env: Dict[str, str]
    state_file: Path
    log_dir: Path
    output: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    def state(self) -> Dict[str, dict]:
        try:
            return json.loads(self.state_file.read_text())["parts"]
        except (OSError, ValueError, KeyError):
            return {}

    def pid(self, part: str) -> int:
        return self.state()[part]["pid"]

    def wait_for(self, predicate, timeout_s: float, what: str, every_s: float = 0.2):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            assert self.proc.poll() is None, f"the runner exited:\n{self.output.read_text()[-3000:]}"
            time.sleep(every_s)
        raise AssertionError(f"{what} not within {timeout_s} s; runner output:\n{self.output.read_text()[-3000:]}")

    def ready(self) -> dict:
        try:
            r = requests.get(f"{self.gateway}/health/ready", timeout=8)
            return r.json()
        except (requests.RequestException, ValueError):
            return {"status": "down", "parts": {"gateway": {"status": "down"}}}

    def buyer_headers(self, buyer_id: str = "buyer-001") -> Dict[str, str]:
        return {"Authorization": f"Bearer {mint_buyer_token(buyer_id, self.env['PAYLATER_JWT_SECRET'])}"}


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    if not MODEL.exists():
        pytest.skip("no trained model: run `make train` (make test does)")
    tmp = tmp_path_factory.mktemp("service")
    ports = Ports.free()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLATER_")}
    env.update({
        "PAYLATER_DEMO_MODE": "1",
        "PAYLATER_JWT_SECRET": DEMO_JWT_SECRET,
        "PAYLATER_DATABASE_URL": f"sqlite:///{tmp / 'paylater.db'}",
        "PAYLATER_TRACKER_DB": str(tmp / "tracker.db"),
        "PAYLATER_BACKEND_ADAPTER": "http",
        "PAYLATER_LOG_FORMAT": "json",
        "PAYLATER_HANG_SECONDS": "6",
        "PAYLATER_MAX_RESTARTS": "2",
        "PYTHONPATH": str(PROJECT_ROOT),
    })
    subprocess.run([sys.executable, "-m", "bot.demo_data"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "bot.gateway.demo"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    output = tmp / "runner.out"
    state_file, log_dir = tmp / "stack.json", tmp / "log"
    with open(output, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.stack", "run", "--model", str(MODEL), "--timeout", str(START_TIMEOUT_S),
             "--rasa-port", str(ports.rasa), "--actions-port", str(ports.actions),
             "--backend-port", str(ports.backend), "--gateway-port", str(ports.gateway),
             "--state-file", str(state_file), "--log-dir", str(log_dir)],
            env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    r = Runner(proc, ports, env, state_file, log_dir, output)
    try:
        r.wait_for(lambda: "Press Ctrl-C" in output.read_text(), START_TIMEOUT_S, "the stack ready", every_s=1)
        yield r
    finally:
        clean = True
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                clean = False
                os.killpg(proc.pid, signal.SIGKILL)
        if not clean:
            for part in r.state().values():  # the runner did not stop them: nothing may outlive it
                if part.get("pid"):
                    try:
                        os.killpg(part["pid"], signal.SIGKILL)
                    except ProcessLookupError:
                        pass
