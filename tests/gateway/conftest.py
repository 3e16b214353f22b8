"""Gateway tests: the real gateway app over real HTTP/WebSocket (pytest-aiohttp), a fake Rasa
on another test server, and a temporary SQLite file per test."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_rasa import make_fake_rasa, state_of  # noqa: E402

from gw_helpers import AGENT_PASSWORD, RASA_TOKEN, SECRET  # noqa: E402,F401
from bot.config import Settings  # noqa: E402
from bot.gateway.security import hash_password  # noqa: E402
from bot.gateway.app import create_app  # noqa: E402
from bot.gateway.db import Store, ensure_schema, make_engine  # noqa: E402
from bot.gateway.settings import GatewaySettings  # noqa: E402


@pytest.fixture(scope="session")
def event_loop_policy():
    """Served, the gateway runs on uvloop (bot/serving.py): so do these tests (pytest-asyncio's loop)."""
    import uvloop

    return uvloop.EventLoopPolicy()


@pytest.fixture(scope="session")
def agent_hash() -> str:
    return hash_password(AGENT_PASSWORD)  # scrypt is slow on purpose: hash once per session


@pytest.fixture
def db_url(tmp_path, agent_hash) -> str:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    engine = make_engine(url)
    ensure_schema(engine, "create")
    store = Store(engine)
    store.add_agent("alice", "Alice", agent_hash)
    store.add_agent("bob", "Bob", agent_hash)
    store.add_agent("sam", "Sam", agent_hash, role="supervisor")
    engine.dispose()
    return url


@pytest.fixture
async def fake_rasa(aiohttp_server):
    app = make_fake_rasa(RASA_TOKEN)
    server = await aiohttp_server(app)
    server.state = state_of(app)
    return server


@pytest.fixture
def make_gateway(aiohttp_client, fake_rasa, db_url):
    """`await make_gateway(**gateway_overrides)` -> test client of a fresh gateway app."""

    async def make(rasa_url=None, **overrides):
        settings = Settings(database_url=db_url, jwt_secret=SECRET, rasa_url=rasa_url or str(fake_rasa.make_url("")),
                            rasa_token=RASA_TOKEN, demo_mode=True)
        gw = GatewaySettings(database_url=db_url, rasa_timeout_s=1.5, schema="none",
                             **{"allowed_origins": ("https://shop.example.com",), **overrides})
        return await aiohttp_client(create_app(settings, gw))

    return make


@pytest.fixture
async def gateway(make_gateway):
    return await make_gateway()
