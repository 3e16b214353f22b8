"""The backend API over real HTTP (pytest-aiohttp), on a SQLite file and on PostgreSQL, with demo
data at a fixed date."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from bot.adapters.db import make_engine
from bot.adapters.migrate import upgrade
from bot.backend.app import create_app
from bot.config import Settings
from bot.demo_data import load

TODAY = dt.date(2025, 3, 12)
TOKEN = "test-service-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def api_pg_url(postgres_url):
    """A schema of our own on PostgreSQL (dropped at the end)."""
    schema = f"paylater_api_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url, future=True)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


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
