"""The agent console shows a banner while the bot (Rasa or the action server) is down, from
GET /health/ready polled every 5 s, and hides it when the bot is back. A backend outage is not
"the bot is down": the bot still answers and hands order questions to a person itself."""
from __future__ import annotations

import json

from playwright.sync_api import expect

from browser_helpers import shot


def test_console_banner_while_the_bot_is_down(desktop, servers):
    rasa = {"status": "down"}

    def ready(route):
        parts = {"rasa": {"status": rasa["status"], "latency_ms": 2.0},
                 "actions": {"status": "up", "latency_ms": 1.0},
                 "backend": {"status": "down", "latency_ms": 2000.0},  # orders: the bot hands off itself
                 "database": {"status": "up", "latency_ms": 0.5}}
        up = rasa["status"] == "up"
        route.fulfill(status=200 if up else 503, content_type="application/json",
                      body=json.dumps({"status": "ready" if up else "degraded", "parts": parts}))

    page = desktop.new_page()
    page.route("**/health/ready", ready)
    page.goto(servers.base + "/console")
    page.fill("#username", "agent")
    page.fill("#password", "agent-demo-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#me-name")).to_have_text("Dana (demo agent)")

    banner = page.locator("#bot-down")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("The bot is down (assistant (Rasa)):")
    expect(banner).to_contain_text("Talk to a person")
    shot(page, "12-console-bot-down-banner")

    rasa["status"] = "up"
    expect(banner).to_be_hidden(timeout=15_000)
