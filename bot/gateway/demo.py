"""Demo console accounts for `make run` (demo mode only): `python -m bot.gateway.demo`.

Creates (idempotently) two agents and a supervisor, so passing a chat on and managing the team
can be tried by hand:

    agent       / agent-demo-password        "Dana (demo agent)"      agent
    agent2      / agent2-demo-password       "Lee (demo agent)"       agent
    supervisor  / supervisor-demo-password   "Sam (demo supervisor)"  supervisor

Refuses to run unless PAYLATER_DEMO_MODE=1, so a production database never gets them.
"""
from __future__ import annotations

import sys

from bot.config import Settings

from .agents import add_agent
from .db import Store, ensure_schema, make_engine
from .settings import GatewaySettings

DEMO_AGENT = ("agent", "agent-demo-password", "Dana (demo agent)")
DEMO_ACCOUNTS = (
    DEMO_AGENT + ("agent",),
    ("agent2", "agent2-demo-password", "Lee (demo agent)", "agent"),
    ("supervisor", "supervisor-demo-password", "Sam (demo supervisor)", "supervisor"),
)


def load_demo_agent(database_url: str, schema: str = "auto") -> None:
    """Every demo account (the name is kept: the gateway's start-up and the tests call it)."""
    engine = make_engine(database_url)
    try:
        ensure_schema(engine, schema)
        store = Store(engine)
        for username, password, name, role in DEMO_ACCOUNTS:
            add_agent(store, username, password, name, role)
    finally:
        engine.dispose()


def main() -> int:
    settings = Settings.from_env()
    if not settings.demo_mode:
        print("refusing: the demo accounts exist in demo mode only (PAYLATER_DEMO_MODE=1)", file=sys.stderr)
        return 1
    gw = GatewaySettings.from_env(settings)
    load_demo_agent(gw.database_url, gw.schema)
    for username, password, _, role in DEMO_ACCOUNTS:
        print(f"demo {role} ready: {username} / {password}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
