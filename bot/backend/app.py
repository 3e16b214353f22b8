"""Backend API app factory (aiohttp): the payments service layer over JSON, behind a service
token. The engine lives in a cleanup context (created on start, disposed on shutdown)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable, Optional

from aiohttp import web

from bot.adapters.sql_backend import SqlBackend
from bot.config import Settings
from bot.logging_setup import CONVERSATION_ID_HEADER, aiohttp_middleware
from bot.metrics import BackendMetrics, metrics_handler, metrics_token
from bot.ports import BackendUnavailable, NotFound, Refused
from bot.service_layer.lender import IdempotencyConflict

from .keys import BACKEND, PARTNER_TOKENS, SETTINGS, TOKEN
from .partner_routes import partner_routes, principal_of
from .routes import routes
from .security import bearer_matches, partner_token, service_token
from .validation import MAX_BODY_BYTES, InvalidInput

log = logging.getLogger(__name__)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except InvalidInput as e:
        return _error(400, e.code, e.message)
    except IdempotencyConflict as e:
        return _error(409, e.code, e.message)
    except NotFound as e:
        return _error(404, e.code, e.message)
    except Refused as e:
        return _error(422, e.code, e.message)
    except BackendUnavailable as e:
        return _error(503, "backend_unavailable", str(e) or "The payments backend is not available.")
    except web.HTTPException as e:
        if e.status >= 400:
            return _error(e.status, "not_found" if e.status == 404 else "http_error", e.reason)
        raise
    except UnicodeDecodeError:  # request.text() of a body that is not UTF-8
        return _error(400, "invalid_json", "The request body is not valid UTF-8 JSON.")
    except Exception:  # a bug or hostile input nobody foresaw: JSON, logged, never a traceback
        log.exception("%s %s failed", request.method, request.path)
        return _error(500, "internal_error", "Something went wrong on our side.")


@web.middleware
async def auth_middleware(request: web.Request, handler):
    """/v1/lender/... needs the lender's token, /v1/marketplace/... the marketplace's, any other
    /v1 path the bot's service token; no token opens another's routes."""
    if request.path.startswith("/v1/"):
        principal = principal_of(request.path)
        token = request.app[PARTNER_TOKENS].get(principal) if principal else request.app[TOKEN]
        if not token or not bearer_matches(request.headers.get("Authorization"), token):
            who = f"the {principal}'s token" if principal else "a valid service token"
            return _error(401, "unauthorized", f"This route needs {who} (Authorization: Bearer ...).")
    return await handler(request)


def create_app(settings: Settings, *, today: Optional[Callable[[], dt.date]] = None,
               now: Optional[Callable[[], dt.datetime]] = None) -> web.Application:
    """Refuses to build without a service token unless PAYLATER_DEMO_MODE=1 (demo token)."""
    token = service_token(settings)
    if not token:
        raise RuntimeError("PAYLATER_SERVICE_TOKEN is not set: the backend API will not start without it "
                           "(or set PAYLATER_DEMO_MODE=1 to use the documented demo token).")
    metrics = BackendMetrics()
    app = web.Application(middlewares=[aiohttp_middleware(CONVERSATION_ID_HEADER), metrics.middleware(),
                                       errors_middleware, auth_middleware],
                          client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[TOKEN] = token
    app[PARTNER_TOKENS] = {p: partner_token(settings, p) for p in ("lender", "marketplace")}

    async def backend_ctx(app: web.Application):
        backend = SqlBackend(settings, today=today, now=now)
        app[BACKEND] = backend
        yield
        await backend.close()

    app.cleanup_ctx.append(backend_ctx)
    app.add_routes(routes)
    app.add_routes(partner_routes)
    app.router.add_get("/metrics", metrics_handler(metrics.registry, metrics_token()))  # bot/metrics.py: who may read
    return app
