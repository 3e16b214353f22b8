"""Repositories, unit of work and services on a SQLite file AND on PostgreSQL (a schema of
our own per test session, dropped at the end, so others using database `test` are untouched).
Demo data is reloaded before each test with a fixed date."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from bot.adapters.db import make_engine
from bot.adapters.migrate import upgrade
from bot.adapters.unit_of_work import SqlAlchemyUnitOfWork
from bot.demo_data import load

TODAY = dt.date(2025, 3, 12)  # a Wednesday


@pytest.fixture(scope="session")
def pg_schema_url(postgres_url):
    schema = f"paylater_it_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url, future=True)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


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
