"""The backend API over real HTTP (pytest-aiohttp), on a SQLite file with demo data at a fixed
date."""
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
def api_db_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
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
