"""The real stack (backend API, action server, Rasa with the trained model, gateway) on free
ports, with demo data in a temporary SQLite database. Started once per test session."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from bot.auth import mint_buyer_token
from bot.config import PROJECT_ROOT
from bot.stack import Ports, Stack, default_specs, stack_env

MODEL = PROJECT_ROOT / "models" / "paylater.tar.gz"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.skip("no trained model: run `make train` (make test does)")
    tmp = tmp_path_factory.mktemp("stack")
    ports = Ports.free()
    env = stack_env(demo=True, ports=ports)
    env["PAYLATER_DATABASE_URL"] = f"sqlite:///{tmp / 'paylater.db'}"
    env["PAYLATER_TRACKER_DB"] = str(tmp / "tracker.db")
    subprocess.run([sys.executable, "-m", "bot.demo_data"], env=env, cwd=PROJECT_ROOT, check=True)
    subprocess.run([sys.executable, "-m", "bot.gateway.demo"], env=env, cwd=PROJECT_ROOT, check=False)
    s = Stack(default_specs(env, ports, model=str(MODEL)), env, tmp / "logs")
    s.start(timeout_s=240)
    s.ports = ports
    s.env = env
    yield s
    s.stop()


class Chat:
    """One buyer's conversation through Rasa's REST channel, as the gateway sends it."""

    def __init__(self, stack, buyer_id=None, client="web", token=None):
        self.url = f"http://127.0.0.1:{stack.ports.rasa}/webhooks/rest/webhook"
        # the channel takes messages from the gateway only (bot/rasa_channel.py)
        self.headers = {"Content-Type": "application/json", "X-Paylater-Channel-Token": stack.env["PAYLATER_RASA_TOKEN"]}
        self.sender = f"test-{uuid.uuid4().hex[:12]}"
        self.metadata = {"client": client} if client else {}
        if token is not None:
            self.metadata["auth_token"] = token
        elif buyer_id:
            self.metadata["auth_token"] = mint_buyer_token(buyer_id, stack.env["PAYLATER_JWT_SECRET"])

    def send(self, message: str) -> list:
        body = json.dumps({"sender": self.sender, "message": message, "metadata": self.metadata}).encode()
        req = urllib.request.Request(self.url, data=body, headers=self.headers)
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def say(self, message: str) -> str:
        """The bot's answer as one lower-cased text (texts and button titles)."""
        parts = []
        for m in self.send(message):
            parts.append(m.get("text") or "")
            parts.extend(b.get("title", "") for b in m.get("buttons") or [])
        return "\n".join(parts).lower()

    def custom(self, message: str) -> list:
        return [m["custom"] for m in self.send(message) if "custom" in m]


@pytest.fixture
def chat(stack):
    def make(buyer_id=None, client="web", token=None):
        return Chat(stack, buyer_id=buyer_id, client=client, token=token)

    return make
