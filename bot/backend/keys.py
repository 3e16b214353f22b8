"""Typed application keys of the backend API."""
from __future__ import annotations

from aiohttp import web

from bot.adapters.sql_backend import SqlBackend
from bot.config import Settings

SETTINGS = web.AppKey("settings", Settings)
BACKEND = web.AppKey("backend", SqlBackend)
TOKEN = web.AppKey("service_token", str)
PARTNER_TOKENS = web.AppKey("partner_tokens", dict)  # {"lender": token|None, "marketplace": token|None}
