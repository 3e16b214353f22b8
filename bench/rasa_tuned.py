"""`rasa run` with the two tunings measured in bench.variants (prototype for the product's own
Rasa entry point; see docs/SCALING.md "Tuning"):

1. cached action-response validation (bench.fast_validate);
2. SQLite tracker store in WAL mode with synchronous=NORMAL: a commit no longer waits for an
   fsync of the database file (durable against a crash of Rasa; the last commits can be lost on
   power loss). Rasa's SQL tracker store commits synchronously on the event loop, so every
   fsync stalls every conversation of that process. Set PAYLATER_SQLITE_WAL=0 to turn it off.

    python -m bench.rasa_tuned run --enable-api ...
"""
from __future__ import annotations

import os
import sqlite3
import sys

from bench.fast_validate import install as install_cached_validation


def install_sqlite_wal() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_connection, _record):  # every engine of this process, SQLite ones only
        if isinstance(dbapi_connection, sqlite3.Connection):
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()


def main() -> None:
    install_cached_validation()
    if os.environ.get("PAYLATER_SQLITE_WAL", "1") == "1":
        install_sqlite_wal()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
