"""Starts, supervises and stops the four processes of the product.

Used by `make run` (demo mode), the end-to-end tests and the benchmarks, so that all three
run the same commands. Each process gets its own process group; its output goes to a rotating
log file var/log/<part>.log. start() waits until every process answers its health check;
supervise() then watches them: a process that exits, or whose health check fails for
PAYLATER_HANG_SECONDS (default 20) in a row, is killed and restarted with back-off (0.5, 1, 2,
4, 8 s) while the others keep serving; after PAYLATER_MAX_RESTARTS (default 5) crashes within
60 s it is left down and the runner says so loudly. stop() sends SIGTERM, then SIGKILL.

    python -m bot.stack run      # all four, demo mode, prints the URLs, Ctrl-C stops them
    python -m bot.stack status   # each part up/down with latency (the gateway's /health/ready)
    python -m bot.stack shell    # action server + `rasa shell`

Why not supervisord / circus / honcho (all install within Rasa's pins): honcho stops every
process when one exits (what this runner did before); supervisord and circus restart on exit
but need their own daemon, config files and, for "hung" (alive but not answering), an extra
HTTP-check plugin; neither knows Rasa is only ready once its model is loaded. This runner is
~200 lines, is the same code the tests and benchmarks start, and checks readiness per part.
In containers the platform supervises (deploy/k8s liveness/readiness probes).
"""
from __future__ import annotations

import argparse
import collections
import json
import logging.handlers
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Deque, Dict, List, Optional

from bot.rasa_status import rasa_has_model
from bot.config import DEMO_JWT_SECRET, PROJECT_ROOT
from bot.files import private_dir, private_file, secure_tree
from bot.startup_checks import LISTEN_HOST_ENV, check_or_exit

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
    # How long a (re)start may take before the supervisor counts it as hung.
    start_timeout_s: float = 60.0
    # Health checks may fail this long at least before the part counts as hung (Policy.hang_s).
    min_hang_s: float = 0.0


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



def stack_env(base: Optional[Dict[str, str]] = None, demo: bool = True, ports: Optional[Ports] = None) -> Dict[str, str]:
    """The environment shared by the four processes (explicit settings win over demo defaults)."""
    ports = ports or Ports()
    env = dict(os.environ if base is None else base)
    if demo:
        env.setdefault("PAYLATER_DEMO_MODE", "1")
        env.setdefault("PAYLATER_JWT_SECRET", DEMO_JWT_SECRET)
        env.setdefault("PAYLATER_SERVICE_TOKEN", DEMO_SERVICE_TOKEN)
        env.setdefault("PAYLATER_EVENTS_RELAY", "1")  # the gateway relays the outbox (make demo-events)
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


def listen_host(env: Dict[str, str]) -> str:
    """Every part listens on 127.0.0.1 unless PAYLATER_LISTEN_HOST says otherwise (containers)."""
    return (env.get(LISTEN_HOST_ENV) or "").strip() or "127.0.0.1"


def probe_host(host: str) -> str:
    """Where the runner reaches a part that listens on `host`."""
    return "127.0.0.1" if host in ("0.0.0.0", "127.0.0.1", "localhost") else ("[::1]" if host == "::" else host)


def default_specs(
    env: Dict[str, str],
    ports: Ports,
    model: str = "models/paylater.tar.gz",
    endpoints: str = "endpoints.yml",
    credentials: str = "credentials.yml",
    only: Optional[List[str]] = None,
) -> List[ProcessSpec]:
    token = env["PAYLATER_RASA_TOKEN"]
    host = listen_host(env)
    at = probe_host(host)
    specs = [
        ProcessSpec(
            "backend",
            [str(BIN / "python"), "-m", "bot.backend", "--host", host, "--port", str(ports.backend)],
            f"http://{at}:{ports.backend}/health",
        ),
        ProcessSpec(
            "actions",
            # our entry point: the shared action token, loopback by default (SANIC_HOST), the log format
            [str(BIN / "python"), "-m", "bot.action_server", "--actions", "bot.actions", "--port", str(ports.actions)],
            f"http://{at}:{ports.actions}/health",
            env={"SANIC_HOST": host},
        ),
        ProcessSpec(
            "rasa",
            [
                # the API token reaches Rasa through PAYLATER_RASA_TOKEN (bot/rasa_server.py), not argv
                *rasa_entry(), "run", "--enable-api",
                "--model", model, "--endpoints", endpoints, "--credentials", credentials,
                "--interface", host, "--port", str(ports.rasa),
            ],
            f"http://{at}:{ports.rasa}/status?token={token}",
            healthy=rasa_has_model,
            start_timeout_s=240.0,
            # one slow message (a long session's tracker) can hold Rasa's event loop for seconds:
            # never restart a busy Rasa for a few missed checks
            min_hang_s=60.0,
        ),
        ProcessSpec(
            "gateway",
            [str(BIN / "python"), "-m", "bot.gateway", "--host", host, "--port", str(ports.gateway)],
            f"http://{at}:{ports.gateway}/health",
        ),
    ]
    return [s for s in specs if only is None or s.name in only]


# Part states, as the supervisor and `make status` report them.
UP, STARTING, RESTARTING, FAILED, HELD = "up", "starting", "restarting", "failed", "held"


@dataclass
class PartState:
    status: str = STARTING
    since: float = field(default_factory=time.time)
    restarts: int = 0
    crashes: Deque[float] = field(default_factory=collections.deque)  # monotonic times, last window
    last_exit: Optional[str] = None
    started_at: float = field(default_factory=time.monotonic)
    unhealthy_since: Optional[float] = None
    next_start_at: float = 0.0


@dataclass
class Policy:
    """When to call a process hung, how fast to restart, when to give up."""

    check_every_s: float = 1.0
    probe_timeout_s: float = 3.0
    hang_s: float = 20.0
    backoff_s: tuple = (0.5, 1.0, 2.0, 4.0, 8.0)
    max_restarts: int = 5
    window_s: float = 60.0

    @classmethod
    def from_env(cls, env: Dict[str, str]) -> "Policy":
        return cls(hang_s=float(env.get("PAYLATER_HANG_SECONDS") or 20),
                   max_restarts=int(env.get("PAYLATER_MAX_RESTARTS") or 5))


def _log_writer(name: str, path: Path, max_bytes: int, backups: int) -> logging.Logger:
    """A logger that writes a process's output lines as they are, rotating the file."""
    logger = logging.getLogger(f"bot.stack.output.{path}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        private_file(path)  # buyers' messages: 0600 (rotated files inherit the umask set in Stack.start)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    return logger


class Stack:
    def __init__(self, specs: List[ProcessSpec], env: Dict[str, str], log_dir: Path, cwd: Path = PROJECT_ROOT,
                 policy: Optional[Policy] = None, on_event: Optional[Callable[[str], None]] = None,
                 state_file: Optional[Path] = None):
        self.specs = specs
        self.env = env
        self.log_dir = log_dir
        self.cwd = cwd
        self.procs: Dict[str, subprocess.Popen] = {}
        self.state: Dict[str, PartState] = {s.name: PartState() for s in specs}
        self.policy = policy or Policy.from_env(env)
        self.on_event = on_event or (lambda message: None)
        self.state_file = state_file
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._watchers: List[threading.Thread] = []
        self.max_log_bytes = int(env.get("PAYLATER_LOG_MAX_BYTES") or 10_000_000)

    # ------------------------------------------------------------------ processes
    def spec(self, name: str) -> ProcessSpec:
        return next(s for s in self.specs if s.name == name)

    def _spawn(self, spec: ProcessSpec) -> None:
        proc = subprocess.Popen(
            spec.argv, cwd=self.cwd, env={**self.env, **spec.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, umask=0o077,
        )
        writer = _log_writer(spec.name, self.log_dir / f"{spec.name}.log", self.max_log_bytes, 5)

        def pump(stream=proc.stdout):
            for raw in iter(stream.readline, b""):
                writer.info(raw.decode("utf-8", "replace").rstrip("\n"))
            stream.close()

        threading.Thread(target=pump, name=f"log-{spec.name}", daemon=True).start()
        with self._lock:
            self.procs[spec.name] = proc
            st = self.state[spec.name]
            st.started_at, st.unhealthy_since = time.monotonic(), None
            self._set(spec.name, STARTING)

    def start(self, timeout_s: float = 180.0) -> None:
        private_dir(self.log_dir)  # logs hold buyers' messages: 0700 / 0600, and umask 077 for the children
        os.umask(0o077)
        for spec in self.specs:
            self._spawn(spec)
        deadline = time.monotonic() + timeout_s
        for spec in self.specs:
            self.wait_healthy(spec, deadline)
            self._set(spec.name, UP)

    def probe(self, spec: ProcessSpec, timeout_s: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(spec.health_url, timeout=timeout_s) as resp:
                return spec.healthy(resp.status, resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def wait_healthy(self, spec: ProcessSpec, deadline: float) -> None:
        while True:
            proc = self.procs[spec.name]
            if proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{spec.name} exited with {proc.returncode}:\n{self.tail(spec.name)}")
            if self.probe(spec):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{spec.name} not healthy in time:\n{self.tail(spec.name)}")
            time.sleep(0.5)

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _kill(self, proc: subprocess.Popen, grace_s: float) -> None:
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM if grace_s > 0 else signal.SIGKILL)
            proc.wait(timeout=grace_s if grace_s > 0 else None)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass

    def stop_one(self, name: str, grace_s: float = 10.0) -> None:
        proc = self.procs.get(name)
        if proc is not None:
            self._kill(proc, grace_s)

    def stop(self) -> None:
        self._stopping.set()
        for t in self._watchers:
            t.join(timeout=10)
        self._watchers = []
        for name in reversed(list(self.procs)):
            self.stop_one(name)
        self._write_state()
        for spec in self.specs:  # the output pumps have ended with their processes
            logger = logging.getLogger(f"bot.stack.output.{self.log_dir / f'{spec.name}.log'}")
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
                handler.close()

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ supervision
    def supervise(self) -> None:
        """Watch every part in its own thread until stop(): one slow health check never delays
        noticing that another part died."""
        self._stopping.clear()
        for spec in self.specs:
            t = threading.Thread(target=self._watch, args=(spec,), name=f"watch-{spec.name}", daemon=True)
            t.start()
            self._watchers.append(t)

    def hold(self, name: str) -> None:
        """Stop a part and keep it stopped (maintenance); release() starts it again."""
        with self._lock:
            self._set(name, HELD)
        self.stop_one(name)

    def release(self, name: str) -> None:
        with self._lock:
            st = self.state[name]
            st.crashes.clear()
            st.next_start_at = time.monotonic()
            self._set(name, RESTARTING)

    def _set(self, name: str, status: str) -> None:
        with self._lock:
            st = self.state[name]
            if st.status != status:
                st.status, st.since = status, time.time()
                self._write_state()

    def _watch(self, spec: ProcessSpec) -> None:
        name, p = spec.name, self.policy
        while not self._stopping.wait(p.check_every_s):
            with self._lock:
                st, proc = self.state[name], self.procs.get(name)
                status = st.status
            if status in (HELD, FAILED) or proc is None:
                continue
            now = time.monotonic()
            if status == RESTARTING:
                if now >= st.next_start_at and not self._stopping.is_set():
                    with self._lock:
                        st.restarts += 1
                    self.on_event(f"{name}: restarting (restart {st.restarts})")
                    self._spawn(spec)
                continue
            code = proc.poll()
            if code is not None:
                self._crashed(spec, f"exit {code}")
                continue
            if self.probe(spec, p.probe_timeout_s):
                if status != UP:
                    self.on_event(f"{name}: up again after {now - st.started_at:.1f} s")
                    self._set(name, UP)
                st.unhealthy_since = None
                continue
            if status == UP:
                st.unhealthy_since = st.unhealthy_since or now
                hang_s = max(p.hang_s, spec.min_hang_s)
                if now - st.unhealthy_since >= hang_s:
                    self.on_event(f"{name}: no answer to its health check for {hang_s:.0f} s: killing it")
                    self._kill(proc, 0)
                    self._crashed(spec, "hung")
            elif now - st.started_at >= spec.start_timeout_s:
                self.on_event(f"{name}: not ready {spec.start_timeout_s:.0f} s after starting: killing it")
                self._kill(proc, 0)
                self._crashed(spec, "did not start")

    def _crashed(self, spec: ProcessSpec, why: str) -> None:
        name, p = spec.name, self.policy
        now = time.monotonic()
        with self._lock:
            st = self.state[name]
            if st.status in (HELD, FAILED) or self._stopping.is_set():
                return
            st.last_exit = why
            st.crashes.append(now)
            while st.crashes and now - st.crashes[0] > p.window_s:
                st.crashes.popleft()
            n = len(st.crashes)
            if n > p.max_restarts:
                self.on_event(
                    f"\n{'!' * 78}\n{name} FAILED: it stopped {n} times within {p.window_s:.0f} s ({why}); not restarting it."
                    f"\nThe other parts keep running. Last lines of var/log/{name}.log:\n{self.tail(name, 15)}\n"
                    f"Fix the cause, then restart `make run`.\n{'!' * 78}"
                )
                self._set(name, FAILED)  # after saying so: whoever sees "failed" finds the message
                return
            delay = p.backoff_s[min(n, len(p.backoff_s)) - 1]
            st.next_start_at = now + delay
            self._set(name, RESTARTING)
        self.on_event(f"{name}: stopped ({why}); restarting in {delay:g} s, the other parts keep serving")

    def snapshot(self) -> Dict[str, Dict[str, object]]:
        with self._lock:
            return {
                name: {
                    "status": st.status,
                    "since": round(st.since, 3),
                    "pid": self.procs[name].pid if name in self.procs else None,
                    "restarts": st.restarts,
                    "last_exit": st.last_exit,
                }
                for name, st in self.state.items()
            }

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"supervisor_pid": os.getpid(), "parts": self.snapshot(),
                                       "stopped": self._stopping.is_set()}, indent=1))
            tmp.replace(self.state_file)
        except OSError:
            pass


STATE_FILE = PROJECT_ROOT / "var" / "run" / "stack.json"


def _say(message: str) -> None:
    stream = sys.stderr if "FAILED" in message or "stopped" in message else sys.stdout
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=stream, flush=True)


def _run(args: argparse.Namespace) -> int:
    ports = Ports(args.rasa_port, args.actions_port, args.backend_port, args.gateway_port)
    env = stack_env(demo=True, ports=ports)
    secure_tree(PROJECT_ROOT / "var")  # installs from before var/ was private
    check_or_exit("stack", env)
    state_file = Path(args.state_file)
    stack = Stack(default_specs(env, ports, model=args.model), env, Path(args.log_dir), on_event=_say,
                  state_file=state_file)
    print("Starting backend API, action server, Rasa (loading the model takes ~20 s) and gateway ...", flush=True)
    started = time.monotonic()
    try:
        stack.start(timeout_s=args.timeout)
    except RuntimeError as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 1
    host = listen_host(env)
    g = f"http://{probe_host(host)}:{ports.gateway}"
    print(
        f"""
Ready in {time.monotonic() - started:.0f} s (logs in var/log/). Demo mode: demo buyers, two demo agents and a demo supervisor exist.
All four parts listen on {host} ({LISTEN_HOST_ENV} to change).

  Demo page (sign in as a demo buyer):  {g}/demo
  Widget script for any page:           <script src="{g}/widget.js"></script>
  Agent console:                        {g}/console   (agents: agent / agent-demo-password, agent2 / agent2-demo-password;
                                        supervisor: supervisor / supervisor-demo-password)
  App API (OpenAPI):                    {g}/openapi.json
  Readiness of every part:              {g}/health/ready   (or `make status`)
  Backend API (OpenAPI):                http://{probe_host(host)}:{ports.backend}/openapi.json
  Rasa REST channel:                    http://{probe_host(host)}:{ports.rasa}/webhooks/rest/webhook
  Action server:                        http://{probe_host(host)}:{ports.actions}/health

A part that crashes or hangs is restarted; the others keep serving. Press Ctrl-C to stop all four.""",
        flush=True,
    )
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack.supervise()
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
        print("Stopped.")
    return 0


def fetch_ready(gateway_url: str, timeout_s: float = 8.0) -> Dict[str, object]:
    """The gateway's /health/ready document; {"gateway": down} when the gateway does not answer."""
    url = gateway_url.rstrip("/") + "/health/ready"
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # 503: some part is down, the body says which
        try:
            return json.loads(exc.read())
        except ValueError:
            pass
        detail = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        detail = f"not answering at {gateway_url} ({getattr(exc, 'reason', exc)})"
    return {"status": "down", "parts": {"gateway": {
        "status": "down", "latency_ms": round((time.monotonic() - started) * 1000, 1), "detail": detail}}}


def format_status(ready: Dict[str, object], supervised: Optional[Dict[str, object]] = None) -> str:
    parts: Dict[str, Dict[str, object]] = dict(ready.get("parts") or {})  # type: ignore[arg-type]
    if "gateway" not in parts:
        parts = {"gateway": {"status": "up", "latency_ms": None}, **parts}
    sup = (supervised or {}).get("parts") or {}
    lines = [f"{'part':<12} {'status':<8} {'latency':>9}  supervisor"]
    for name, info in parts.items():
        latency = info.get("latency_ms")
        s = sup.get(name.split("[")[0]) or {}
        extra = f"{s.get('status')} pid {s.get('pid')}, {s.get('restarts', 0)} restarts" if s else ""
        if info.get("detail") and info.get("status") != "up":
            extra = f"{extra}  ({info['detail']})" if extra else f"({info['detail']})"
        lines.append(f"{name:<12} {str(info.get('status')):<8} {'' if latency is None else f'{latency:.0f} ms':>9}  {extra}")
    for name, st in sup.items():  # e.g. the gateway is down: what the supervisor knows of the rest
        if not any(n.split("[")[0] == name for n in parts):
            lines.append(f"{name:<12} {'?':<8} {'':>9}  {st.get('status')} pid {st.get('pid')}, {st.get('restarts', 0)} restarts")
    lines.append(f"overall: {ready.get('status')}")
    return "\n".join(lines)


def _status(args: argparse.Namespace) -> int:
    ready = fetch_ready(args.gateway_url)
    supervised = None
    try:
        supervised = json.loads(Path(args.state_file).read_text())
    except (OSError, ValueError):
        pass
    print(format_status(ready, supervised))
    return 0 if ready.get("status") == "ready" else 1


def _shell(args: argparse.Namespace) -> int:
    ports = Ports()
    env = stack_env(demo=True, ports=ports)
    stack = Stack(default_specs(env, ports, model=args.model, only=["backend", "actions"]), env, PROJECT_ROOT / "var" / "log")
    stack.start(timeout_s=args.timeout)
    try:
        return subprocess.call(
            # through bot.rasa_server like `make run`: the slot upkeep (bot/slot_upkeep.py) runs inside Rasa
            [*rasa_entry(), "shell", "--model", args.model, "--endpoints", "endpoints.yml"], cwd=PROJECT_ROOT, env=env
        )
    finally:
        stack.stop()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.stack")
    parser.add_argument("command", choices=["run", "status", "shell"])
    parser.add_argument("--model", default="models/paylater.tar.gz")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--backend-port", type=int, default=int(os.environ.get("BACKEND_PORT", 8000)))
    parser.add_argument("--gateway-port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8080)))
    parser.add_argument("--log-dir", default=str(PROJECT_ROOT / "var" / "log"))
    parser.add_argument("--state-file", default=os.environ.get("PAYLATER_STACK_STATE", str(STATE_FILE)))
    parser.add_argument("--gateway-url", default=None, help="for status (default: this machine's gateway port)")
    args = parser.parse_args(argv)
    if args.command == "status":
        args.gateway_url = args.gateway_url or f"http://127.0.0.1:{args.gateway_port}"
        return _status(args)
    return _run(args) if args.command == "run" else _shell(args)


if __name__ == "__main__":
    sys.exit(main())
