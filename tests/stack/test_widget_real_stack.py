"""The widget on the demo page, in headless Chromium, against the real stack: the real model,
actions and backend answer (the browser tests in tests/browser use a fake Rasa)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def phone():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:  # closed with the module: async tests after it get a free loop
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        yield ctx
        ctx.close()
        browser.close()


def test_signed_in_buyer_chats_with_the_real_bot(stack, phone):
    from playwright.sync_api import expect

    page = phone.new_page()
    page.goto(f"http://127.0.0.1:{stack.ports.gateway}/demo")
    page.select_option("#buyer", "buyer-001")
    expect(page.locator("#who")).to_contain_text("Signed in")
    page.locator("button.pl-launcher").click()
    frame = page.frame_locator("iframe.pl-frame")

    def ask(text: str, expected: str) -> None:
        frame.locator("#input").fill(text)
        frame.locator("#input").press("Enter")
        expect(frame.locator(".row.bot .bubble", has_text=re.compile(expected, re.I)).last).to_be_visible(timeout=30_000)

    ask("is there a processing fee for pay later?", "free")
    ask("how do I pay with pay later", "All Orders")  # the website's steps: client=web
    ask("can I pay TA-100260 with pay later", "EUR|USD")
    ask("how much credit do I have left?", r"31,620\.00")
    page.screenshot(path=str(SHOTS / "20-real-stack-widget-phone.png"))
