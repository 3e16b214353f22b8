"""Issue 17, finding 6: the action server answered a malformed request with 500 echoing the
request body, and ran any hand-built tracker from anyone who could reach it.

bot/action_server.py is started for real (a subprocess on a free port, as bot.stack does)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from bot.config import PROJECT_ROOT
from bot.stack import free_port

TOKEN = "action-token-for-tests-0123456789"
SECRET_MARKER = "marker-7f3a-should-never-be-echoed"


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "PAYLATER_ACTION_TOKEN": TOKEN, "PYTHONPATH": str(PROJECT_ROOT),
           "PAYLATER_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('actions') / 'paylater.db'}"}
    env.pop("SANIC_HOST", None)
    log = open(tmp_path_factory.mktemp("actions-log") / "actions.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.action_server", "--port", str(port)], cwd=PROJECT_ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, "action server exited"
        assert time.monotonic() < deadline, "action server did not start"
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def post(base: str, body: bytes, headers=None):
    req = urllib.request.Request(f"{base}/webhook", data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def action_call(sender="hand-built", action="action_check_eligibility"):
    return {"next_action": action, "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": {"auth_token": SECRET_MARKER}, "latest_message": {"text": SECRET_MARKER},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}


AUTH = {"X-Paylater-Action-Token": TOKEN}


def test_calls_without_the_shared_secret_are_refused(action_server):
    for headers in ({}, {"X-Paylater-Action-Token": "guess"}, {"X-Paylater-Action-Token": TOKEN + "x"}):
        status, body = post(action_server, json.dumps(action_call()).encode(), headers)
        assert status == 401
        assert SECRET_MARKER.encode() not in body


@pytest.mark.parametrize("raw", [
    b"{not json " + SECRET_MARKER.encode(),
    b"[" * 8000 + b"]" * 8000,
    json.dumps({"hello": SECRET_MARKER}).encode(),
    json.dumps({"next_action": "action_check_eligibility", "tracker": SECRET_MARKER}).encode(),
    json.dumps([SECRET_MARKER]).encode(),
    b"\xff\xfe" + SECRET_MARKER.encode(),
    json.dumps({**action_call(), "version": [SECRET_MARKER]}).encode(),
], ids=["not-json", "nested", "not-a-call", "tracker-not-object", "array", "not-utf8", "version-not-text"])
def test_malformed_calls_are_400_without_echo(action_server, raw):
    status, body = post(action_server, raw, AUTH)
    assert status == 400
    assert SECRET_MARKER.encode() not in body
    assert json.loads(body)["error"]


def test_unknown_action_is_404_and_a_real_call_works(action_server):
    status, body = post(action_server, json.dumps(action_call(action="action_does_not_exist")).encode(), AUTH)
    assert status == 404 and SECRET_MARKER.encode() not in body
    status, body = post(action_server, json.dumps(action_call(action="action_session_start")).encode(), AUTH)
    assert status == 200, body
    assert "events" in json.loads(body)


def _non_loopback_address():
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outgoing interface
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def test_it_listens_on_loopback_only_by_default(action_server):
    import socket

    addr = _non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    port = int(action_server.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        socket.create_connection((addr, port), timeout=3).close()


def test_refuses_to_start_without_a_token():
    env = {k: v for k, v in os.environ.items() if k != "PAYLATER_ACTION_TOKEN"}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    out = subprocess.run([sys.executable, "-m", "bot.action_server", "--port", str(free_port())], cwd=PROJECT_ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "PAYLATER_ACTION_TOKEN" in out.stderr
