"""Demo agent for `make run` (demo mode only): `python -m bot.gateway.demo`.

Creates (idempotently) the agent `agent` / `agent-demo-password`, shown as "Dana (demo agent)".
Refuses to run unless PAYLATER_DEMO_MODE=1, so a production database never gets it.
"""
from __future__ import annotations

import sys

from bot.config import Settings

from .agents import add_agent
from .db import Store, ensure_schema, make_engine
from .settings import GatewaySettings

DEMO_AGENT = ("agent", "agent-demo-password", "Dana (demo agent)")


def load_demo_agent(database_url: str, schema: str = "auto") -> None:
    engine = make_engine(database_url)
    try:
        ensure_schema(engine, schema)
        add_agent(Store(engine), DEMO_AGENT[0], DEMO_AGENT[1], DEMO_AGENT[2])
    finally:
        engine.dispose()


def main() -> int:
    settings = Settings.from_env()
    if not settings.demo_mode:
        print("refusing: the demo agent exists in demo mode only (PAYLATER_DEMO_MODE=1)", file=sys.stderr)
        return 1
    gw = GatewaySettings.from_env(settings)
    load_demo_agent(gw.database_url, gw.schema)
    print(f"demo agent ready: {DEMO_AGENT[0]} / {DEMO_AGENT[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
