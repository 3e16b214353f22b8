"""Operators' CLI for console agents.

    python -m bot.gateway.agents add USERNAME [--name "Display Name"] [--role supervisor]   # password from stdin
    python -m bot.gateway.agents disable USERNAME

The password is read from stdin (twice when stdin is a terminal), hashed with scrypt and a
random salt; it is never stored or printed in clear.
"""
from __future__ import annotations

import argparse
import getpass
import sys

import sqlalchemy as sa

from bot.config import Settings

from .db import Store, agents, ensure_schema, make_engine
from .security import MIN_PASSWORD_LEN, hash_password
from .settings import GatewaySettings


def add_agent(store: Store, username: str, password: str, display_name: str | None = None,
              role: str | None = None) -> None:
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError("username: letters, digits, '.', '-', '_' (at most 64)")
    if len(password) < MIN_PASSWORD_LEN:
        raise ValueError(f"password: at least {MIN_PASSWORD_LEN} characters")
    if role not in (None, "agent", "supervisor"):
        raise ValueError("role: agent or supervisor")
    store.add_agent(username, display_name or username, hash_password(password), role)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway.agents", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create an agent or reset its password (password from stdin)")
    add.add_argument("username")
    add.add_argument("--name", help="name shown to buyers, e.g. 'Dana'")
    add.add_argument("--role", choices=("agent", "supervisor"),
                     help="console role (new accounts: agent; the first supervisor is made here)")
    dis = sub.add_parser("disable", help="disable an agent (existing sessions stop working)")
    dis.add_argument("username")
    args = parser.parse_args(argv)
    gw = GatewaySettings.from_env(Settings.from_env())
    engine = make_engine(gw.database_url)
    ensure_schema(engine, gw.schema)
    store = Store(engine)
    if args.command == "add":
        try:
            add_agent(store, args.username, _read_password(), args.name, args.role)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"agent {args.username} saved")
    else:
        with engine.begin() as c:
            n = c.execute(sa.update(agents).where(agents.c.username == args.username).values(active=False)).rowcount
        print(f"agent {args.username} disabled" if n else f"no agent {args.username}")
        return 0 if n else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
