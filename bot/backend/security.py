"""The backend API's service token: see bot.service_token (shared with the HTTP adapter)."""
from __future__ import annotations

from bot.service_token import (DEMO_LENDER_TOKEN, DEMO_MARKETPLACE_TOKEN, DEMO_SERVICE_TOKEN, bearer_matches,
                               partner_token, service_token)

__all__ = ["DEMO_LENDER_TOKEN", "DEMO_MARKETPLACE_TOKEN", "DEMO_SERVICE_TOKEN", "bearer_matches", "partner_token",
           "service_token"]
