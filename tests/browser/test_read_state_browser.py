"""The buyer notices the agent, and the agent knows the buyer has read them (Chromium).
An agent's replies while the widget is closed show an unread badge that survives a reload;
reopening starts at the first unread reply; the console shows "Seen", keeps its unread counts
across a reload and colours the queue by the waiting-time SLA. Screenshots 52-*."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from browser_helpers import open_demo_as, say, shot, sign_in
from playwright.sync_api import expect

LONG = ("Hi, I'm Dana from the support team. I've looked at order TA-100231: the balance payment of "
        "$17,360.00 is still due, and Pay Later can pay it. " * 3).strip()
SECOND = "Shall I walk you through paying it with Pay Later?"


def _queued_long_ago(db_url, buyer_id, seconds):
    from bot.gateway.db import conversations, make_engine, utcnow

    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(sa.update(conversations).where(conversations.c.buyer_id == buyer_id, conversations.c.state == "queued")
                  .values(queued_at=utcnow() - dt.timedelta(seconds=seconds)))
    engine.dispose()


def test_unread_badge_first_unread_seen_and_console_counts(browser, phone, servers):
    buyer = phone.new_page()
    frame = open_demo_as(buyer, servers, "buyer-001")
    say(frame, "talk to a person")
    expect(frame.locator(".row.system.queued")).to_be_visible()
    expect(frame.locator("#banner")).to_be_hidden()
    frame.locator("#close").click()  # the buyer closes the widget and browses on
    badge = buyer.locator(".pl-badge")
    expect(badge).to_be_hidden()

    dana_ctx, dana = sign_in(browser, servers, "agent", "agent-demo-password")
    try:
        dana.locator("#list-queue button", has_text="buyer-001").first.click()
        dana.click("#btn-claim")
        expect(dana.locator("#conv-sub")).to_have_text("With you")
        for text in (LONG, SECOND):
            dana.fill("#reply", text)
            dana.click("#btn-send")
            expect(dana.locator("#transcript .msg.agent").last).to_contain_text(text[:40])
        expect(dana.locator("#transcript .seen-mark")).to_have_text("Not seen yet")

        # the buyer notices: two unread replies on the launcher (the "joined" line is not a reply)
        expect(badge).to_have_text("2")
        shot(buyer, "52-widget-unread-badge-phone")
        buyer.reload()
        expect(buyer.locator("#who")).to_contain_text("Signed in")
        expect(buyer.locator(".pl-badge")).to_have_text("2")  # stored by the gateway, not page memory
        shot(buyer, "53-widget-unread-badge-after-reload-phone")
        shot(dana, "54-console-reply-not-seen-yet")

        buyer.locator("button.pl-launcher").click()
        frame = buyer.frame_locator("iframe.pl-frame")
        first_reply = frame.locator(".row.agent").first
        expect(first_reply).to_be_visible()
        expect(first_reply.locator(".bubble")).to_have_text(LONG)
        # it opens at the first unread reply: its first line is in view, not scrolled past
        top_in_view = frame.locator("#log").evaluate(
            "(log) => { const r = log.querySelector('.row.agent'); const a = r.getBoundingClientRect(),"
            " b = log.getBoundingClientRect(); return a.top >= b.top - 1 && a.top < b.bottom; }")
        assert top_in_view
        expect(buyer.locator(".pl-badge")).to_be_hidden()
        # the handoff was announced once: one "joined" line, no banner repeating it
        expect(frame.locator(".row.system.agent_joined")).to_have_count(1)
        expect(frame.locator("#banner")).to_be_hidden()
        shot(buyer, "55-widget-opens-at-first-unread-phone")

        expect(dana.locator("#transcript .seen-mark.seen")).to_have_text("\u2713 Seen by the buyer")
        shot(dana, "56-console-reply-seen")

        # Dana's unread counts survive a console reload: she looks at nothing, the buyer writes
        dana.reload()
        expect(dana.locator("#live-dot.on")).to_be_visible()
        say(frame, "Yes please, and is the fee the same for 60 days?")
        mine = dana.locator("#list-mine button", has_text="buyer-001").first
        expect(mine.locator(".unread")).to_have_text("1")
        dana.reload()
        expect(dana.locator("#live-dot.on")).to_be_visible()
        expect(dana.locator("#list-mine button", has_text="buyer-001").first.locator(".unread")).to_have_text("1")
        expect(dana).to_have_title("(1) Pay Later · Support console")
        shot(dana, "57-console-unread-after-reload")
        dana.locator("#list-mine button", has_text="buyer-001").first.click()
        expect(dana.locator("#transcript")).to_contain_text("is the fee the same for 60 days?")
        dana.reload()
        expect(dana.locator("#live-dot.on")).to_be_visible()
        expect(dana.locator("#list-mine button", has_text="buyer-001").first.locator(".unread")).to_have_count(0)
    finally:
        dana_ctx.close()


def test_queue_sla_colours(browser, desktop, servers):
    waiting = desktop.new_page()
    frame = open_demo_as(waiting, servers, "buyer-002")
    say(frame, "talk to a person")
    expect(frame.locator(".row.system.queued")).to_be_visible()
    shot(waiting, "58-widget-queued-announced-once-desktop")
    _queued_long_ago(servers.db_url, "buyer-002", 400)
    lee_ctx, lee = sign_in(browser, servers, "agent2", "agent2-demo-password")
    try:
        item = lee.locator("#list-queue button", has_text="buyer-002").first
        expect(item.locator(".wait.sla-breach")).to_contain_text("over target")
        expect(item.locator(".wait")).to_have_attribute("title", "Target: answer within 5 min (amber from 2 min)")
        shot(lee, "59-console-queue-sla-breach")
    finally:
        lee_ctx.close()


def _app_conversation(servers, buyer_id, text):
    """The buyer's mobile app talks to the same gateway through /v1 (a JWT per buyer)."""
    import json
    import urllib.request

    from tests.browser.conftest import SECRET  # not `conftest`: another folder's conftest may hold that name

    from bot.auth import mint_buyer_token

    headers = {"Authorization": f"Bearer {mint_buyer_token(buyer_id, SECRET, ttl_s=600)}",
               "Content-Type": "application/json"}

    def call(path, body):
        req = urllib.request.Request(servers.base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    conv = call("/v1/conversations", {"client": "app"})
    call(f"/v1/conversations/{conv['id']}/messages", {"text": text})
    return conv


def test_the_buyer_s_web_and_app_chats_are_linked_in_the_console(browser, phone, servers):
    buyer = phone.new_page()
    frame = open_demo_as(buyer, servers, "buyer-003")
    say(frame, "talk to a person")
    expect(frame.locator(".row.system.queued")).to_be_visible()
    app = _app_conversation(servers, "buyer-003", "how do I repay early?")
    sam_ctx, sam = sign_in(browser, servers, "supervisor", "supervisor-demo-password")
    try:
        sam.locator("#list-queue button", has_text="buyer-003").first.click()
        expect(sam.locator("#list-queue button.active .unread")).to_have_count(0)  # opened = read
        linked = sam.locator("#linked .linked-row")
        expect(linked).to_have_count(1)
        expect(linked).to_contain_text("This buyer also has an open chat in the app (with the bot")
        shot(sam, "60-console-linked-web-and-app")
        linked.locator("button", has_text="Open it").click()
        expect(sam.locator("#transcript")).to_contain_text("how do I repay early?")
        expect(sam.locator("#linked .linked-row")).to_contain_text("open chat on the website (waiting for a person")
        shot(sam, "61-console-linked-app-opened")
    finally:
        sam_ctx.close()
    assert app["client"] == "app"


def test_a_disabled_agent_s_chat_goes_back_to_the_queue_and_the_buyer_is_told(browser, phone, servers):
    buyer = phone.new_page()
    frame = open_demo_as(buyer, servers, "buyer-004")
    say(frame, "talk to a person")
    expect(frame.locator(".row.system.queued")).to_be_visible()
    lee_ctx, lee = sign_in(browser, servers, "agent2", "agent2-demo-password")
    sam_ctx, sam = sign_in(browser, servers, "supervisor", "supervisor-demo-password")
    try:
        lee.locator("#list-queue button", has_text="buyer-004").first.click()
        lee.click("#btn-claim")
        expect(lee.locator("#conv-sub")).to_have_text("With you")
        expect(frame.locator(".row.system.agent_joined")).to_be_visible()
        sam.click("#btn-team")
        sam.locator("#team-rows tr[data-agent=agent2] button", has_text="Disable").click()
        expect(sam.locator("#team-rows tr[data-agent=agent2]")).to_contain_text("Disabled")
        expect(lee.locator("#login-form")).to_be_visible()
        # the buyer is not left with someone who can no longer answer
        expect(frame.locator(".row.system.released .bubble")).to_contain_text(
            "A colleague from our support team will take over shortly.")
        expect(frame.locator("#status-text")).to_contain_text("Waiting for a support agent")
        shot(buyer, "62-widget-back-in-queue-after-agent-disabled-phone")
        sam.click("#team-close")
        expect(sam.locator("#list-queue button", has_text="buyer-004")).to_be_visible()
        shot(sam, "63-console-disabled-agent-chat-back-in-queue")
    finally:
        sam_ctx.close()
        lee_ctx.close()
