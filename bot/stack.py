"""Starts, watches and stops the four processes of the product.

Used by `make run` (demo mode), the end-to-end tests and the benchmarks, so that all three
run the same commands. Each process gets its own process group and log file; start() waits
until every process answers its health check; stop() sends SIGTERM, then SIGKILL.

    python -m bot.stack run     # all four, demo mode, prints the URLs, Ctrl-C stops them
    python -m bot.stack shell   # action server + `rasa shell`
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from bot.config import DEMO_JWT_SECRET, PROJECT_ROOT
from bot.files import private_dir, private_file, secure_tree

BIN = Path(sys.executable).parent
DEMO_SERVICE_TOKEN = "paylater-demo-service-token"


@dataclass
class ProcessSpec:
    name: str
    argv: List[str]
    health_url: str
    env: Dict[str, str] = field(default_factory=dict)
    # Some health checks need more than a 200 (Rasa answers / before the model is loaded).
    healthy: Callable[[int, bytes], bool] = lambda status, body: status == 200


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    backend: int = 8000
    gateway: int = 8080

    @classmethod
    def free(cls) -> "Ports":
        return cls(*(free_port() for _ in range(4)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rasa_entry(module: str = "bot.rasa_server") -> List[str]:
    """How the Rasa server is started: the product's tuned entry point (bot/rasa_server.py) by
    default, `rasa` itself with module="rasa" (the benchmarks compare both)."""
    return [str(BIN / "python"), "-m", module]


def use_rasa_entry(spec: "ProcessSpec", module: str) -> None:
    """Start a Rasa spec of default_specs through another entry point, same arguments."""
    spec.argv = [*rasa_entry(module), *spec.argv[len(rasa_entry()):]]


def _rasa_has_model(status: int, body: bytes) -> bool:
    if status != 200:
        return False
    try:
        return bool(json.loads(body).get("model_file"))
    except ValueError:
        return False


def stack_env(base: Optional[Dict[str, str]] = None, demo: bool = True, ports: Optional[Ports] = None) -> Dict[str, str]:
    """The environment shared by the four processes (explicit settings win over demo defaults)."""
    ports = ports or Ports()
    env = dict(os.environ if base is None else base)
    if demo:
        env.setdefault("PAYLATER_DEMO_MODE", "1")
        env.setdefault("PAYLATER_JWT_SECRET", DEMO_JWT_SECRET)
        env.setdefault("PAYLATER_SERVICE_TOKEN", DEMO_SERVICE_TOKEN)
    env.setdefault("PAYLATER_RASA_TOKEN", secrets.token_urlsafe(24))
    env.setdefault("PAYLATER_ACTION_TOKEN", secrets.token_urlsafe(24))  # Rasa -> action server (endpoints.yml)
    # URLs follow the ports this stack really uses (never an inherited default port).
    env["PAYLATER_RASA_URL"] = f"http://127.0.0.1:{ports.rasa}"
    env["PAYLATER_BACKEND_URL"] = f"http://127.0.0.1:{ports.backend}"
    env["PAYLATER_ACTION_ENDPOINT"] = f"http://127.0.0.1:{ports.actions}/webhook"
    env.setdefault("PAYLATER_TRACKER_DB", str(PROJECT_ROOT / "var" / "rasa-tracker.db"))
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def default_specs(
    env: Dict[str, str],
    ports: Ports,
    model: str = "models/paylater.tar.gz",
    endpoints: str = "endpoints.yml",
    credentials: str = "credentials.yml",
    only: Optional[List[str]] = None,
) -> List[ProcessSpec]:
    token = env["PAYLATER_RASA_TOKEN"]
    specs = [
        ProcessSpec(
            "backend",
            [str(BIN / "python"), "-m", "bot.backend", "--port", str(ports.backend)],
            f"http://127.0.0.1:{ports.backend}/health",
        ),
        ProcessSpec(
            "actions",
            [str(BIN / "python"), "-m", "bot.action_server", "--actions", "bot.actions", "--port", str(ports.actions)],
            f"http://127.0.0.1:{ports.actions}/health",
        ),
        ProcessSpec(
            "rasa",
            [
                # the API token reaches Rasa through PAYLATER_RASA_TOKEN (bot/rasa_server.py), not argv
                *rasa_entry(), "run", "--enable-api",
                "--model", model, "--endpoints", endpoints, "--credentials", credentials,
                "--interface", "127.0.0.1", "--port", str(ports.rasa),
            ],
            f"http://127.0.0.1:{ports.rasa}/status?token={token}",
            healthy=_rasa_has_model,
        ),
        ProcessSpec(
            "gateway",
            [str(BIN / "python"), "-m", "bot.gateway", "--port", str(ports.gateway)],
            f"http://127.0.0.1:{ports.gateway}/health",
        ),
    ]
    return [s for s in specs if only is None or s.name in only]


class Stack:
    def __init__(self, specs: List[ProcessSpec], env: Dict[str, str], log_dir: Path, cwd: Path = PROJECT_ROOT):
        self.specs = specs
        self.env = env
        self.log_dir = log_dir
        self.cwd = cwd
        self.procs: Dict[str, subprocess.Popen] = {}

    def start(self, timeout_s: float = 180.0) -> None:
        private_dir(self.log_dir)  # logs hold buyers' messages: 0700 / 0600, and umask 077 for the children
        for spec in self.specs:
            log = open(private_file(self.log_dir / f"{spec.name}.log"), "ab")
            self.procs[spec.name] = subprocess.Popen(
                spec.argv, cwd=self.cwd, env={**self.env, **spec.env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, umask=0o077,
            )
            log.close()
        deadline = time.monotonic() + timeout_s
        for spec in self.specs:
            self.wait_healthy(spec, deadline)

    def wait_healthy(self, spec: ProcessSpec, deadline: float) -> None:
        while True:
            proc = self.procs[spec.name]
            if proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{spec.name} exited with {proc.returncode}:\n{self.tail(spec.name)}")
            try:
                with urllib.request.urlopen(spec.health_url, timeout=2) as resp:
                    if spec.healthy(resp.status, resp.read()):
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{spec.name} not healthy in time:\n{self.tail(spec.name)}")
            time.sleep(0.5)

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_one(self, name: str, grace_s: float = 10.0) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop_one(name)

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _run(args: argparse.Namespace) -> int:
    ports = Ports(args.rasa_port, args.actions_port, args.backend_port, args.gateway_port)
    env = stack_env(demo=True, ports=ports)
    secure_tree(PROJECT_ROOT / "var")  # installs from before var/ was private
    stack = Stack(default_specs(env, ports, model=args.model), env, PROJECT_ROOT / "var" / "log")
    print("Starting backend API, action server, Rasa (loading the model takes ~20 s) and gateway ...", flush=True)
    started = time.monotonic()
    try:
        stack.start(timeout_s=args.timeout)
    except RuntimeError as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 1
    g = f"http://127.0.0.1:{ports.gateway}"
    print(
        f"""
Ready in {time.monotonic() - started:.0f} s (logs in var/log/). Demo mode: demo buyers and a demo agent exist.

  Demo page (sign in as a demo buyer):  {g}/demo
  Widget script for any page:           <script src="{g}/widget.js"></script>
  Agent console:                        {g}/console   (demo agent: agent / agent-demo-password)
  App API (OpenAPI):                    {g}/openapi.json
  Backend API (OpenAPI):                http://127.0.0.1:{ports.backend}/openapi.json
  Rasa REST channel:                    http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook
  Action server:                        http://127.0.0.1:{ports.actions}/health

Press Ctrl-C to stop all four.""",
        flush=True,
    )
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stopping:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    print(f"\n{name} stopped unexpectedly (exit {proc.returncode}):\n{stack.tail(name)}", file=sys.stderr)
                    stopping = True
                    break
            time.sleep(1)
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
        print("Stopped.")
    return 0


def _shell(args: argparse.Namespace) -> int:
    ports = Ports()
    env = stack_env(demo=True, ports=ports)
    stack = Stack(default_specs(env, ports, model=args.model, only=["backend", "actions"]), env, PROJECT_ROOT / "var" / "log")
    stack.start(timeout_s=args.timeout)
    try:
        return subprocess.call(
            [str(BIN / "rasa"), "shell", "--model", args.model, "--endpoints", "endpoints.yml"], cwd=PROJECT_ROOT, env=env
        )
    finally:
        stack.stop()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.stack")
    parser.add_argument("command", choices=["run", "shell"])
    parser.add_argument("--model", default="models/paylater.tar.gz")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--backend-port", type=int, default=int(os.environ.get("BACKEND_PORT", 8000)))
    parser.add_argument("--gateway-port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8080)))
    args = parser.parse_args(argv)
    return _run(args) if args.command == "run" else _shell(args)


if __name__ == "__main__":
    sys.exit(main())
