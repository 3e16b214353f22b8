"""The outbox relay on SQLite and PostgreSQL: every event written by the lender API is handed
on in order, at least once; a failed hand-over leaves it (and those after it) for the next round;
a delivered event is not handed on again."""
from __future__ import annotations

import datetime as dt

from bot.adapters.sql_backend import SqlBackend
from bot.gateway.events.relay import OutboxRelay
from bot.gateway.events.store import EventStore
from bot.gateway.db import AsyncStore, ensure_schema, make_engine

from .test_partner_api import AGR, _key  # noqa: F401  (fixtures below)
from .test_partner_api import api, partner_settings  # noqa: F401
from .conftest import TODAY


async def test_relay_delivers_each_event_at_least_once_in_order(api, partner_settings):
    await api.post(f"/v1/lender/agreements/{AGR}/complete", json={}, headers=_key("complete-1"))
    await api.post(f"/v1/lender/agreements/{AGR}/disbursement/sent", json={}, headers=_key("sent-00001"))
    await api.post(f"/v1/lender/agreements/{AGR}/disbursement/arrived", json={}, headers=_key("arrived-1"))
    source = SqlBackend(partner_settings, today=lambda: TODAY)
    got, fail = [], {"first": True}

    async def handle(event):
        if event["type"] == "disbursement_sent" and fail["first"]:
            fail["first"] = False
            raise RuntimeError("gateway down")
        got.append(event["type"])
        return "delivered"

    relay = OutboxRelay(source, handle)
    try:
        assert await relay.run_once() == 1  # stops at the failure, keeps the order
        assert got == ["agreement_completed"]
        assert await relay.run_once() == 2
        assert got == ["agreement_completed", "disbursement_sent", "disbursement_arrived"]
        assert await relay.run_once() == 0
        assert await source.pending_events() == []
    finally:
        await source.close()


async def test_one_lease_holder_at_a_time(partner_settings):
    engine = make_engine(partner_settings.database_url)
    ensure_schema(engine, "auto")
    store = AsyncStore(EventStore(engine))
    try:
        now = dt.datetime(2025, 3, 12, 10, 0)
        ttl = dt.timedelta(minutes=5)
        name = f"test-lease-{id(store)}"
        assert await store.take_lease(name, "gw-a", ttl, now)
        assert not await store.take_lease(name, "gw-b", ttl, now + dt.timedelta(minutes=1))
        assert await store.take_lease(name, "gw-a", ttl, now + dt.timedelta(minutes=1))  # renewed
        assert await store.take_lease(name, "gw-b", ttl, now + dt.timedelta(minutes=7))  # expired: taken over
    finally:
        engine.dispose()


async def test_a_malformed_event_is_passed_over_not_retried_forever(api, partner_settings):
    from bot.gateway.events.service import InvalidEvent

    await api.post(f"/v1/lender/agreements/{AGR}/complete", json={}, headers=_key("complete-1"))
    await api.post(f"/v1/lender/agreements/{AGR}/disbursement/sent", json={}, headers=_key("sent-00001"))
    source = SqlBackend(partner_settings, today=lambda: TODAY)
    got = []

    async def handle(event):
        if event["type"] == "agreement_completed":
            raise InvalidEvent("broken")
        got.append(event["type"])

    try:
        assert await OutboxRelay(source, handle, permanent_errors=(InvalidEvent,)).run_once() == 2  # both leave the outbox
        assert got == ["disbursement_sent"] and await source.pending_events() == []
    finally:
        await source.close()
