"""Issue 12 in Chromium: a buyer rates the bot after "yes, it helped" (the widget's optional
1-5 prompt), a supervisor opens the dashboard from the console and reads the hand-computed
figures of tests/gateway/analytics_dataset.py, with a chart per figure (Chart.js, served by the
gateway); an agent is refused. Screenshots analytics-*.png (also in /work/notes/shots when it exists)."""
from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa
from analytics_dataset import D1, D2, DATASET
from browser_helpers import open_demo_as, say, shot, sign_in
from playwright.sync_api import expect

from bot.gateway.analytics.tables import events
from bot.gateway.db import make_engine

NOTES = Path("/work/notes/shots")


def keep(path: Path) -> None:
    if NOTES.is_dir():
        shutil.copy(path, NOTES / path.name)



def test_buyer_rates_and_supervisor_reads_the_dashboard(browser, phone, servers):
    engine = make_engine(servers.db_url)
    with engine.begin() as c:
        c.execute(sa.insert(events), DATASET)
    engine.dispose()

    buyer = phone.new_page()
    frame = open_demo_as(buyer, servers, "buyer-002")
    say(frame, "[faq/processing_fee] is there a processing fee?")
    expect(frame.locator(".row.bot .bubble").last).to_contain_text("Answer to")
    say(frame, "/feedback_helpful")
    form = frame.locator("form.csat")
    expect(form).to_be_visible()
    expect(form.locator(".csat-send")).to_be_disabled()  # nothing is required until a score is picked
    form.locator(".csat-scores button", has_text="4").click()
    form.locator(".csat-comment").fill("Quick answer")
    keep(shot(buyer, "analytics-widget-csat"))
    form.locator(".csat-send").click()
    expect(frame.locator(".csat-done")).to_contain_text("Thank you")

    agent_ctx, agent = sign_in(browser, servers, "agent", "agent-demo-password", height=900)
    sup_ctx, sup = sign_in(browser, servers, "supervisor", "supervisor-demo-password", height=900)
    try:
        expect(agent.locator("#link-analytics")).to_be_hidden()
        agent.goto(servers.base + "/console/analytics")
        expect(agent.locator("#error")).to_contain_text("Only supervisors")

        expect(sup.locator("#link-analytics")).to_be_visible()
        sup.goto(servers.base + f"/console/analytics?from={D1}&to={D2}")
        expect(sup.locator("body[data-loaded='1']")).to_be_attached()
        cards = sup.locator("#cards")
        expect(cards.locator(".an-card", has_text="Involved")).to_contain_text("11")
        expect(cards.locator(".an-card", has_text="Bot resolution")).to_contain_text("45.5 %")
        expect(cards.locator(".an-card", has_text="Bot resolution")).to_contain_text("3 confirmed · 2 assumed")
        expect(cards.locator(".an-card", has_text="CSAT")).to_contain_text("3.67 / 5")
        expect(cards.locator(".an-card", has_text="First response")).to_contain_text("3.5 min")  # 210 s
        expect(sup.locator("#t-unanswered")).to_contain_text("blorp zzz")
        expect(sup.locator("#t-handoffs")).to_contain_text("late disbursement")
        assert sup.locator("#charts canvas").count() == 9  # one chart per figure
        assert sup.evaluate("() => typeof window.Chart") == "function"  # the vendored library, no CDN
        keep(shot(sup, "analytics-dashboard"))
        sup.set_viewport_size({"width": 1366, "height": 2200})
        keep(shot(sup, "analytics-dashboard-full"))
        # today's rating is in today's figures
        sup.click("button[data-days='7']")
        expect(cards.locator(".an-card", has_text="CSAT")).to_contain_text("4.00 / 5")
    finally:
        agent_ctx.close()
        sup_ctx.close()
