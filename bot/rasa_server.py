"""The Rasa server entry point of the product: `rasa` with two measured fixes for Rasa 3.6.

    python -m bot.rasa_server run --enable-api --auth-token ... (same arguments as `rasa`)

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

Also, for both Rasa and `run actions` (the action server, as `make run` starts it): start-up
checks (bot.startup_checks), the product's log format (PAYLATER_LOG_FORMAT) on Rasa's and
rasa-sdk's handlers, and the request id / conversation id of each message on every log line
(Rasa: from the message metadata the gateway sends; actions: bot/actions/base.py).
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


def install_logging(part: str) -> None:
    """Apply bot.logging_setup after Rasa / rasa-sdk set up their (coloured) handlers."""
    import rasa.utils.io
    import rasa_sdk.utils

    from bot.logging_setup import configure

    for module in (rasa.utils.io, rasa_sdk.utils):
        original = module.configure_colored_logging
        if getattr(original, "_paylater", False):
            continue

        def configured(loglevel, *args, _original=original, **kwargs):
            _original(loglevel, *args, **kwargs)
            configure(part)

        configured._paylater = True
        module.configure_colored_logging = configured


def install_request_context() -> None:
    """Every log line of a message's handling carries its request id and conversation id."""
    from rasa.core.agent import Agent

    from bot.logging_setup import bind_from_metadata

    original = Agent.handle_message
    if getattr(original, "_paylater", False):
        return

    async def handle_message(self, message, *args, **kwargs):
        bind_from_metadata(getattr(message, "metadata", None), getattr(message, "sender_id", None))
        return await original(self, message, *args, **kwargs)

    handle_message._paylater = True
    Agent.handle_message = handle_message


def main(argv: Optional[List[str]] = None) -> None:
    from bot.startup_checks import check_or_exit

    args = list(sys.argv[1:] if argv is None else argv)
    actions = args[:2] == ["run", "actions"]
    check_or_exit("actions" if actions else "rasa")
    if not actions:
        install_cached_validation()
        if os.environ.get("PAYLATER_SQLITE_WAL", "1") == "1":
            install_sqlite_wal()
        install_request_context()
    install_logging("actions" if actions else "rasa")
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
