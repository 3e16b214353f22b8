"""The two PaymentsBackend adapters and the factory that picks one from the settings."""
from __future__ import annotations

from bot.config import Settings
from bot.ports import PaymentsBackend

from .http_backend import HttpBackend
from .sql_backend import SqlBackend

__all__ = ["HttpBackend", "SqlBackend", "make_backend"]


def make_backend(settings: Settings) -> PaymentsBackend:
    """settings.backend_adapter: "sql" (in-process, default) or "http" (the backend API)."""
    kind = (settings.backend_adapter or "sql").lower()
    if kind == "sql":
        return SqlBackend(settings)
    if kind == "http":
        return HttpBackend(settings)
    raise ValueError(f"unknown PAYLATER_BACKEND_ADAPTER {settings.backend_adapter!r} (use 'sql' or 'http')")
