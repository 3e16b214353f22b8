"""Start-up checks: an invalid or missing setting ends start-up with one clear sentence.

Every entry point (`python -m bot.stack run`, the gateway, the backend API, the Rasa and
action-server entry point) calls `check_or_exit(part)` before building anything. Outside demo
mode the documented demo secrets are refused: the development JWT secret, the demo service
token, and (gateway) a demo agent whose demo password still works.
"""
from __future__ import annotations

import ipaddress
import os
import sys
from typing import Callable, Dict, List, Mapping, Optional
from urllib.parse import urlparse

from bot.config import DEMO_JWT_SECRET
from bot.logging_setup import SettingsError

DEMO_SERVICE_TOKEN = "paylater-demo-service-token"  # = bot.backend.security.DEMO_SERVICE_TOKEN
LISTEN_HOST_ENV = "PAYLATER_LISTEN_HOST"
PARTS = ("stack", "gateway", "backend", "rasa", "actions")


_source: Optional[Mapping[str, str]] = None  # the environment being checked (default os.environ)


def _env(name: str) -> Optional[str]:
    value = (os.environ if _source is None else _source).get(name)
    return value.strip() if value not in (None, "") else None


def listen_host() -> str:
    """Where every part listens: 127.0.0.1 unless PAYLATER_LISTEN_HOST says otherwise."""
    return _env(LISTEN_HOST_ENV) or "127.0.0.1"


def _positive_number(name: str, default: str) -> None:
    raw = _env(name) or default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds or minutes, not {raw!r}.")
    if not value > 0:
        raise SettingsError(f"{name} must be greater than 0 (it is {raw}).")


def _choice(name: str, default: str, allowed: tuple) -> None:
    value = _env(name) or default
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")


def _http_url(name: str) -> None:
    for url in (_env(name) or "").split(","):
        url = url.strip()
        if url and (urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc):
            raise SettingsError(f"{name} must be an http:// or https:// URL, not {url!r}.")


def _database_url(name: str) -> None:
    raw = _env(name)
    if raw is None:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingsError(f"{name} is not a database URL (e.g. sqlite:///var/paylater.db or "
                            f"postgresql://user@host/db): {raw!r}.")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingsError(f"{name} must be a sqlite:// or postgresql:// URL, not {url.get_backend_name()}://.")


def _listen_host() -> None:
    host = listen_host()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part.isalnum() or part.replace("-", "").isalnum() for part in host.split(".")):
            raise SettingsError(f"{LISTEN_HOST_ENV} must be an address such as 127.0.0.1 or 0.0.0.0, not {host!r}.")


def _demo_secrets() -> None:
    demo = (_env("PAYLATER_DEMO_MODE") or "0") == "1"
    if demo:
        return
    if _env("PAYLATER_JWT_SECRET") == DEMO_JWT_SECRET:
        raise SettingsError("PAYLATER_JWT_SECRET is the published demo secret: set your marketplace's real "
                            "secret (or PAYLATER_DEMO_MODE=1 for a demo).")
    if _env("PAYLATER_SERVICE_TOKEN") == DEMO_SERVICE_TOKEN:
        raise SettingsError("PAYLATER_SERVICE_TOKEN is the published demo token: set a random one "
                            "(e.g. `openssl rand -hex 32`) or PAYLATER_DEMO_MODE=1 for a demo.")


COMMON: List[Callable[[], None]] = [
    lambda: _choice("PAYLATER_DEMO_MODE", "0", ("0", "1")),
    lambda: _choice("PAYLATER_LOG_FORMAT", "text", ("text", "json")),
    _listen_host,
    _demo_secrets,
]
BY_PART: Dict[str, List[Callable[[], None]]] = {
    "gateway": [
        lambda: _database_url("PAYLATER_DATABASE_URL"),
        lambda: _database_url("PAYLATER_GATEWAY_DATABASE_URL"),
        lambda: _positive_number("PAYLATER_RASA_TIMEOUT", "10"),
        lambda: _positive_number("PAYLATER_AGENT_PRESENCE_MINUTES", "5"),
        lambda: _choice("PAYLATER_GATEWAY_SCHEMA", "auto", ("auto", "none")),
        lambda: _choice("PAYLATER_COOKIE_SECURE", "1", ("0", "1")),
        lambda: _http_url("PAYLATER_RASA_URL"),
        lambda: _http_url("PAYLATER_RASA_URLS"),
        lambda: _http_url("PAYLATER_BACKEND_URL"),
        lambda: _http_url("PAYLATER_ACTION_ENDPOINT"),
    ],
    "backend": [lambda: _database_url("PAYLATER_DATABASE_URL")],
    "actions": [
        lambda: _database_url("PAYLATER_DATABASE_URL"),
        lambda: _choice("PAYLATER_BACKEND_ADAPTER", "sql", ("sql", "http")),
        lambda: _positive_number("PAYLATER_BACKEND_TIMEOUT", "3.0"),
        lambda: _http_url("PAYLATER_BACKEND_URL"),
    ],
    "rasa": [lambda: _http_url("PAYLATER_ACTION_ENDPOINT")],
}
def _whole_number(name: str, default: str) -> None:
    raw = _env(name) or default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, not {raw!r}.")


BY_PART["stack"] = [
    lambda: _positive_number("PAYLATER_HANG_SECONDS", "20"),
    lambda: _whole_number("PAYLATER_MAX_RESTARTS", "5"),
    lambda: _whole_number("PAYLATER_LOG_MAX_BYTES", "10000000"),
    *[c for part in ("gateway", "backend", "actions", "rasa") for c in BY_PART[part]],
]


def check(part: str, env: Optional[Mapping[str, str]] = None) -> None:
    """Raises SettingsError (one sentence) for the first invalid setting of this part."""
    global _source
    _source = env
    try:
        for c in [*COMMON, *BY_PART.get(part, [])]:
            c()
    finally:
        _source = None


def check_or_exit(part: str, env: Optional[Mapping[str, str]] = None) -> None:
    try:
        check(part, env)
    except SettingsError as exc:
        print(f"{part} not started: {exc}", file=sys.stderr)
        raise SystemExit(2)


def demo_agent_still_open(database_url: str) -> Optional[str]:
    """The username of a demo account (two agents, a supervisor) that can still sign in with its
    published password (gateway, outside demo mode), else None. A database without the gateway's
    tables has no agents."""
    from bot.gateway.db import Store, make_engine
    from bot.gateway.demo import DEMO_ACCOUNTS
    from bot.gateway.security import verify_password

    engine = make_engine(database_url)
    try:
        for username, password, _, _ in DEMO_ACCOUNTS:
            try:
                agent = Store(engine).get_agent(username)
            except Exception:
                return None
            if agent and agent.get("active", True) and verify_password(password, agent["password_hash"]):
                return username
        return None
    finally:
        engine.dispose()


def main(argv: Optional[List[str]] = None) -> int:
    """`python -m bot.startup_checks PART`: exit 2 with one sentence when a setting is wrong."""
    args = sys.argv[1:] if argv is None else argv
    part = args[0] if args else "stack"
    if part not in PARTS:
        print(f"usage: python -m bot.startup_checks [{'|'.join(PARTS)}]", file=sys.stderr)
        return 2
    check_or_exit(part)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
