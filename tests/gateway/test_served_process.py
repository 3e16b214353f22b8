"""The gateway as it is served (`python -m bot.gateway`, bot/serving.py): on uvloop, and its corked
answers (bot/gateway/tcp.py, through uvloop's pseudo-socket) arrive whole."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest

from bench.profile_gateway import gateway_env
from bot.stack import PROJECT_ROOT, free_port
from fake_rasa import LONG_ANSWER
from gw_helpers import RASA_TOKEN


async def _get(port: int, request: bytes) -> tuple:
    """One raw HTTP/1.1 exchange: (status line, headers, body as read to the announced length)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        body = await reader.readexactly(int(headers["content-length"]))
        return lines[0], headers, body
    finally:
        writer.close()


def _post(path: str, body: dict, headers: dict) -> bytes:
    raw = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: {len(raw)}\r\n"
            f"{head}Connection: close\r\n\r\n").encode() + raw


async def test_the_served_gateway_runs_on_uvloop_and_its_answers_arrive_whole(fake_rasa, tmp_path):
    port = free_port()
    env = gateway_env(tmp_path, fake_rasa.port)
    env.update({"PAYLATER_RASA_TOKEN": RASA_TOKEN, "LOG_LEVEL": "INFO"})
    log_path = tmp_path / "gateway.log"
    with open(log_path, "wb") as log:
        gw = subprocess.Popen([sys.executable, "-m", "bot.gateway", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:  # the fake Rasa shares this loop: wait without blocking it
            try:
                status, _, body = await _get(port, b"GET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
                break
            except (OSError, asyncio.IncompleteReadError):
                assert gw.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                await asyncio.sleep(0.2)
        assert " 200 " in status + " "

        status, _, body = await _get(port, _post("/v1/conversations", {"client": "web"}, {}))
        assert " 201 " in status + " ", body
        conv = json.loads(body)
        status, headers, body = await _get(port, _post(
            f"/v1/conversations/{conv['id']}/messages", {"text": "long answer", "client_message_id": "served-message-1"},
            {"X-Conversation-Token": conv["conversation_token"], "X-Request-ID": "req-served-1"}))
        assert " 200 " in status + " ", body
        assert headers["x-request-id"] == "req-served-1" and headers["x-content-type-options"] == "nosniff"
        answer = json.loads(body)  # the whole body, exactly as long as announced
        texts = [m["text"] for m in answer["messages"]]
        assert texts == ["long answer", LONG_ANSWER, "Anything else?"]
    finally:
        gw.terminate()
        gw.wait(timeout=15)
    log_text = log_path.read_text()
    assert "event loop: uvloop" in log_text
    assert "Traceback" not in log_text


async def test_these_tests_run_on_the_served_loop():
    """conftest's event_loop_policy: the app under test runs on uvloop, as when served."""
    from bot.serving import event_loop_name

    assert event_loop_name(asyncio.get_running_loop()) == "uvloop"
