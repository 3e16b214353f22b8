"""Issue 17 against the real stack (bot.stack's processes): no secret on a command line
(finding 2), Rasa's REST channel and the action server refuse callers without the shared
secrets (findings 6, 7), socket.io is gone, and what the processes write is private (8)."""
from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.request
from pathlib import Path


def _request(url, body=None, headers=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _group_pids(pgid: int):
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    yield int(entry.name)
            except (ProcessLookupError, PermissionError):
                continue


def test_no_secret_on_any_command_line(stack):
    secrets = [stack.env[k] for k in ("PAYLATER_RASA_TOKEN", "PAYLATER_ACTION_TOKEN", "PAYLATER_JWT_SECRET",
                                      "PAYLATER_SERVICE_TOKEN")]
    seen = 0
    for name, proc in stack.procs.items():
        for pid in _group_pids(proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except FileNotFoundError:
                continue
            seen += 1
            assert "--auth-token" not in cmdline, name
            assert not any(s in cmdline for s in secrets), name
    assert seen >= 4


def test_rasa_channel_refuses_messages_without_the_gateway_secret(stack):
    url = f"http://127.0.0.1:{stack.ports.rasa}/webhooks/rest/webhook"
    body = {"sender": "victim-conversation", "message": "/restart"}
    assert _request(url, body)[0] == 401
    assert _request(url, body, {"X-Paylater-Channel-Token": "guess"})[0] == 401
    status, raw = _request(url, "[" * 8000 + "]" * 8000,
                           {"X-Paylater-Channel-Token": stack.env["PAYLATER_RASA_TOKEN"]})
    assert status == 400
    status, raw = _request(url, {"sender": "hardening-check", "message": "hi"},
                           {"X-Paylater-Channel-Token": stack.env["PAYLATER_RASA_TOKEN"]})
    assert status == 200 and isinstance(json.loads(raw), list)


def test_rasa_api_needs_the_token_and_socketio_is_gone(stack):
    base = f"http://127.0.0.1:{stack.ports.rasa}"
    assert _request(f"{base}/conversations/hardening-check/tracker")[0] in (401, 403)
    assert _request(f"{base}/socket.io/?EIO=4&transport=polling")[0] == 404


def test_action_server_refuses_callers_other_than_rasa(stack):
    url = f"http://127.0.0.1:{stack.ports.actions}/webhook"
    call = {"next_action": "action_session_start", "sender_id": "x", "domain": {},
            "tracker": {"sender_id": "x", "slots": {}, "events": [], "latest_message": {}}}
    status, raw = _request(url, call)
    assert status == 401 and b"sender_id" not in raw
    status, raw = _request(url, "{broken", {"X-Paylater-Action-Token": stack.env["PAYLATER_ACTION_TOKEN"]})
    assert status == 400 and b"broken" not in raw


def test_files_the_stack_writes_are_private(stack):
    tracker = Path(stack.env["PAYLATER_TRACKER_DB"])
    db = Path(stack.env["PAYLATER_DATABASE_URL"].split("sqlite:///", 1)[1])
    logs = [p for p in (stack.log_dir.iterdir())]
    for p in [tracker, db, *logs]:
        if p.exists():
            assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, (p, oct(p.stat().st_mode))
    assert stat.S_IMODE(stack.log_dir.stat().st_mode) == 0o700
