"""The gateway's Alembic branch creates exactly the tables bot.gateway.db describes."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.adapters import migrate  # the project's own module: missing must fail, not skip
from bot.gateway.db import TABLES, ensure_schema, make_engine


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('mig') / 'm.db'}"
    migrate.upgrade(url)
    return url


def test_alembic_branch_matches_the_tables(migrated):
    engine = make_engine(migrated)
    insp = sa.inspect(engine)
    for table in TABLES:
        assert insp.has_table(table.name), table.name
        cols = {c["name"] for c in insp.get_columns(table.name)}
        assert cols == {c.name for c in table.columns}, table.name
    with engine.connect() as c:
        heads = {r[0] for r in c.execute(sa.text("select version_num from alembic_version"))}
    assert "gateway_0001" in heads
    engine.dispose()


def test_upgrade_over_tables_created_directly(tmp_path):
    url = f"sqlite:///{tmp_path / 'pre.db'}"
    engine = make_engine(url)
    ensure_schema(engine, "create")  # a gateway that ran before the migration existed
    engine.dispose()
    migrate.upgrade(url)  # must not fail on the existing tables
    engine = make_engine(url)
    ensure_schema(engine, "auto")  # and the gateway's start-up path is idempotent
    engine.dispose()


def test_gateway_start_up_migrates_only_its_branch(tmp_path):
    url = f"sqlite:///{tmp_path / 'gw-only.db'}"
    engine = make_engine(url)
    ensure_schema(engine, "auto")
    insp = sa.inspect(engine)
    assert all(insp.has_table(t.name) for t in TABLES)
    assert not insp.has_table("orders")  # the backend's tables are not the gateway's business
    engine.dispose()
