"""Repositories, unit of work and services on a SQLite file AND on PostgreSQL (a schema of
our own per test session, dropped at the end, so others using database `test` are untouched).
Demo data is reloaded before each test with a fixed date."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.adapters.db import make_engine
from bot.adapters.migrate import upgrade
from bot.adapters.unit_of_work import SqlAlchemyUnitOfWork
from bot.demo_data import load

TODAY = dt.date(2025, 3, 12)  # a Wednesday


@pytest.fixture(scope="session")
def pg_schema_url(new_pg_schema):
    return new_pg_schema("it")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def engine(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'it.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def demo(engine):
    load(engine, TODAY)
    return engine


@pytest.fixture
def uow(demo):
    return lambda write_lock=False: SqlAlchemyUnitOfWork(demo, write_lock=write_lock)
