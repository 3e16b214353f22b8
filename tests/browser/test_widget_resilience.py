"""The widget loses nothing and duplicates nothing (Chromium, the real gateway, the fake Rasa):
an answer lost on the way back, a page reload with a message not yet sent, and a network drop
while the gateway pushes a message. Screenshots /work/notes/shots/chaos-*.png (and
test-artifacts/screenshots/)."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import sqlalchemy as sa
from browser_helpers import open_demo_as, say, shot
from playwright.sync_api import expect

NOTES_SHOTS = Path("/work/notes/shots")
BUYER = "buyer-002"
MESSAGES_ROUTE = "**/v1/conversations/*/messages"


def chaos_shot(page, name):
    path = shot(page, name)
    if NOTES_SHOTS.parent.is_dir():
        NOTES_SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, NOTES_SHOTS / f"{name}.png")


def stored_texts(db_url, buyer_id):
    from bot.gateway.db import conversations, make_engine, messages

    engine = make_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(sa.select(messages.c.sender, messages.c.text).join(
            conversations, conversations.c.id == messages.c.conversation_id).where(
            conversations.c.buyer_id == buyer_id).order_by(messages.c.id)).all()
    engine.dispose()
    return [(r.sender, r.text) for r in rows]


def rows_with(frame, text):
    return frame.locator(".row .bubble", has_text=text)


def test_lost_answer_reload_and_network_drop_lose_nothing_and_duplicate_nothing(desktop, servers):
    page = desktop.new_page()
    frame = open_demo_as(page, servers, BUYER)
    say(frame, "first hello")
    expect(rows_with(frame, "You said: first hello")).to_have_count(1)

    # 1. the gateway answers, but the answer is lost on the way back: the widget sends again
    #    with the same client id and gets the same replies (the bot ran once)
    lost = {"n": 0}

    def lose_first_answer(route):
        if route.request.method == "POST" and lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # it reaches the gateway ...
            route.abort()  # ... and the answer never reaches the browser
        else:
            route.continue_()

    desktop.route(MESSAGES_ROUTE, lose_first_answer)
    say(frame, "answer lost on the way")
    expect(rows_with(frame, "You said: answer lost on the way")).to_have_count(1)
    expect(frame.locator(".row.pending")).to_have_count(0)
    desktop.unroute(MESSAGES_ROUTE)
    assert lost["n"] == 1

    # 2. a message that could not be sent survives a reload and is sent after it
    desktop.route(MESSAGES_ROUTE, lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    say(frame, "kept across a reload")
    expect(frame.locator(".row.pending")).to_contain_text("kept across a reload")
    expect(frame.locator("#error")).to_contain_text("Connection lost")
    chaos_shot(page, "chaos-1-pending-before-reload")
    page.reload()
    expect(page.locator("#who")).to_contain_text("Signed in")
    page.locator("button.pl-launcher").click()
    frame = page.frame_locator("iframe.pl-frame")
    expect(frame.locator(".row.pending")).to_contain_text("kept across a reload")
    chaos_shot(page, "chaos-2-pending-after-reload")
    desktop.unroute(MESSAGES_ROUTE)
    expect(rows_with(frame, "You said: kept across a reload")).to_have_count(1, timeout=15_000)
    expect(frame.locator(".row.pending")).to_have_count(0)

    # 3. the network drops; the socket is cut; meanwhile the gateway writes a message into the
    #    chat (pushed to nobody) and the buyer types one: back online, both show, once each
    app = servers.runners[0].app
    from bot.gateway.common import SERVICE, SOCKETS

    desktop.set_offline(True)

    async def cut_and_notify():
        for ws in list(app[SOCKETS]):
            await ws.close()
        await app[SERVICE].notify_buyer(BUYER, "Pushed while you were offline: your statement is ready.")

    asyncio.run_coroutine_threadsafe(cut_and_notify(), servers.loop).result(10)
    say(frame, "typed while offline")
    expect(frame.locator(".row.pending")).to_contain_text("retrying")
    chaos_shot(page, "chaos-3-offline-pending")
    desktop.set_offline(False)
    expect(rows_with(frame, "You said: typed while offline")).to_have_count(1, timeout=20_000)
    expect(rows_with(frame, "Pushed while you were offline")).to_have_count(1, timeout=20_000)
    expect(frame.locator(".row.pending")).to_have_count(0)
    expect(frame.locator("#error")).to_be_hidden()
    chaos_shot(page, "chaos-4-back-online")

    # every message once, in the browser and in the database, and the bot asked once per message
    texts = ["first hello", "answer lost on the way", "kept across a reload", "typed while offline"]
    for t in texts:
        expect(frame.locator(".row.buyer .bubble", has_text=t)).to_have_count(1)
    stored = stored_texts(servers.db_url, BUYER)
    for t in texts:
        assert stored.count(("buyer", t)) == 1, (t, stored)
        assert stored.count(("bot", f"You said: {t}")) == 1, (t, stored)
    asked = [m.get("message") for m in servers.rasa_state["messages"]]
    for t in texts:
        assert asked.count(t) == 1, (t, asked)
    ids = [int(x) for x in frame.locator(".row:not(.pending)").evaluate_all("rs => rs.map(r => r.dataset.id)")]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    # after another reload the same history, nothing doubled
    page.reload()
    page.locator("button.pl-launcher").click()
    frame = page.frame_locator("iframe.pl-frame")
    expect(rows_with(frame, "You said: typed while offline")).to_have_count(1)
    assert len(frame.locator(".row").all()) == len(ids)
