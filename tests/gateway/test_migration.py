"""The gateway's Alembic branch creates exactly the tables bot.gateway.db describes."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.adapters import migrate  # the project's own module: missing must fail, not skip
from bot.gateway.db import TABLES as CORE_TABLES, ensure_schema, make_engine
from bot.gateway.client_ids import TABLES as CLIENT_ID_TABLES
from bot.gateway.events.store import TABLES as EVENT_TABLES

TABLES = CORE_TABLES + EVENT_TABLES + CLIENT_ID_TABLES


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
    assert {h for h in heads if h.startswith("gateway_")} == {"gateway_0007_client_message_ids"}  # one gateway head: workspace, events, read state, analytics, client ids
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


def test_upgrade_from_the_first_gateway_revision_keeps_messages(tmp_path):
    """A gateway database at gateway_0001 gains the `data` column; its messages stay readable."""
    from alembic import command

    from bot.adapters.migrate import alembic_config, upgrade
    from bot.gateway.db import Store

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "gateway_0001")
    engine = make_engine(url)
    assert "data" not in {c["name"] for c in sa.inspect(engine).get_columns("gateway_messages")}
    with engine.begin() as c:
        c.execute(sa.text("insert into gateway_conversations (id, client, state, created_at, updated_at) "
                          "values ('c1', 'web', 'bot', '2026-11-30 09:00:00', '2026-11-30 09:00:00')"))
        c.execute(sa.text("insert into gateway_messages (conversation_id, sender, text, created_at) "
                          "values ('c1', 'bot', 'old answer', '2026-11-30 09:00:01')"))
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    store = Store(engine)
    assert [m["text"] for m in store.history("c1")] == ["old answer"]
    table = {"type": "table", "columns": ["a"], "rows": [["1"]]}
    store.add_message("c1", "bot", "a table", data=table)
    assert store.history("c1")[-1]["data"] == table
    engine.dispose()


def test_upgrade_to_the_workspace_keeps_agents_as_agents(tmp_path):
    """A gateway at gateway_0002 gains roles (existing agents stay agents), notes and canned replies."""
    from alembic import command

    from bot.adapters.migrate import alembic_config, upgrade
    from bot.gateway.db import Store

    url = f"sqlite:///{tmp_path / 'ws.db'}"
    command.upgrade(alembic_config(url), "gateway_0002")
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("insert into gateway_agents (username, display_name, password_hash, active, created_at) "
                          "values ('dana', 'Dana', 'scrypt$x', 1, '2026-11-30 09:00:00')"))
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    agent = Store(engine).get_agent("dana")
    assert agent["role"] == "agent" and agent["away"] is False
    insp = sa.inspect(engine)
    assert insp.has_table("gateway_notes") and insp.has_table("gateway_canned_replies")
    engine.dispose()


def test_upgrade_to_read_state_keeps_conversations_and_starts_everyone_unread(tmp_path):
    """A gateway at gateway_0003_workspace gains the read marks; existing chats count as unread."""
    from alembic import command

    from bot.adapters.migrate import alembic_config, upgrade
    from bot.gateway.reads import ReadStore

    url = f"sqlite:///{tmp_path / 'rs.db'}"
    command.upgrade(alembic_config(url), "gateway_0003_workspace")
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("insert into gateway_conversations (id, client, state, created_at, updated_at) "
                          "values ('c1', 'web', 'agent', '2026-11-30 09:00:00', '2026-11-30 09:00:00')"))
        c.execute(sa.text("insert into gateway_messages (conversation_id, sender, text, created_at) "
                          "values ('c1', 'agent', 'hello', '2026-11-30 09:00:01')"))
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    reads = ReadStore(engine)
    assert reads.buyer_state("c1") == {"last_read_id": 0, "unread": 1}
    assert reads.mark("c1", "buyer", 99) == 1  # clamped to the last message
    assert reads.buyer_state("c1") == {"last_read_id": 1, "unread": 0}
    engine.dispose()
