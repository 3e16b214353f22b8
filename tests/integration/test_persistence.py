import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.adapters import orm
from bot.adapters.migrate import upgrade
from bot.demo_data import load
from bot.domain.orders import Business, Buyer

from .conftest import TODAY


def test_migrations_create_exactly_the_tables(engine):
    """Every Alembic head together (backend and gateway branches) creates exactly the tables
    both parts declare: nothing missing, nothing extra, same column types."""
    from bot.gateway import db as gateway_db

    both = sa.MetaData()
    for table in [*orm.metadata.tables.values(), *gateway_db.metadata.tables.values()]:
        table.to_metadata(both)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, both) == []


def test_upgrade_twice_is_a_no_op(engine):
    def state():
        insp = sa.inspect(engine)
        tables = {t: sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t))
                  for t in insp.get_table_names()}
        with engine.connect() as conn:
            heads = sorted(r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version")))
        return tables, heads
    from alembic.script import ScriptDirectory

    from bot.adapters.migrate import alembic_config
    before = state()
    script_heads = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads()
    assert sorted(script_heads) == before[1] and "backend_0004_outbox" in before[1] and "outbox" in before[0]
    upgrade(engine.url.render_as_string(hide_password=False))
    assert state() == before


def test_demo_data_is_idempotent(demo):
    def snapshot():
        with demo.connect() as conn:
            return {t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
                    for t in orm.TABLES_CHILD_FIRST}
    first = snapshot()
    load(demo, TODAY)
    assert snapshot() == first
    assert len(first["orders"]) == 8 and len(first["draws"]) == 3


def test_money_round_trips_as_decimal_to_the_cent(uow):
    with uow() as u:
        line = u.credit.get_line("buyer-001")
        assert (line.limit, line.used, line.available) == (Decimal("50000.00"), Decimal("18380.00"), Decimal("31620.00"))
        assert isinstance(line.used, Decimal)


def test_uow_rolls_back_without_commit(uow):
    with uow() as u:
        u.buyers.add(Buyer("buyer-x", Business("X", "US")))
    with uow() as u:
        assert u.buyers.get("buyer-x") is None


def test_uow_commit_persists(uow):
    with uow() as u:
        u.buyers.add(Buyer("buyer-y", Business("Y Ltd", "US", Decimal("2"), Decimal("60000"))))
        u.commit()
    with uow() as u:
        b = u.buyers.get("buyer-y")
        assert b.business.name == "Y Ltd" and b.business.annual_revenue == Decimal("60000.00")
        u.conn.execute(orm.buyers.delete().where(orm.buyers.c.buyer_id == "buyer-y"))
        u.commit()


def test_foreign_keys_are_enforced(uow):
    from bot.domain.orders import Order
    with pytest.raises(sa.exc.IntegrityError):
        with uow() as u:
            u.orders.add(Order("TA-999999", "nobody", True, "USD", Decimal("10"), Decimal("10")))


def test_check_constraint_used_never_above_limit(uow):
    with pytest.raises(sa.exc.IntegrityError):
        with uow() as u:
            u.conn.execute(orm.credit_lines.update().values(used=Decimal("50000.01")))


def test_sqlite_uses_wal(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_upgrade_heads_with_an_independent_gateway_branch(tmp_path):
    """Another branch (branch_labels=("gateway",), down_revision=None) next to ours: both heads apply."""
    import os
    from alembic import command
    from bot.adapters.migrate import alembic_config
    from bot.config import PROJECT_ROOT
    extra = tmp_path / "versions"
    extra.mkdir()
    (extra / "gateway_test_0001.py").write_text(
        'from alembic import op\nimport sqlalchemy as sa\nrevision = "gw_test_0001"\ndown_revision = None\n'
        'branch_labels = ("gateway_test",)\ndepends_on = None\n'
        'def upgrade():\n    op.create_table("gw_test", sa.Column("id", sa.Integer, primary_key=True))\n'
        'def downgrade():\n    op.drop_table("gw_test")\n')
    url = f"sqlite:///{tmp_path / 'heads.db'}"
    cfg = alembic_config(url)
    cfg.set_main_option("version_locations", os.pathsep.join([str(PROJECT_ROOT / "migrations" / "versions"), str(extra)]))
    command.upgrade(cfg, "heads")
    eng = sa.create_engine(url, future=True)
    with eng.connect() as conn:
        heads = {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
        tables = set(sa.inspect(conn).get_table_names())
    eng.dispose()
    assert {"backend_0004_outbox", "gw_test_0001"} <= heads and {"gw_test", "credit_lines"} <= tables
