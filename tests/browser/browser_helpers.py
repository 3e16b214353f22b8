"""Helpers for the browser tests."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def shot(page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def open_demo_as(page, servers, buyer_id="buyer-001"):
    page.goto(servers.base + "/demo")
    page.select_option("#buyer", buyer_id)
    expect(page.locator("#who")).to_contain_text("Signed in")
    page.locator("button.pl-launcher").click()
    frame = page.frame_locator("iframe.pl-frame")
    expect(frame.locator("#input")).to_be_visible()
    return frame


def say(frame, text):
    expect(frame.locator("#send")).to_be_enabled()  # the previous message's answer is in (Enter is ignored until then)
    frame.locator("#input").fill(text)
    frame.locator("#input").press("Enter")


def sign_in(browser, servers, username, password, height=820):
    """An agent or supervisor signed in to the console in a context of its own: (context, page)."""
    ctx = browser.new_context(viewport={"width": 1366, "height": height})
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.goto(servers.base + "/console")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#live-dot.on")).to_be_visible()
    return ctx, page
