"""Browser tests: the real gateway and the fake Rasa on real ports (in a background thread with
its own event loop), driven by Debian's chromium through Playwright. Screenshots go to
test-artifacts/screenshots/."""
from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "gateway"))

from fake_rasa import make_fake_rasa, state_of  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SECRET = "browser-test-secret-0123456789abcdef0123456789"
RASA_TOKEN = "rasa-browser-token"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().parent == here:
            item.add_marker(pytest.mark.browser)


class Servers:
    """Fake Rasa + gateway (demo mode) on 127.0.0.1 free ports, in one background loop."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="browser-servers", daemon=True)
        self.runners = []

    def start(self) -> "Servers":
        from aiohttp import web

        from bot.config import Settings
        from bot.gateway.app import create_app
        from bot.gateway.settings import GatewaySettings

        async def setup():
            rasa_app = make_fake_rasa(RASA_TOKEN)
            self.rasa_state = state_of(rasa_app)
            rasa = web.AppRunner(rasa_app)
            await rasa.setup()
            await web.TCPSite(rasa, "127.0.0.1", 0).start()
            rasa_port = rasa.addresses[0][1]
            settings = Settings(database_url=self.db_url, jwt_secret=SECRET, rasa_url=f"http://127.0.0.1:{rasa_port}",
                                rasa_token=RASA_TOKEN, demo_mode=True)
            gw = web.AppRunner(create_app(settings, GatewaySettings(database_url=self.db_url, rasa_timeout_s=3.0, schema="create")))
            await gw.setup()
            await web.TCPSite(gw, "127.0.0.1", 0).start()
            self.runners = [gw, rasa]
            return gw.addresses[0][1]

        self.thread.start()
        port = asyncio.run_coroutine_threadsafe(setup(), self.loop).result(30)
        self.base = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        async def teardown():
            for r in self.runners:
                await r.cleanup()

        try:
            asyncio.run_coroutine_threadsafe(teardown(), self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run browser tests")
    return CHROMIUM


@pytest.fixture(scope="module")
def servers(tmp_path_factory, chromium_path):
    import datetime as dt

    from bot import demo_data
    from bot.adapters.migrate import upgrade
    from bot.gateway.db import make_engine
    from bot.gateway.demo import load_demo_agent

    db_url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'gateway.db'}"
    upgrade(db_url)  # the backend's demo data too: the console's context panel reads it through the port
    engine = make_engine(db_url)
    demo_data.load(engine, dt.date.today())
    engine.dispose()
    load_demo_agent(db_url, "create")
    s = Servers(db_url).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def desktop(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 820})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()
