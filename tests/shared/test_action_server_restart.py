"""Rasa's kept connections to the action server (bot/rasa_server.py
`install_pooled_action_connections`) survive a restart of the action server: a real
`python -m bot.action_server` process is stopped and started again on the same port between two
calls made through the same pooled session; the call after the restart is answered."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.config import PROJECT_ROOT
from bot.rasa_server import install_pooled_action_connections
from bot.stack import free_port

TOKEN = "action-token-for-tests-0123456789"


def start(port: int, tmp_path) -> subprocess.Popen:
    env = {**os.environ, "PAYLATER_ACTION_TOKEN": TOKEN, "PYTHONPATH": str(PROJECT_ROOT),
           "PAYLATER_DATABASE_URL": f"sqlite:///{tmp_path / 'paylater.db'}"}
    env.pop("SANIC_HOST", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot.action_server", "--port", str(port)], cwd=PROJECT_ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        assert proc.poll() is None, "action server exited"
        assert time.monotonic() < deadline, "action server did not start"
        time.sleep(0.2)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    proc.send_signal(sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def pooled(monkeypatch):
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    install_pooled_action_connections()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_a_call_after_the_action_server_restarted_is_answered(pooled, tmp_path, how):
    port = free_port()
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}", headers={"X-Paylater-Action-Token": TOKEN})
    loop = asyncio.new_event_loop()
    call = lambda: loop.run_until_complete(endpoint.request(method="get", subpath="/health"))
    proc = start(port, tmp_path)
    try:
        assert call() == {"status": "ok"}
        assert call() == {"status": "ok"}  # on the kept connection
        stop(proc, how)
        proc = start(port, tmp_path)
        assert call() == {"status": "ok"}  # the kept connection was closed by the old process
        assert call() == {"status": "ok"}
    finally:
        stop(proc)
        for s in list(getattr(EndpointConfig.session, "__closure__", None) or []):
            kept = s.cell_contents
            if isinstance(kept, dict):
                for session in kept.values():
                    loop.run_until_complete(session.close())
        loop.close()
