"""The Rasa server entry point of the product: `rasa` with two measured fixes for Rasa 3.6.

    python -m bot.rasa_server run --enable-api ... (same arguments as `rasa`)

The API token comes from PAYLATER_RASA_TOKEN in the environment and is handed to Rasa in
this process, never on the command line (where `ps` shows it to every user of the machine);
with --enable-api and no token it refuses to start. Files it creates are private (umask 077).

1. Cached validation of action-server responses. Rasa 3.6 calls `jsonschema.validate(result,
   schema)` on every custom action's answer, which re-checks its large events schema against the
   JSON-Schema metaschema each time: about half of Rasa's CPU per message in this product
   (bench.profile). Here the validator is built once per distinct schema; errors are the same
   (`best_match` of `iter_errors`, as jsonschema.validate does).
2. SQLite tracker store in WAL mode with synchronous=NORMAL. Rasa's SQL tracker store commits on
   its event loop, so every fsync stalls every conversation of the process. WAL stays durable
   against a crash of Rasa; the last commits can be lost on power loss. PAYLATER_SQLITE_WAL=0
   turns it off. PostgreSQL is untouched.

Measured (bench.variants, Rasa driven directly): sequential p50 67.5 -> 29.2 ms, 16.7 -> 36.4
messages/s at 20 concurrent conversations.
"""
from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
from typing import List, Optional


def install_cached_validation() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    if getattr(jsonschema.validate, "_paylater_cached", False):
        return
    original = jsonschema.validate

    @functools.lru_cache(maxsize=32)
    def _validator(schema_key: str):
        schema = json.loads(schema_key)
        cls = validator_for(schema)
        cls.check_schema(schema)  # once per distinct schema, as the original does per call
        return cls(schema)

    def validate(instance, schema, cls=None, *args, **kwargs):
        if cls is not None or args or kwargs:
            return original(instance, schema, cls, *args, **kwargs)
        try:
            key = json.dumps(schema, sort_keys=True)
        except (TypeError, ValueError):
            return original(instance, schema)
        error = best_match(_validator(key).iter_errors(instance))
        if error is not None:
            raise error

    validate._paylater_cached = True
    jsonschema.validate = validate


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


def with_token(args: List[str], environ=os.environ) -> List[str]:
    """`rasa run --enable-api` arguments with the API token from PAYLATER_RASA_TOKEN added."""
    if not args or args[0] != "run" or "--enable-api" not in args:
        return list(args)
    if "--auth-token" in args or any(a.startswith("--auth-token=") for a in args):
        print("warning: --auth-token on the command line is visible to every user (ps); "
              "set PAYLATER_RASA_TOKEN instead", file=sys.stderr)
        return list(args)
    token = environ.get("PAYLATER_RASA_TOKEN")
    if not token:
        raise SystemExit("refusing to enable Rasa's HTTP API without PAYLATER_RASA_TOKEN")
    return [*args, "--auth-token", token]


def main(argv: Optional[List[str]] = None) -> None:
    os.umask(0o077)  # the tracker database and logs: readable by this user only
    args = with_token(list(sys.argv[1:] if argv is None else argv))
    install_cached_validation()
    if os.environ.get("PAYLATER_SQLITE_WAL", "1") == "1":
        install_sqlite_wal()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]  # this process's copy: /proc/<pid>/cmdline keeps the original
    rasa_main()


if __name__ == "__main__":
    main()
