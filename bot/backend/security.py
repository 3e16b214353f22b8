"""The backend API's service token: see bot.service_token (shared with the HTTP adapter)."""
from __future__ import annotations

from bot.service_token import DEMO_SERVICE_TOKEN, bearer_matches, service_token

__all__ = ["DEMO_SERVICE_TOKEN", "bearer_matches", "service_token"]
