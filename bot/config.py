"""Settings read from the environment, in one place.

Nothing here opens a connection: engines, sessions and HTTP clients are created by the
process that needs them (app factories, the action server's first call), never at import.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'paylater.db'}"

# The development secret is used by `make run`'s demo mode only (the Makefile exports it).
# Code never falls back to it: without PAYLATER_JWT_SECRET no buyer token verifies.
DEMO_JWT_SECRET = "paylater-demo-secret-for-make-run-only-change-me"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    jwt_secret: str | None = None
    # "sql" (in-process, default) or "http" (talks to the backend API)
    backend_adapter: str = "sql"
    backend_url: str = "http://127.0.0.1:8000"
    backend_service_token: str | None = None
    backend_timeout_s: float = 3.0
    # the lender's and the marketplace's own tokens for /v1/lender/... and /v1/marketplace/...
    lender_token: str | None = None
    marketplace_token: str | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None
    demo_mode: bool = False
    # Where buyers finish a credit application (link bank accounts, personal info).
    application_link_base: str = "https://paylater.example.com/apply"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            database_url=_env("PAYLATER_DATABASE_URL", DEFAULT_DATABASE_URL),
            jwt_secret=_env("PAYLATER_JWT_SECRET"),
            backend_adapter=_env("PAYLATER_BACKEND_ADAPTER", "sql"),
            backend_url=_env("PAYLATER_BACKEND_URL", "http://127.0.0.1:8000"),
            backend_service_token=_env("PAYLATER_SERVICE_TOKEN"),
            backend_timeout_s=float(_env("PAYLATER_BACKEND_TIMEOUT", "3.0")),
            lender_token=_env("PAYLATER_LENDER_TOKEN"),
            marketplace_token=_env("PAYLATER_MARKETPLACE_TOKEN"),
            rasa_url=_env("PAYLATER_RASA_URL", "http://127.0.0.1:5005"),
            rasa_token=_env("PAYLATER_RASA_TOKEN"),
            demo_mode=_env("PAYLATER_DEMO_MODE", "0") == "1",
            application_link_base=_env(
                "PAYLATER_APPLICATION_LINK_BASE", "https://paylater.example.com/apply"
            ),
        )
