"""Run every Alembic branch (backend, gateway) to its head: `alembic upgrade heads`."""
from __future__ import annotations

import threading

from alembic import command
from alembic.config import Config

from bot.config import PROJECT_ROOT

_lock = threading.Lock()


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # passed as an attribute, not through the ini (ConfigParser would mangle '%' in URLs)
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str) -> None:
    with _lock:
        command.upgrade(alembic_config(database_url), "heads")
