"""Fixtures for the action tests: the REAL backend (the in-process SQL adapter on a temporary
SQLite database with the demo data of PRODUCT.md and an injected clock), signed tokens, the
real domain.yml responses and tracker builders.

`backend` wraps the real adapter only to record the calls and to simulate an outage ("down")
or a hang ("hang"); every answer comes from the real service layer."""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import base, refunds
from bot.adapters.db import make_engine
from bot.adapters.migrate import upgrade
from bot.adapters.sql_backend import SqlBackend
from bot.auth import mint_buyer_token
from bot.config import PROJECT_ROOT, Settings
from bot.demo_data import load
from bot.ports import BackendUnavailable

SECRET = "test-secret-for-actions-0123456789abcdef"
TODAY = dt.date(2025, 3, 12)  # a Wednesday
NOW = dt.datetime(2025, 3, 12, 15, 0)  # UTC


@functools.lru_cache(maxsize=1)
def domain() -> Dict[str, Any]:
    """domain.yml as Rasa sends it with every action call (the parts actions read)."""
    with open(PROJECT_ROOT / "domain.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


class RecordingBackend:
    """The real adapter, recording calls; `fail` = "down" | "hang" simulates an outage."""

    def __init__(self, real: SqlBackend):
        self.real = real
        self.calls: List[Tuple[str, tuple]] = []
        self.fail: Optional[str] = None

    def __getattr__(self, name: str):
        attr = getattr(self.real, name)
        if name.startswith("_") or name == "close" or not asyncio.iscoroutinefunction(attr):
            return attr

        async def call(*args):
            self.calls.append((name, args))
            if self.fail == "down":
                raise BackendUnavailable("database is down")
            if self.fail == "hang":
                await asyncio.sleep(30)
            return await attr(*args)

        return call


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("PAYLATER_JWT_SECRET", SECRET)
    monkeypatch.setenv("PAYLATER_BACKEND_TIMEOUT", "2")


@pytest.fixture(scope="session")
def actions_db_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('actions') / 'actions.db'}"
    upgrade(url)
    return url


@pytest.fixture
async def backend(monkeypatch, actions_db_url) -> RecordingBackend:
    engine = make_engine(actions_db_url)
    load(engine, TODAY)  # every test starts from the demo data
    real = SqlBackend(Settings(database_url=actions_db_url), engine=engine, today=lambda: TODAY, now=lambda: NOW)
    recording = RecordingBackend(real)

    async def get_backend(settings):
        return recording

    monkeypatch.setattr(base, "get_backend", get_backend)
    monkeypatch.setattr(refunds, "clock", lambda: NOW.replace(tzinfo=dt.timezone.utc))
    yield recording
    await real.close()
    engine.dispose()


@pytest.fixture
def slow_timeout(monkeypatch):
    monkeypatch.setenv("PAYLATER_BACKEND_TIMEOUT", "0.05")


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
    """Every text the buyer sees, including the text inside a table payload."""
    out = []
    for m in dispatcher.messages:
        out.append(m.get("text") or "")
        custom = m.get("custom") or {}
        if custom.get("type") == "table":
            out.append(custom.get("text") or "")
    return "\n".join(t for t in out if t)


def customs(dispatcher: CollectingDispatcher) -> List[dict]:
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


def handoffs(dispatcher: CollectingDispatcher) -> List[dict]:
    return [c["handoff"] for c in customs(dispatcher) if "handoff" in c]


def tables(dispatcher: CollectingDispatcher) -> List[dict]:
    return [c for c in customs(dispatcher) if c.get("type") == "table"]


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    return [m["response"] for m in dispatcher.messages if m.get("response")]


async def run(action, tracker: Tracker, domain_dict: Optional[dict] = None):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain() if domain_dict is None else domain_dict)
    return dispatcher, events
