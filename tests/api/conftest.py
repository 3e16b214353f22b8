"""The backend API over real HTTP (pytest-aiohttp), on a SQLite file and on PostgreSQL, with demo
data at a fixed date."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.db import make_engine
from bot.adapters.migrate import upgrade
from bot.backend.app import create_app
from bot.config import Settings
from bot.demo_data import load

TODAY = dt.date(2025, 3, 12)
TOKEN = "test-service-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def event_loop_policy():
    """Served, the backend API runs on uvloop (bot/serving.py): so do these tests (pytest-asyncio's loop)."""
    import uvloop

    return uvloop.EventLoopPolicy()


@pytest.fixture(scope="session")
def api_pg_url(new_pg_schema):
    """A schema of our own on PostgreSQL (dropped at the end)."""
    return new_pg_schema("api")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def api_db_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
    else:
        url = request.getfixturevalue("api_pg_url")
    upgrade(url)
    return url


@pytest.fixture
def settings(api_db_url):
    engine = make_engine(api_db_url)
    load(engine, TODAY)
    engine.dispose()
    return Settings(database_url=api_db_url, backend_service_token=TOKEN)


@pytest.fixture
async def client(aiohttp_client, settings):
    return await aiohttp_client(create_app(settings, today=lambda: TODAY))
