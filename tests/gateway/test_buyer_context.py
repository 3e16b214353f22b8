"""The buyer context panel's API: live from the backend through the port (the SQL adapter on
the demo data), for the conversation's verified buyer only."""
from __future__ import annotations

import datetime as dt

import pytest
from gw_helpers import RASA_TOKEN, SECRET, login, new_conversation, say

from bot.adapters.migrate import upgrade
from bot.config import Settings
from bot.gateway.app import create_app
from bot.gateway.db import make_engine
from bot.gateway.settings import GatewaySettings


@pytest.fixture
def backend_url(tmp_path):
    from bot import demo_data

    url = f"sqlite:///{tmp_path / 'backend.db'}"
    upgrade(url)
    engine = make_engine(url)
    demo_data.load(engine, dt.date.today())
    engine.dispose()
    return url


@pytest.fixture
async def gw(aiohttp_client, fake_rasa, db_url, backend_url):
    settings = Settings(database_url=backend_url, jwt_secret=SECRET, rasa_url=str(fake_rasa.make_url("")),
                        rasa_token=RASA_TOKEN, demo_mode=True)
    return await aiohttp_client(create_app(settings, GatewaySettings(database_url=db_url, schema="none")))


async def test_context_shows_orders_with_what_is_due_eligibility_application_and_line(gw):
    conv, h = await new_conversation(gw, "buyer-001")
    await say(gw, conv, h, "talk to a person")
    url = f"/console/api/conversations/{conv['id']}/context"
    assert (await gw.get(url)).status == 401
    await login(gw)
    ctx = (await (await gw.get(url)).json())["context"]
    assert ctx["buyer_id"] == "buyer-001" and ctx["business_name"] == "Acme Outdoor Supply LLC"
    assert ctx["unavailable"] == []
    orders = {o["order_id"]: o for o in ctx["orders"]}
    ta231 = orders["TA-100231"]
    assert (ta231["total"], ta231["paid"], ta231["due"]) == ("24800.00", "7440.00", "17360.00")
    assert ta231["pay_later"]["eligible"] is True and ta231["pay_later"]["stage"] == "balance"
    assert ta231["pay_later"]["amount"] == "17360.00"
    assert orders["TA-100260"]["pay_later"]["eligible"] is False  # EUR
    assert orders["TA-100260"]["pay_later"]["reasons"]
    assert orders["TA-100212"]["disbursements"][0]["state"] in ("processing", "late")
    assert ctx["application"]["state"] == "approved"
    assert ctx["credit_line"]["limit"] == "50000.00" and ctx["credit_line"]["available"] == "31620.00"


async def test_context_for_an_anonymous_buyer_says_there_is_no_account(gw):
    conv, h = await new_conversation(gw, None)
    await login(gw)
    body = await (await gw.get(f"/console/api/conversations/{conv['id']}/context")).json()
    assert body["context"] is None and "not signed in" in body["message"]
    assert (await gw.get("/console/api/conversations/nope/context")).status == 404


async def test_a_backend_that_does_not_answer_is_reported_not_hidden(gateway):
    # the default test gateway's backend database has no backend tables: every part fails
    conv, h = await new_conversation(gateway, "buyer-001")
    await login(gateway)
    r = await gateway.get(f"/console/api/conversations/{conv['id']}/context")
    assert r.status == 200
    ctx = (await r.json())["context"]
    assert ctx["orders"] == [] and "orders" in ctx["unavailable"] and "credit_line" in ctx["unavailable"]
