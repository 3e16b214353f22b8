"""Issue 13, "Done when" line 1, the whole way: the lender calls the backend's HTTP API with its
token (complete TA-100245's agreement, mark the money arrived); the gateway's outbox relay (on,
polling) writes both messages into buyer-001's chat, where they appear in the widget open in
Chromium AND on the app's WebSocket; the app's webhook receiver answers 500 once and still gets
exactly one signed delivery per event. Replaying the lender's request changes nothing on any
of the three."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time

import aiohttp
import pytest
from aiohttp import web
from browser_helpers import open_demo_as, say, shot
from playwright.sync_api import expect

from bot.auth import mint_buyer_token
from bot.gateway.events.webhook import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

from tests.browser.conftest import RASA_TOKEN, SECRET

LENDER_TOKEN = "browser-lender-token-0123456789"
SERVICE_TOKEN = "browser-service-token-0123456789"
WEBHOOK_SECRET = "browser-webhook-secret-0123456789"
AGR = "/v1/lender/agreements/AGR-TA-100245"


class EventStack:
    """Fake Rasa, the real backend API, a webhook receiver (500 on its first call) and the real
    gateway with its outbox relay on, all on free 127.0.0.1 ports in one background loop."""

    def __init__(self, db_url: str, today: dt.date):
        self.db_url, self.today = db_url, today
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="event-stack", daemon=True)
        self.runners = []
        self.hook = {"calls": 0, "ok": []}
        self.app_ws_events = []

    def run(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _serve(self, app) -> int:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self.runners.append(runner)
        return runner.addresses[0][1]

    def start(self) -> "EventStack":
        from fake_rasa import make_fake_rasa

        from bot.backend.app import create_app as create_backend
        from bot.config import Settings
        from bot.gateway.app import create_app as create_gateway
        from bot.gateway.settings import GatewaySettings

        async def hook(request: web.Request):
            self.hook["calls"] += 1
            body = await request.read()
            if self.hook["calls"] == 1:
                return web.Response(status=500)
            self.hook["ok"].append((dict(request.headers), body))
            return web.Response(status=204)

        async def setup():
            self.session = aiohttp.ClientSession()
            rasa_port = await self._serve(make_fake_rasa(RASA_TOKEN))
            receiver = web.Application()
            receiver.router.add_post("/hook", hook)
            hook_port = await self._serve(receiver)
            settings = Settings(database_url=self.db_url, jwt_secret=SECRET, rasa_url=f"http://127.0.0.1:{rasa_port}",
                                rasa_token=RASA_TOKEN, backend_service_token=SERVICE_TOKEN, lender_token=LENDER_TOKEN,
                                demo_mode=True)
            backend_port = await self._serve(create_backend(settings, today=lambda: self.today))
            gw = GatewaySettings(database_url=self.db_url, rasa_timeout_s=3.0, schema="none", events_relay=True,
                                 events_poll_s=0.2, webhook_url=f"http://127.0.0.1:{hook_port}/hook",
                                 webhook_secret=WEBHOOK_SECRET,
                                 extra={"today": lambda: self.today, "webhook_backoff_s": (0.2, 0.2, 0.2)})
            gw_port = await self._serve(create_gateway(settings, gw))
            return backend_port, gw_port

        self.thread.start()
        backend_port, gw_port = self.run(setup())
        self.backend, self.base = f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{gw_port}"
        return self

    def lender(self, path: str, key: str, token: str = LENDER_TOKEN, body=None):
        async def call():
            async with self.session.post(self.backend + path, json=body or {}, headers={
                    "Authorization": f"Bearer {token}", "Idempotency-Key": key}) as r:
                return r.status, dict(r.headers), await r.json()
        return self.run(call())

    def open_app_socket(self, buyer_id: str) -> str:
        """What the app does: find the buyer's conversation, open its WebSocket, keep every event."""
        token = mint_buyer_token(buyer_id, SECRET, ttl_s=600)

        async def connect():
            async with self.session.get(self.base + "/v1/buyers/me/conversation",
                                        headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 200, await r.text()
                conv = await r.json()
            ws = await self.session.ws_connect(f"{self.base}/v1/conversations/{conv['id']}/ws")
            await ws.send_json({"type": "auth", "token": token})

            async def pump():
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        self.app_ws_events.append(json.loads(msg.data))
            self.app_ws = ws
            self.app_ws_task = asyncio.create_task(pump())
            return conv["id"]
        return self.run(connect())

    def app_messages(self, kind="proactive"):
        return [e["message"]["text"] for e in list(self.app_ws_events)
                if e.get("type") == "message" and e["message"].get("kind") == kind]

    def stop(self) -> None:
        async def teardown():
            if getattr(self, "app_ws", None) is not None:
                await self.app_ws.close()
                self.app_ws_task.cancel()
            await self.session.close()
            for r in reversed(self.runners):
                await r.cleanup()
        try:
            self.run(teardown())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


@pytest.fixture
def stack(tmp_path, chromium_path):
    from bot import demo_data
    from bot.adapters import orm
    from bot.adapters.migrate import upgrade
    from bot.gateway.db import make_engine

    today = dt.date.today()
    db_url = f"sqlite:///{tmp_path / 'events.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    demo_data.load(engine, today)
    with engine.begin() as conn:  # the lender has not completed TA-100245's agreement yet
        conn.execute(orm.draws.update().where(orm.draws.c.agreement_id == "AGR-TA-100245")
                     .values(agreement_completed_on=None))
    engine.dispose()
    s = EventStack(db_url, today).start()
    yield s
    s.stop()


def wait_for(predicate, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_lender_api_calls_reach_the_widget_the_app_socket_and_the_webhook_once(stack, desktop):
    page = desktop.new_page()
    frame = open_demo_as(page, stack, "buyer-001")
    say(frame, "hello")
    expect(frame.locator(".row.bot").last).to_contain_text("You said: hello")
    stack.open_app_socket("buyer-001")
    wait_for(lambda: any(e.get("type") == "ready" for e in stack.app_ws_events), what="the app socket")

    # the bot's service token does not open the lender's routes
    status, _, _ = stack.lender(AGR + "/complete", "agr-245-complete", token=SERVICE_TOKEN)
    assert status == 401

    status, _, body = stack.lender(AGR + "/complete", "agr-245-complete")
    assert status == 200, body
    status, _, body = stack.lender(AGR + "/disbursement/arrived", "agr-245-arrived")
    assert status == 200, body

    today = stack.today
    arrived = f"The $8,680.00 for TA-100245 reached your supplier today, {today:%A}, {today:%B} {today.day}."
    proactive = frame.locator(".row.bot.proactive")
    expect(proactive.first).to_contain_text("Your loan agreement for TA-100245 is complete")
    expect(proactive.last).to_contain_text(arrived)
    expect(proactive).to_have_count(2)
    shot(page, "events-lender-api-widget")

    wait_for(lambda: len(stack.app_messages()) == 2, what="both messages on the app socket")
    assert stack.app_messages()[0].startswith("Your loan agreement for TA-100245 is complete")
    assert stack.app_messages()[1] == arrived

    wait_for(lambda: len(stack.hook["ok"]) == 2, what="two webhook deliveries")
    assert stack.hook["calls"] == 3  # the receiver's first 500 was retried
    kinds = {}
    for headers, raw in stack.hook["ok"]:
        assert verify(WEBHOOK_SECRET, headers[TIMESTAMP_HEADER], raw, headers[SIGNATURE_HEADER])
        body = json.loads(raw)
        assert body["event_id"] == headers[EVENT_ID_HEADER] and body["buyer_id"] == "buyer-001"
        kinds[body["type"]] = body["event_id"]
    assert sorted(kinds) == ["agreement_completed", "disbursement_arrived"]
    assert len(set(kinds.values())) == 2

    # the lender retries its request with the same key: answered from the key, nothing new anywhere
    status, headers, _ = stack.lender(AGR + "/disbursement/arrived", "agr-245-arrived")
    assert status == 200 and headers.get("Idempotency-Replayed") == "true"
    time.sleep(1.0)  # five relay rounds
    expect(proactive).to_have_count(2)
    assert len(stack.app_messages()) == 2
    assert stack.hook["calls"] == 3 and len(stack.hook["ok"]) == 2

    # an offline moment: after a reload the history still holds both
    page.reload()
    page.locator("button.pl-launcher").click()
    frame = page.frame_locator("iframe.pl-frame")
    expect(frame.locator(".row.bot.proactive")).to_have_count(2)
    shot(page, "events-lender-api-after-reload")
    page.close()
