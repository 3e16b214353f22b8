"""Root fixtures: where the optional real services are, and skips that say why."""
from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get("PAYLATER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PAYLATER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not reachable(POSTGRES_URL, 5432):
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} (set PAYLATER_TEST_POSTGRES_URL)")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def new_pg_schema(postgres_url):
    """`new_pg_schema("api")` -> the URL of a PostgreSQL schema of that suite's own; all are dropped at the end."""
    admin = sa.create_engine(postgres_url, future=True)
    made = []

    def make(prefix: str) -> str:
        schema = f"paylater_{prefix}_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        sep = "&" if "?" in postgres_url else "?"
        return f"{postgres_url}{sep}options=-csearch_path%3D{schema}"

    yield make
    with admin.begin() as conn:
        for schema in made:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not reachable(REDIS_URL, 6379):
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set PAYLATER_TEST_REDIS_URL)")
    return REDIS_URL
