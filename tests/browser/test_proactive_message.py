"""A proactive message (the lender's money reached the supplier) appears in buyer-001's open
widget without the buyer asking, and stays in the history after a reload."""
from __future__ import annotations

import asyncio
import datetime as dt

from browser_helpers import open_demo_as, say, shot
from playwright.sync_api import expect

from bot.gateway.events.routes import EVENTS


def test_money_arrived_appears_in_the_open_widget(servers, desktop):
    page = desktop.new_page()
    frame = open_demo_as(page, servers, "buyer-001")
    say(frame, "hello")
    expect(frame.locator(".row.bot").last).to_contain_text("You said: hello")

    today = dt.date.today()
    event = {"event_id": "EVT-BROWSER-0001", "type": "disbursement_arrived", "buyer_id": "buyer-001",
             "order_id": "TA-100245", "amount": "8680.00", "currency": "USD", "on": today.isoformat()}
    app = servers.runners[0].app
    status = asyncio.run_coroutine_threadsafe(app[EVENTS].handle(event), servers.loop).result(10)
    assert status == "delivered"

    text = f"The $8,680.00 for TA-100245 reached your supplier today, {today:%A}, {today:%B} {today.day}."
    expect(frame.locator(".row.bot.proactive")).to_contain_text(text)
    shot(page, "proactive-message-desktop")

    page.reload()
    page.locator("button.pl-launcher").click()
    frame = page.frame_locator("iframe.pl-frame")
    expect(frame.locator(".row.bot.proactive")).to_contain_text(text)
    page.close()
