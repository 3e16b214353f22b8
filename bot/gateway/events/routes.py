"""Wiring of the events room into the gateway app: `POST /v1/events` (an external relay's
delivery, bearer PAYLATER_EVENTS_TOKEN; 202 {"status": "delivered"|"duplicate"}), and in the
app's lifetime the EventService, the app webhook, the outbox relay (PAYLATER_EVENTS_RELAY=1)
and the late-payment job. `GatewaySettings.extra["today"]` injects the clock (tests)."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid

import aiohttp
from aiohttp import web

from bot.gateway.common import GW, SERVICE, SETTINGS, STORE, ApiError, read_json
from bot.gateway.db import AsyncStore
from bot.service_token import bearer_matches

from .relay import OutboxRelay
from .service import EventService, EventWording, InvalidEvent, LateJob
from .store import EventStore
from .webhook import Webhook

log = logging.getLogger(__name__)

EVENTS = web.AppKey("events_service", EventService)
EVENT_STORE = web.AppKey("event_store", AsyncStore)
RELAY = web.AppKey("outbox_relay", OutboxRelay)
LATE_JOB = web.AppKey("late_job", LateJob)
WEBHOOK = web.AppKey("app_webhook", object)


async def post_event(request: web.Request) -> web.Response:
    token = request.app[GW].events_token
    if not token or not bearer_matches(request.headers.get("Authorization"), token):
        raise ApiError(401, "unauthorized", "This route needs the events token (Authorization: Bearer ...).")
    body = await read_json(request)
    try:
        status = await request.app[EVENTS].handle(body)
    except InvalidEvent as exc:
        raise ApiError(400, "invalid_event", str(exc)) from None
    return web.json_response({"status": status}, status=202)


async def my_conversation(request: web.Request) -> web.Response:
    """GET /v1/buyers/me/conversation (buyer JWT): the buyer's latest conversation, e.g. the one
    the gateway created for a proactive message; 404 when there is none."""
    from bot.gateway.app import bearer, identify  # the app's one way to verify a buyer
    buyer = identify(request, bearer(request))
    if buyer is None:
        raise ApiError(401, "unauthorized", "Sign in to see your conversation.")
    conv = await request.app[STORE].latest_conversation_for_buyer(buyer.buyer_id)
    if conv is None:
        raise ApiError(404, "not_found", "You have no conversation yet.")
    return web.json_response(await request.app[SERVICE].view_for_buyer(conv))


async def _events_ctx(app: web.Application):
    gw, settings = app[GW], app[SETTINGS]
    today = gw.extra.get("today") or dt.date.today
    store = AsyncStore(EventStore(app[STORE].sync.engine))
    app[EVENT_STORE] = store
    session = None
    webhook = None
    if gw.webhook_url:
        if not gw.webhook_secret:
            raise RuntimeError("PAYLATER_APP_WEBHOOK_URL is set without PAYLATER_APP_WEBHOOK_SECRET: "
                               "deliveries must be signed.")
        session = aiohttp.ClientSession()
        webhook = Webhook(gw.webhook_url, gw.webhook_secret, session, store,
                          **({"backoff_s": gw.extra["webhook_backoff_s"]} if "webhook_backoff_s" in gw.extra else {}))
    app[WEBHOOK] = webhook
    wording = EventWording(today)
    service = EventService(store, app[SERVICE], wording, webhook)
    app[EVENTS] = service
    # the backend's outbox and late payments, read in-process (the gateway shares the database
    # settings of `make run`; PAYLATER_DATABASE_URL)
    from bot.adapters.sql_backend import SqlBackend
    source = SqlBackend(settings, today=today)
    holder = f"gw-{uuid.uuid4().hex[:12]}"
    app[RELAY] = OutboxRelay(source, service.handle, store=store, holder=holder, interval_s=gw.events_poll_s,
                             permanent_errors=(InvalidEvent,))
    app[LATE_JOB] = LateJob(store, app[SERVICE], wording, source, today, holder)
    late_task = None
    if gw.events_relay:
        if settings.demo_mode:  # the demo's standing late payment is not news (LateJob.settle_quietly)
            try:
                await app[LATE_JOB].settle_quietly()
            except Exception:
                log.exception("settling the demo's late payments failed; the late job will tell them")
        app[RELAY].start()

        async def late_loop():
            while True:
                try:
                    await app[LATE_JOB].run_once()
                except Exception:
                    log.exception("late detection failed")
                await asyncio.sleep(gw.late_check_s)

        late_task = asyncio.create_task(late_loop(), name="late-detection")
    yield
    await app[RELAY].stop()
    if late_task is not None:
        late_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await late_task
    if webhook is not None:
        await webhook.close()
    if session is not None:
        await session.close()
    await source.close()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_events_ctx)
    app.router.add_post("/v1/events", post_event)
    app.router.add_get("/v1/buyers/me/conversation", my_conversation)
