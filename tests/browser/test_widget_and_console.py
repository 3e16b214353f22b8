"""The chat widget on the demo page (phone size) and the agent console, in headless Chromium."""
from __future__ import annotations

import re

from browser_helpers import open_demo_as, say, shot
from playwright.sync_api import expect


def test_widget_on_demo_page_phone(phone, servers):
    page = phone.new_page()
    page.goto(servers.base + "/demo")
    shot(page, "01-demo-page-phone")
    frame = open_demo_as(page, servers, "buyer-001")
    expect(frame.locator(".welcome")).to_be_visible()
    shot(page, "02-widget-welcome-phone")

    say(frame, "How do I pay with Pay Later?")
    bot = frame.locator(".row.bot .bubble").last
    expect(bot).to_have_text("You said: How do I pay with Pay Later?")
    button = frame.locator(".row.bot .buttons button", has_text="Pay Later facts").last
    expect(button).to_be_visible()
    # the widget sent client=web and the buyer's token
    meta = servers.rasa_state["messages"][-1]["metadata"]
    assert meta["client"] == "web" and meta["auth_token"]

    button.click()  # sends the button's payload; shows its title
    expect(frame.locator(".row.buyer .bubble").last).to_have_text("Pay Later facts")
    expect(frame.locator(".row.bot .bubble").last).to_have_text("You said: /faq")

    evil = '<script>window.__pwned=1</script><b>bold?</b>'
    say(frame, evil)
    expect(frame.locator(".row.buyer .bubble").last).to_have_text(evil)  # shown as text
    assert frame.locator(".row.buyer .bubble b").count() == 0
    assert frame.locator(".row.buyer script").count() == 0
    shot(page, "03-widget-conversation-phone")

    # the panel fills the phone screen
    box = page.locator("div.pl-panel").bounding_box()
    assert box["width"] == 390 and box["height"] >= 800

    page.reload()
    expect(page.locator("#who")).to_contain_text("Signed in")
    page.locator("button.pl-launcher").click()
    frame = page.frame_locator("iframe.pl-frame")
    expect(frame.locator(".row.bot .bubble", has_text="You said: How do I pay with Pay Later?")).to_be_visible()
    expect(frame.locator(".row.buyer .bubble").last).to_have_text(evil)
    assert frame.locator(".row").count() >= 6
    shot(page, "04-widget-history-after-reload-phone")


def test_console_takes_over_and_buyer_sees_agent(phone, desktop, servers):
    buyer = phone.new_page()
    frame = open_demo_as(buyer, servers, "buyer-002")
    say(frame, "talk to a person")
    expect(frame.locator(".row.system.queued .bubble")).to_contain_text(re.compile("No support agent is signed in|queue"))
    expect(frame.locator("#banner")).to_be_hidden()  # announced once: by the system line, not a banner too
    shot(buyer, "05-widget-waiting-for-agent-phone")
    say(frame, "My order TA-100212 has not reached the supplier")

    agent = desktop.new_page()
    agent.goto(servers.base + "/console")
    expect(agent.locator("#login-form")).to_be_visible()
    shot(agent, "06-console-sign-in")
    agent.fill("#username", "agent")
    agent.fill("#password", "wrong-password")
    agent.click("#login-form button[type=submit]")
    expect(agent.locator("#login-error")).to_have_text("Wrong username or password.")
    agent.fill("#password", "agent-demo-password")
    agent.click("#login-form button[type=submit]")
    expect(agent.locator("#me-name")).to_have_text("Dana (demo agent)")
    expect(agent.locator("#live-dot.on")).to_be_visible()

    item = agent.locator("#list-queue button").first
    expect(item).to_contain_text("buyer-002")
    expect(item).to_contain_text("waiting")
    shot(agent, "07-console-queue")
    item.click()
    expect(agent.locator("#transcript")).to_contain_text("My order TA-100212 has not reached the supplier")
    expect(agent.locator("#summary-list")).to_contain_text("Blue Harbor Imports Inc")  # from the handoff summary
    expect(agent.locator("#summary-list")).to_contain_text("buyer-002")
    expect(agent.locator("#summary-list")).to_contain_text("TA-100212")
    expect(agent.locator("#summary-list")).to_contain_text("Asked for a person")
    agent.click("#btn-claim")
    expect(agent.locator("#conv-sub")).to_have_text("With you")

    # the buyer's widget shows the agent joined (live, over the WebSocket)
    expect(frame.locator(".row.system.agent_joined")).to_have_text("Dana (demo agent) from our support team joined the chat.")
    expect(frame.locator("#status-text")).to_have_text("Dana (demo agent) · Support team")
    expect(frame.locator("#banner")).to_be_hidden()  # one announcement of the event, not a line and a banner

    agent.fill("#reply", "Hi, I'm Dana. I'm checking TA-100212 with the lender now.")
    agent.click("#btn-send")
    expect(agent.locator("#transcript .msg.agent").last).to_contain_text("checking TA-100212")
    expect(frame.locator(".row.agent .bubble").last).to_have_text("Hi, I'm Dana. I'm checking TA-100212 with the lender now.")
    expect(frame.locator(".row.agent .who").last).to_contain_text("Dana (demo agent)")
    shot(buyer, "08-widget-agent-joined-phone")

    say(frame, "Thanks! <script>alert(1)</script>")
    expect(agent.locator("#transcript .msg.buyer .text").last).to_have_text("Thanks! <script>alert(1)</script>")
    shot(agent, "09-console-conversation-taken-over")

    agent.click("#btn-handback")
    expect(agent.locator("#conv-sub")).to_have_text("Live with the bot")
    expect(frame.locator("#status-text")).to_have_text("Assistant · replies instantly")
    expect(frame.locator(".row.system.handed_back")).to_be_visible()
    say(frame, "what is the credit limit")
    expect(frame.locator(".row.bot .bubble").last).to_have_text("You said: what is the credit limit")
    shot(buyer, "10-widget-back-with-bot-phone")
    shot(agent, "11-console-after-hand-back")


def test_widget_on_desktop(desktop, servers):
    page = desktop.new_page()
    frame = open_demo_as(page, servers, "buyer-001")
    say(frame, "boom")  # the fake Rasa answers 500: the gateway apologises and offers a person
    expect(frame.locator(".row.bot.bot_unavailable .bubble")).to_contain_text("Sorry")
    expect(frame.locator(".row.bot.bot_unavailable .buttons button", has_text="Talk to a person")).to_be_visible()
    shot(page, "12-widget-desktop-assistant-unavailable")
