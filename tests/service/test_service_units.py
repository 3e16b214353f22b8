"""The supervisor on small real processes (seconds, not a Rasa model), the start-up checks, the log
format with its ids, and backup / restore of SQLite while it is written to."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot import logging_setup
from bot.backup import BackupError, backup, restore
from bot.config import DEMO_JWT_SECRET, PROJECT_ROOT
from bot.stack import FAILED, UP, Policy, ProcessSpec, Stack, free_port
from bot.startup_checks import DEMO_SERVICE_TOKEN, SettingsError, check

SERVER = (
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')\n"
    "    def log_message(self, *a): pass\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n"
)


def tiny(name: str) -> ProcessSpec:
    port = free_port()
    return ProcessSpec(name, [sys.executable, "-c", SERVER, str(port)], f"http://127.0.0.1:{port}/health")


@pytest.fixture
def stack(tmp_path):
    events = []
    s = Stack([tiny("one"), tiny("two")], dict(os.environ), tmp_path / "log",
              policy=Policy(check_every_s=0.1, probe_timeout_s=0.5, hang_s=1.0, backoff_s=(0.1, 0.2), max_restarts=2),
              on_event=events.append, state_file=tmp_path / "stack.json")
    s.events = events
    s.start(timeout_s=30)
    s.supervise()
    yield s
    s.stop()


def wait(predicate, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_a_killed_part_is_restarted_and_the_other_is_left_alone(stack):
    one, two = stack.procs["one"].pid, stack.procs["two"].pid
    os.kill(one, signal.SIGKILL)
    wait(lambda: stack.state["one"].status == UP and stack.procs["one"].pid != one)
    assert stack.procs["two"].pid == two and stack.state["two"].restarts == 0
    assert stack.state["one"].restarts == 1 and stack.state["one"].last_exit == "exit -9"
    state = json.loads(stack.state_file.read_text())["parts"]
    assert state["one"]["status"] == "up" and state["one"]["pid"] == stack.procs["one"].pid


def test_a_hung_part_is_killed_and_restarted(stack):
    one = stack.procs["one"].pid
    os.killpg(one, signal.SIGSTOP)
    wait(lambda: stack.state["one"].status == UP and stack.procs["one"].pid != one)
    assert any("no answer to its health check" in e for e in stack.events)


def test_a_part_that_keeps_crashing_is_given_up_loudly(stack):
    for _ in range(3):
        wait(lambda: stack.state["one"].status in (UP, FAILED))
        if stack.state["one"].status == FAILED:
            break
        os.kill(stack.procs["one"].pid, signal.SIGKILL)
        pid = stack.procs["one"].pid
        wait(lambda: stack.procs["one"].pid != pid or stack.state["one"].status == FAILED)
    wait(lambda: stack.state["one"].status == FAILED)
    assert any("one FAILED" in e and "not restarting it" in e for e in stack.events)
    assert stack.state["two"].status == UP and stack.probe(stack.spec("two"))


def test_a_held_part_stays_down_until_released(stack):
    stack.hold("one")
    time.sleep(0.5)
    assert stack.procs["one"].poll() is not None and stack.state["one"].status == "held"
    stack.release("one")
    wait(lambda: stack.state["one"].status == UP)


def test_stop_ends_every_process(tmp_path):
    s = Stack([tiny("one")], dict(os.environ), tmp_path / "log")
    s.start(timeout_s=30)
    s.supervise()
    pid = s.procs["one"].pid
    s.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_process_output_goes_to_a_rotating_log(tmp_path):
    spec = ProcessSpec("chatty", [sys.executable, "-c", "print('x' * 200)\n" * 50 + SERVER.replace("int(sys.argv[1])", "0")],
                       "http://127.0.0.1:1/")
    s = Stack([spec], {**os.environ, "PAYLATER_LOG_MAX_BYTES": "2000"}, tmp_path / "log")
    s.log_dir.mkdir(parents=True)
    s._spawn(spec)
    wait(lambda: (tmp_path / "log" / "chatty.log.1").exists())
    s.stop()
    assert (tmp_path / "log" / "chatty.log").stat().st_size <= 2000 + 300


# ---------------------------------------------------------------- start-up checks
@pytest.mark.parametrize("env, words", [
    ({"PAYLATER_RASA_TIMEOUT": "soon"}, "PAYLATER_RASA_TIMEOUT must be a number"),
    ({"PAYLATER_RASA_TIMEOUT": "0"}, "greater than 0"),
    ({"PAYLATER_DATABASE_URL": "mysql://x/y"}, "sqlite:// or postgresql://"),
    ({"PAYLATER_DATABASE_URL": "not a url"}, "not a database URL"),
    ({"PAYLATER_BACKEND_ADAPTER": "grpc"}, "PAYLATER_BACKEND_ADAPTER must be one of sql, http"),
    ({"PAYLATER_LOG_FORMAT": "xml"}, "PAYLATER_LOG_FORMAT must be one of text, json"),
    ({"PAYLATER_RASA_URL": "localhost:5005"}, "http:// or https:// URL"),
    ({"PAYLATER_JWT_SECRET": DEMO_JWT_SECRET}, "published demo secret"),
    ({"PAYLATER_HANG_SECONDS": "-1"}, "PAYLATER_HANG_SECONDS must be greater than 0"),
    ({"PAYLATER_MAX_RESTARTS": "many"}, "PAYLATER_MAX_RESTARTS must be a whole number"),
    ({"PAYLATER_SERVICE_TOKEN": DEMO_SERVICE_TOKEN}, "published demo token"),
])
def test_invalid_settings_are_one_clear_sentence(env, words):
    with pytest.raises(SettingsError) as exc:
        check("stack", {"PAYLATER_DEMO_MODE": "0", **env})
    assert words in str(exc.value)


def test_demo_secrets_are_fine_in_demo_mode():
    check("stack", {"PAYLATER_DEMO_MODE": "1", "PAYLATER_JWT_SECRET": DEMO_JWT_SECRET,
                    "PAYLATER_SERVICE_TOKEN": DEMO_SERVICE_TOKEN})


def _start(module: str, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PAYLATER_")}
    return subprocess.run([sys.executable, "-m", module, "--port", str(free_port())], cwd=PROJECT_ROOT,
                          env={**base, "PYTHONPATH": str(PROJECT_ROOT), **env}, capture_output=True, text=True, timeout=60)


def test_gateway_with_a_bad_setting_stops_with_a_sentence_not_a_traceback():
    done = _start("bot.gateway", {"PAYLATER_RASA_TIMEOUT": "soon"})
    assert done.returncode == 2
    assert done.stderr.strip() == "gateway not started: PAYLATER_RASA_TIMEOUT must be a number of seconds or minutes, not 'soon'."


def test_backend_refuses_the_demo_token_outside_demo_mode():
    done = _start("bot.backend", {"PAYLATER_SERVICE_TOKEN": DEMO_SERVICE_TOKEN})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "published demo token" in done.stderr


def test_gateway_refuses_the_demo_agent_outside_demo_mode(tmp_path):
    db = f"sqlite:///{tmp_path / 'gw.db'}"
    subprocess.run([sys.executable, "-m", "bot.gateway.demo"], cwd=PROJECT_ROOT, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PAYLATER_DEMO_MODE": "1", "PAYLATER_DATABASE_URL": db})
    done = _start("bot.gateway", {"PAYLATER_DATABASE_URL": db})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "demo agent 'agent' still signs in with its published password" in done.stderr


# ---------------------------------------------------------------- log format and ids
def test_json_lines_carry_the_ids_of_their_own_task(monkeypatch):
    monkeypatch.setenv("PAYLATER_LOG_FORMAT", "json")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(logging_setup.ContextFilter("gateway"))
    handler.setFormatter(logging_setup.JsonFormatter())
    log = logging.getLogger("test.ids")
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    async def one(rid, cid):
        logging_setup.bind(rid, cid)
        await asyncio.sleep(0.01)
        log.info("handled")

    async def both():
        await asyncio.gather(one("r-1", "c-1"), one("r-2", "c-2"))

    try:
        asyncio.run(both())
    finally:
        log.removeHandler(handler)
    got = sorted((json.loads(r)["request_id"], json.loads(r)["conversation_id"], json.loads(r)["part"]) for r in records)
    assert got == [("r-1", "c-1", "gateway"), ("r-2", "c-2", "gateway")]


# ---------------------------------------------------------------- backup / restore
def test_backup_is_consistent_while_written_and_restores(tmp_path):
    db, tracker = tmp_path / "paylater.db", tmp_path / "tracker.db"
    env = {"PAYLATER_DATABASE_URL": f"sqlite:///{db}", "PAYLATER_TRACKER_DB": str(tracker)}
    for path in (db, tracker):
        with sqlite3.connect(path) as c:
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("CREATE TABLE t (n INTEGER, pair INTEGER)")
    stop = threading.Event()

    def writer():  # every transaction writes two rows; a consistent copy has an even count
        c = sqlite3.connect(db)
        n = 0
        while not stop.is_set():
            with c:
                c.execute("INSERT INTO t VALUES (?, 1)", (n,))
                c.execute("INSERT INTO t VALUES (?, 2)", (n,))
            n += 1
        c.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.2)
        out = backup(tmp_path / "backups", env)
    finally:
        stop.set()
        t.join()
    with sqlite3.connect(out / "paylater.db") as c:
        rows = c.execute("SELECT count(*) FROM t").fetchone()[0]
    assert rows > 0 and rows % 2 == 0
    assert json.loads((out / "manifest.json").read_text())["files"]["paylater.db"] == str(db)

    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM t")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(BackupError, match="still running"):
            restore(out, env, ports=[busy.getsockname()[1]])
    assert restore(out, env, ports=[]) == [db, tracker]
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM t").fetchone()[0] == rows


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    with pytest.raises(BackupError, match="not a backup"):
        restore(tmp_path, {}, ports=[])


def test_a_request_without_a_conversation_does_not_inherit_the_last_one():
    """aiohttp and Sanic serve the requests of one keep-alive connection in one task."""
    async def connection():
        logging_setup.bind("r-1", "c-1")
        logging_setup.bind("r-2", None)
        return logging_setup.request_id_var.get(), logging_setup.conversation_id_var.get()

    assert asyncio.run(connection()) == ("r-2", "-")
