"""The same contract tests against both adapters of the port: the in-process SqlBackend and
the HttpBackend talking to the real backend API on a real port (aiohttp test server), each on
SQLite and on PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.db import make_engine
from bot.adapters.http_backend import HttpBackend
from bot.adapters.migrate import upgrade
from bot.adapters.sql_backend import SqlBackend
from bot.backend.app import create_app
from bot.config import Settings
from bot.demo_data import load

TODAY = dt.date(2025, 3, 12)
TOKEN = "contract-token"


@pytest.fixture(scope="session")
def contract_pg_url(new_pg_schema):
    """A schema of our own on PostgreSQL (dropped at the end)."""
    return new_pg_schema("contract")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def contract_db_url(request, tmp_path_factory):
    """Every contract test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('contract') / 'c.db'}"
    else:
        url = request.getfixturevalue("contract_pg_url")
    upgrade(url)
    return url


@pytest.fixture
def settings(contract_db_url):
    engine = make_engine(contract_db_url)
    load(engine, TODAY)
    engine.dispose()
    return Settings(database_url=contract_db_url, backend_service_token=TOKEN, backend_timeout_s=5.0)


@pytest.fixture(params=["sql", "http"])
async def backend(request, settings, aiohttp_server):
    if request.param == "sql":
        b = SqlBackend(settings, today=lambda: TODAY)
    else:
        server = await aiohttp_server(create_app(settings, today=lambda: TODAY))
        b = HttpBackend(Settings(backend_adapter="http", backend_url=str(server.make_url("")).rstrip("/"),
                                 backend_service_token=TOKEN, backend_timeout_s=5.0))
    yield b
    await b.close()
