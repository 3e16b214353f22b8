"""The product stack for benchmarks: the four processes of `make run` (bot.stack) on free
loopback ports, demo data in a fresh SQLite database under bench/work/, SQLite tracker store.

The load targets the buyer-facing entry point: the gateway's app REST API when the gateway is
part of the stack, else Rasa's REST webhook with the same metadata the gateway would add."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from bench import WORK_DIR
from bench.load import RasaRestTarget, Target
from bot.auth import mint_buyer_token
from bot.config import PROJECT_ROOT
from bot.stack import Ports, Stack, default_specs, stack_env, use_rasa_entry

MODEL = PROJECT_ROOT / "models" / "paylater.tar.gz"
BUYER = "buyer-001"

# A realistic mix: anonymous FAQ, signed-in order lookups, disbursement status. Each script stays
# under the gateway's per-conversation rate limit (10 messages per 10 s).
SCRIPTS: List[List[str]] = [
    ["hi", "what is pay later?", "is there a processing fee?", "which currency can I pay in?", "thanks"],
    ["hello", "show my orders", "what's the status of order TA-100231?", "can I pay TA-100231 with pay later?", "thank you"],
    ["hi", "where is the money for TA-100245?", "when will the supplier get paid for TA-100198?", "what is my credit limit?", "bye"],
    # TA-100212 is late: the bot apologises and hands off (last, since the bot is paused after it)
    ["how much credit can I get?", "how long is the loan term?", "status of TA-100245 please", "thanks", "has the supplier received the payment for TA-100212?"],
]
SIGNED_IN = {1, 2, 3}  # script indexes that carry buyer-001's token


@dataclass
class ProductStack:
    stack: Stack
    ports: Ports
    env: Dict[str, str]
    parts: List[str]
    start_s: float

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    def pids(self) -> Dict[str, int]:
        return {name: p.pid for name, p in self.stack.procs.items()}

    def token(self) -> str:
        return mint_buyer_token(BUYER, self.env["PAYLATER_JWT_SECRET"], ttl_s=6 * 3600)

    def target(self, via: str = "auto") -> Target:
        """Scripts listed in SIGNED_IN carry buyer-001's token; the others are anonymous."""
        token = self.token()
        signed_in = lambda i: token if i % len(SCRIPTS) in SIGNED_IN else None
        if via == "gateway" or (via == "auto" and "gateway" in self.parts):
            from bench.gateway_target import GatewayTarget

            return GatewayTarget(self.gateway_url, signed_in)

        def metadata(i: int) -> dict:
            meta = {"client": "web"}
            if signed_in(i):
                meta["auth_token"] = token
            return meta

        return RasaRestTarget(self.rasa_url, metadata, self.env["PAYLATER_RASA_TOKEN"])

    def anonymous_target(self) -> Target:
        if "gateway" in self.parts:
            from bench.gateway_target import GatewayTarget

            return GatewayTarget(self.gateway_url, lambda i: None)
        return RasaRestTarget(self.rasa_url, lambda i: {"client": "web"}, self.env["PAYLATER_RASA_TOKEN"])

    def parse(self, text: str) -> dict:
        """Rasa's NLU result for `text` (HTTP API, token-protected)."""
        url = f"{self.rasa_url}/model/parse?token={self.env['PAYLATER_RASA_TOKEN']}"
        req = urllib.request.Request(url, data=json.dumps({"text": text}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        self.stack.stop()


def start(run_dir: Path, model: Path = MODEL, log=print, rasa_module: Optional[str] = None,
          endpoints: str = "endpoints.yml") -> ProductStack:
    """Start the four processes; start_s = seconds from loading demo data until the first
    answer, as `make run` does it. rasa_module runs Rasa through `python -m <module> run ...`."""
    if not model.exists():
        raise RuntimeError(f"no trained model at {model} (make train)")
    names = ["rasa", "backend", "actions", "gateway"]
    run_dir.mkdir(parents=True, exist_ok=True)
    ports = Ports.free()
    env = stack_env(demo=True, ports=ports)
    env["PAYLATER_DATABASE_URL"] = f"sqlite:///{run_dir / 'paylater.db'}"
    env["PAYLATER_TRACKER_DB"] = str(run_dir / "tracker.db")
    # the load comes from one address and one buyer: lift the gateway's abuse limits
    for name in ("CONVERSATIONS_PER_ADDRESS", "CONVERSATIONS_PER_BUYER", "MESSAGES_PER_BUYER", "MESSAGES_PER_ADDRESS",
                 "MESSAGES_PER_CONVERSATION"):
        env.setdefault(f"PAYLATER_LIMIT_{name}", "1000000/1")
    started = time.monotonic()  # like `make run`: demo data, the four processes, first answer
    subprocess.run([sys.executable, "-m", "bot.demo_data"], env=env, cwd=PROJECT_ROOT, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
    subprocess.run([sys.executable, "-m", "bot.gateway.demo"], env=env, cwd=PROJECT_ROOT, check=False,
                   stdout=subprocess.DEVNULL, timeout=300)
    log(f"product: starting {', '.join(names)} (model {model.name}) ...")
    specs = default_specs(env, ports, model=str(model), endpoints=endpoints, only=names)
    if rasa_module:  # e.g. "rasa": the same arguments through plain `rasa`, for comparison
        for spec in specs:
            if spec.name == "rasa":
                use_rasa_entry(spec, rasa_module)
    stack = Stack(specs, env, run_dir / "logs")
    stack.start(timeout_s=300)
    product = ProductStack(stack, ports, env, names, 0.0)
    _first_reply(product)
    product.start_s = round(time.monotonic() - started, 1)
    return product


def _first_reply(product: ProductStack, timeout_s: float = 120.0) -> None:
    import asyncio

    from bench.load import run_load

    deadline = time.monotonic() + timeout_s
    while True:
        r = asyncio.run(run_load("first", product.anonymous_target(), [["hi"]], 1, f"bench-first-{time.time_ns()}",
                                 deadline_s=30))
        if r.ok and not r.empty_replies:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"no first answer in {timeout_s:.0f} s: {r.error_samples}")
        time.sleep(0.5)
