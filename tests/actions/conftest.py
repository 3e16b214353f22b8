"""Fixtures for the action tests: a fake backend, signed tokens and tracker builders."""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import base
from bot.auth import mint_buyer_token
from .fakes import FakeBackend

SECRET = "test-secret-for-actions-0123456789abcdef"


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("PAYLATER_JWT_SECRET", SECRET)
    monkeypatch.setenv("PAYLATER_BACKEND_TIMEOUT", "0.05")


@pytest.fixture
def backend(monkeypatch) -> FakeBackend:
    fake = FakeBackend()

    async def get_backend(settings):
        return fake

    monkeypatch.setattr(base, "get_backend", get_backend)
    return fake


def token(buyer_id: str = "buyer-001", secret: str = SECRET, ttl: int = 3600, now: Optional[int] = None) -> str:
    return mint_buyer_token(buyer_id, secret, ttl_s=ttl, now=now)


def user_event(text: str, intent: str = "inform", entities: Optional[List[dict]] = None, metadata=None) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": entities or []},
            "metadata": metadata or {}, "timestamp": time.time()}


def make_tracker(
    text: str = "",
    intent: str = "inform",
    buyer: Optional[str] = "buyer-001",
    auth_token: Optional[str] = None,
    entities: Optional[List[dict]] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[dict]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
) -> Tracker:
    meta = {"client": "web", **(metadata or {})}
    if auth_token is not None:
        meta["auth_token"] = auth_token
    elif buyer:
        meta["auth_token"] = token(buyer)
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [], "metadata": meta}
    history = list(events or []) + [user_event(text, intent, entities, meta)]
    return Tracker("test-conv", dict(slots or {}), latest, history, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def customs(dispatcher: CollectingDispatcher) -> List[dict]:
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [m["response"] for m in dispatcher.messages if m.get("response")]


async def run(action, tracker: Tracker, domain: Optional[dict] = None):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return dispatcher, events
