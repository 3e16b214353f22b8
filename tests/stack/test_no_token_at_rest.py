"""Issue 15, "no bearer token at rest": buyers talk through the real gateway (app API, with
their JWT) to the real Rasa and action server; their personal questions are answered (the
actions verified each turn's token), and afterwards no JWT that was issued can be found in
Rasa's tracker store, the gateway's database or any process's log (bot/tracker_store.py)."""
from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path

import pytest

from bot.auth import mint_buyer_token

pytestmark = pytest.mark.stack


def _call(url, body=None, token=None, method=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 headers=headers, method=method or ("POST" if body is not None else "GET"))
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _answer(reply) -> str:
    return "\n".join(m["text"] for m in reply["messages"] if m["sender"] != "buyer").lower()


def test_no_issued_jwt_is_stored_or_logged(stack):
    base = f"http://127.0.0.1:{stack.ports.gateway}"
    secret = stack.env["PAYLATER_JWT_SECRET"]
    issued = []
    for buyer, client, order in (("buyer-001", "app", "ta-100231"), ("buyer-002", "web", "ta-100301")):
        token = mint_buyer_token(buyer, secret)
        issued.append(token)
        conv = _call(f"{base}/v1/conversations", {"client": client}, token)

        def say(text: str) -> str:
            return _answer(_call(f"{base}/v1/conversations/{conv['id']}/messages", {"text": text}, token))

        say("hi")
        # later turns (served from the tracker store's memory): each turn's own token is verified
        answer = say(f"where is my order {order}")
        assert order in answer and "sign in" not in answer, answer
        token = mint_buyer_token(buyer, secret, ttl_s=3000)  # the app refreshed the buyer's token
        issued.append(token)
        answer = say("show my orders")
        assert order in answer and "sign in" not in answer, answer

    with sqlite3.connect(stack.env["PAYLATER_TRACKER_DB"]) as db:
        stored = "\n".join(r[0] for r in db.execute("SELECT data FROM events"))
    assert "where is my order" in stored  # the conversations are there ...
    assert "auth_token" not in stored
    with sqlite3.connect(stack.env["PAYLATER_DATABASE_URL"].removeprefix("sqlite:///")) as db:
        gateway_dump = "\n".join(db.iterdump())
    logs = "\n".join(p.read_text(errors="replace") for p in Path(stack.log_dir).rglob("*") if p.is_file())
    assert "message handled" in logs  # the processes did log
    for token in issued:
        signature = token.rsplit(".", 1)[-1]
        assert token not in stored and signature not in stored  # ... without any token
        assert signature not in gateway_dump
        assert signature not in logs
