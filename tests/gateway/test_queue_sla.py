"""Waiting-time SLA in the console queue: thresholds from settings, a level per waiting buyer."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from gw_helpers import login, new_conversation, say

from bot.config import Settings
from bot.gateway.db import conversations, make_engine, utcnow
from bot.gateway.settings import GatewaySettings


def _queued_since(db_url, cid, seconds):
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(sa.update(conversations).where(conversations.c.id == cid)
                  .values(queued_at=utcnow() - dt.timedelta(seconds=seconds)))
    engine.dispose()


async def _queued(gateway, buyer):
    conv, h = await new_conversation(gateway, buyer)
    await say(gateway, conv, h, "talk to a person")
    return conv


async def test_the_queue_colours_each_waiting_buyer_by_the_configured_sla(make_gateway, db_url):
    gateway = await make_gateway(queue_sla_warn_s=60, queue_sla_breach_s=180)
    fresh, amber, red = [await _queued(gateway, b) for b in ("buyer-001", "buyer-002", "buyer-003")]
    _queued_since(db_url, amber["id"], 90)
    _queued_since(db_url, red["id"], 400)
    await login(gateway)
    listing = await (await gateway.get("/console/api/conversations")).json()
    assert listing["sla"] == {"warn_seconds": 60, "breach_seconds": 180}
    levels = {c["id"]: c["sla"] for c in listing["queue"]}
    assert levels == {fresh["id"]: "ok", amber["id"]: "warn", red["id"]: "breach"}
    assert listing["queue"][0]["id"] == red["id"]  # longest wait first


async def test_default_sla_is_two_minutes_amber_five_minutes_red(gateway, db_url):
    conv = await _queued(gateway, "buyer-001")
    _queued_since(db_url, conv["id"], 150)
    await login(gateway)
    listing = await (await gateway.get("/console/api/conversations")).json()
    assert listing["sla"] == {"warn_seconds": 120, "breach_seconds": 300}
    assert listing["queue"][0]["sla"] == "warn"


def test_sla_settings_from_the_environment_and_a_wrong_pair_is_refused(monkeypatch):
    monkeypatch.setenv("PAYLATER_QUEUE_SLA_WARN_SECONDS", "30")
    monkeypatch.setenv("PAYLATER_QUEUE_SLA_BREACH_SECONDS", "90")
    gw = GatewaySettings.from_env(Settings(database_url="sqlite://"))
    assert (gw.queue_sla_warn_s, gw.queue_sla_breach_s) == (30, 90)
    assert [gw.sla_level(s) for s in (None, 0, 30, 89, 90)] == [None, "ok", "warn", "warn", "breach"]
    monkeypatch.setenv("PAYLATER_QUEUE_SLA_WARN_SECONDS", "600")
    with pytest.raises(ValueError, match="PAYLATER_QUEUE_SLA_WARN_SECONDS"):
        GatewaySettings.from_env(Settings(database_url="sqlite://"))
