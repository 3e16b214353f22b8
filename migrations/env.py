"""Alembic environment. The database URL comes from (first found): the `database_url`
attribute set by bot.adapters.migrate.upgrade, `-x database_url=...`, PAYLATER_DATABASE_URL,
the Settings default (SQLite file in var/). Several heads (backend, gateway) are expected:
upgrade with `heads`."""
from __future__ import annotations

from alembic import context

from bot.adapters.db import make_engine
from bot.config import Settings

config = context.config


def database_url() -> str:
    return (config.attributes.get("database_url")
            or context.get_x_argument(as_dictionary=True).get("database_url")
            or Settings.from_env().database_url)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
