"""The agent workspace in Chromium: a supervisor sets up a canned reply, one agent leaves a
private note the buyer never sees, sees the buyer's account live from the backend, answers with the canned reply (variables filled in) and
passes the chat to a colleague; the supervisor then disables that colleague, whose console
session ends at once. Screenshots 40-*."""
from __future__ import annotations

import re

from browser_helpers import open_demo_as, say, shot, sign_in
from playwright.sync_api import expect

NOTE = "Private: buyer called yesterday about the same order, be patient"



def test_transfer_note_canned_reply_and_supervisor(browser, phone, servers):
    buyer = phone.new_page()
    frame = open_demo_as(buyer, servers, "buyer-001")
    say(frame, "talk to a person")
    expect(frame.locator(".row.system .bubble").last).to_contain_text("agent")

    sup_ctx, sup = sign_in(browser, servers, "supervisor", "supervisor-demo-password")
    lee_ctx, lee = sign_in(browser, servers, "agent2", "agent2-demo-password")
    dana_ctx, dana = sign_in(browser, servers, "agent", "agent-demo-password")
    try:
        # -- the supervisor writes a canned reply with variables
        expect(sup.locator("#me-role")).to_be_visible()
        expect(dana.locator("#btn-team")).to_be_hidden()  # agents do not manage the team
        sup.click("#btn-team")
        expect(sup.locator("#team-rows tr[data-agent=agent2]")).to_contain_text("Signed in")
        sup.fill("#canned-shortcut", "order-check")
        sup.fill("#canned-title", "Checking the order")
        sup.fill("#canned-text", "Hi {buyer_name}, I'm checking order {order_id} with the lender now. {agent_name}")
        sup.click("#canned-form button[type=submit]")
        expect(sup.locator("#canned-rows tr[data-canned=order-check]")).to_contain_text("Checking the order")
        shot(sup, "40-console-supervisor-team-and-canned-replies")

        # -- the queue shows in the page title; Dana takes the chat and leaves a private note
        expect(dana).to_have_title(re.compile(r"^\(1\) Pay Later"))
        dana.locator("#list-queue button", has_text="buyer-001").first.click()
        dana.click("#btn-claim")
        expect(dana.locator("#conv-sub")).to_have_text("With you")
        # the buyer's account, live from the backend: TA-100231's balance and Pay Later for it
        order = dana.locator("#context .ctx-order[data-order=TA-100231]")
        expect(order).to_contain_text("$17,360.00 due")
        expect(order).to_contain_text("$7,440.00 paid of $24,800.00")
        expect(order).to_contain_text("Pay Later can pay the balance payment ($17,360.00).")
        expect(dana.locator("#context")).to_contain_text("$31,620.00 available of $50,000.00")
        expect(dana.locator("#context .ctx-order[data-order=TA-100260]")).to_contain_text("Pay Later cannot pay it")
        order.scroll_into_view_if_needed()
        shot(dana, "47-console-buyer-context-panel")
        dana.click("#mode-note")
        expect(dana.locator("#btn-send")).to_have_text("Add note")
        dana.fill("#reply", NOTE)
        dana.click("#btn-send")
        expect(dana.locator("#transcript .msg.note").last).to_contain_text(NOTE)
        expect(dana.locator("#transcript .msg.note .meta").last).to_contain_text("Private note")
        shot(dana, "41-console-private-note")

        # -- then answers with the canned reply, filled in for this buyer
        dana.click("#mode-reply")
        dana.fill("#canned-q", "order")
        item = dana.locator("#canned-list button[data-shortcut=order-check]")
        expect(item).to_contain_text("Hi Acme Outdoor Supply LLC, I'm checking order TA-100212")
        shot(dana, "42-console-canned-reply-search")
        item.click()
        expect(dana.locator("#reply")).to_have_value(
            "Hi Acme Outdoor Supply LLC, I'm checking order TA-100212 with the lender now. Dana (demo agent)")
        dana.click("#btn-send")
        expect(frame.locator(".row.agent .bubble").last).to_contain_text("I'm checking order TA-100212")

        # the buyer never sees the note: not in the widget, not after a reload, not in Rasa's tracker
        expect(frame.locator("body")).not_to_contain_text("Private: buyer called")
        assert NOTE not in str(servers.rasa_state["messages"]) and NOTE not in str(servers.rasa_state["events"])

        # -- Lee is away: no transfers to him; back to available, and Dana passes him the chat
        lee.select_option("#my-status", "away")
        expect(dana.locator("#transfer-to option[value=agent2]")).to_have_text("Lee (demo agent) (away)")
        expect(dana.locator("#transfer-to option[value=agent2]")).to_be_disabled()
        lee.select_option("#my-status", "available")
        expect(dana.locator("#transfer-to option[value=agent2]")).to_be_enabled()
        dana.select_option("#transfer-to", "agent2")
        dana.click("#btn-transfer")
        expect(dana.locator("#conv-sub")).to_contain_text("agent2")
        expect(lee.locator("#toast")).to_contain_text("Dana (demo agent) passed you a conversation")
        expect(lee.locator("#list-mine button", has_text="buyer-001")).to_be_visible()
        lee.locator("#list-mine button", has_text="buyer-001").click()
        expect(lee.locator("#transcript .msg.note").last).to_contain_text(NOTE)  # colleagues see the note
        shot(lee, "43-console-transfer-received")
        expect(frame.locator(".row.system .bubble").last).to_contain_text(
            "Lee (demo agent) from our support team is taking over this chat.")
        # typing, both ways
        lee.locator("#reply").press_sequentially("Hi, Lee")
        expect(frame.locator("#agent-typing")).to_have_text("Lee (demo agent) is typing…")
        shot(buyer, "49-widget-agent-typing-phone")
        frame.locator("#input").press_sequentially("are you")
        expect(lee.locator("#buyer-typing")).to_be_visible()
        shot(lee, "50-console-buyer-typing")
        frame.locator("#input").fill("")
        lee.fill("#reply", "Hi, Lee here: I have your order in front of me.")
        lee.click("#btn-send")
        expect(frame.locator(".row.agent .bubble").last).to_have_text("Hi, Lee here: I have your order in front of me.")
        buyer.reload()
        buyer.locator("button.pl-launcher").click()
        frame = buyer.frame_locator("iframe.pl-frame")
        expect(frame.locator(".row.agent .bubble").last).to_have_text("Hi, Lee here: I have your order in front of me.")
        expect(frame.locator("body")).not_to_contain_text("Private: buyer called")
        shot(buyer, "44-widget-after-transfer-no-note-phone")

        # -- Lee closes it; Dana finds the closed chat by its order id and reads it (read-only)
        lee.click("#btn-close")  # asks first, with an optional closing line
        expect(lee.locator("#close-confirm")).to_be_visible()
        expect(lee.locator("#conv-sub")).to_have_text("With you")
        lee.fill("#closing-line", "Glad I could help. Have a good day!")
        shot(lee, "51-console-close-confirm-with-closing-line")
        lee.click("#btn-close-confirm")
        expect(lee.locator("#conv-sub")).to_contain_text("Closed")
        expect(frame.locator(".row.agent .bubble").last).to_have_text("Glad I could help. Have a good day!")
        expect(frame.locator(".row.system .bubble").last).to_contain_text("closed by our support team")
        dana.fill("#search-q", "ta100212")
        dana.click("#search-form button[type=submit]")
        found = dana.locator("#list-search button", has_text="buyer-001")
        expect(found).to_contain_text("Closed")
        found.click()
        expect(dana.locator("#conv-sub")).to_have_text("Closed · read-only transcript")
        expect(dana.locator("#transcript")).to_contain_text("Hi, Lee here: I have your order in front of me.")
        expect(dana.locator("#reply")).to_be_disabled()
        expect(dana.locator("#btn-claim")).to_be_hidden()
        shot(dana, "48-console-search-closed-chat-by-order-id")

        # -- the supervisor disables Lee: Lee's console session ends at once
        sup.locator("#team-rows tr[data-agent=agent2] button", has_text="Disable").click()
        expect(sup.locator("#team-rows tr[data-agent=agent2]")).to_contain_text("Disabled")
        shot(sup, "45-console-supervisor-disabled-agent")
        expect(lee.locator("#login-form")).to_be_visible(timeout=10_000)
        expect(lee.locator("#login-error")).to_contain_text("Your session has ended")
        shot(lee, "46-console-disabled-agent-signed-out")
        lee.fill("#username", "agent2")
        lee.fill("#password", "agent2-demo-password")
        lee.click("#login-form button[type=submit]")
        expect(lee.locator("#login-error")).to_have_text("Wrong username or password.")
    finally:
        for ctx in (sup_ctx, lee_ctx, dana_ctx):
            ctx.close()
