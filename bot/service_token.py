"""The backend API's service token (header `Authorization: Bearer <token>`), shared by the
backend API (which checks it) and the HTTP adapter (which sends it). It lives here, below both,
so the adapter never imports the backend package."""
from __future__ import annotations

import hmac
from typing import Optional

# Documented demo token: used only when PAYLATER_DEMO_MODE=1 and no PAYLATER_SERVICE_TOKEN is set
# (the same value bot.stack exports for `make run`).
DEMO_SERVICE_TOKEN = "paylater-demo-service-token"


def service_token(settings) -> Optional[str]:
    if settings.backend_service_token:
        return settings.backend_service_token
    if settings.demo_mode:
        return DEMO_SERVICE_TOKEN
    return None


DEMO_LENDER_TOKEN = "paylater-demo-lender-token"
DEMO_MARKETPLACE_TOKEN = "paylater-demo-marketplace-token"


def partner_token(settings, principal: str) -> Optional[str]:
    """The lender's (`principal="lender"`) or the marketplace's token; the demo value only in
    demo mode. None: nobody can call those routes."""
    value = getattr(settings, f"{principal}_token", None)
    if value:
        return value
    if settings.demo_mode:
        return DEMO_LENDER_TOKEN if principal == "lender" else DEMO_MARKETPLACE_TOKEN
    return None


def bearer_matches(header: Optional[str], token: str) -> bool:
    """Constant-time comparison of `Bearer <token>`."""
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].strip().encode(), token.encode())
