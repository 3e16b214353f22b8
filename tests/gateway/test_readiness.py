"""GET /health/ready: each part up or down with its latency; a stopped part is down on the next call;
the request id a buyer message gets is echoed and sent to Rasa in the message metadata."""
from __future__ import annotations

import json

import pytest
from aiohttp import web

from bot.config import Settings
from bot.gateway.app import create_app
from bot.gateway.settings import GatewaySettings
from gw_helpers import RASA_TOKEN, SECRET, auth, new_conversation, say


@pytest.fixture
async def parts(aiohttp_server):
    """A Rasa with its model loaded, an action server and a backend that answer their health checks."""
    seen = {}

    async def status(request):
        seen["token"] = request.query.get("token")
        return web.json_response({"model_file": "paylater.tar.gz"})

    async def ok(request):
        return web.json_response({"status": "ok"})

    async def webhook(request):
        seen["metadata"] = (await request.json()).get("metadata")
        return web.json_response([{"text": "Pay Later is trade credit from Kabbage."}])

    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_get("/health", ok)
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    server.seen = seen
    return server


@pytest.fixture
def gateway_with(aiohttp_client, db_url, monkeypatch):
    async def make(rasa_url: str, backend_url: str, actions_url: str):
        monkeypatch.setenv("PAYLATER_ACTION_ENDPOINT", f"{actions_url}/webhook")
        settings = Settings(database_url=db_url, jwt_secret=SECRET, rasa_url=rasa_url, rasa_token=RASA_TOKEN,
                            backend_url=backend_url, demo_mode=True)
        gw = GatewaySettings(database_url=db_url, rasa_timeout_s=1.5, schema="none")
        return await aiohttp_client(create_app(settings, gw))

    return make


async def test_every_part_up_with_its_latency(gateway_with, parts):
    url = str(parts.make_url("")).rstrip("/")
    client = await gateway_with(url, url, url)
    r = await client.get("/health/ready")
    body = await r.json()
    assert r.status == 200 and body["status"] == "ready", body
    assert set(body["parts"]) == {"rasa", "actions", "backend", "database"}
    for part in body["parts"].values():
        assert part["status"] == "up" and part["latency_ms"] >= 0
    assert parts.seen["token"] == RASA_TOKEN


async def test_a_stopped_part_is_down_on_the_next_call(gateway_with, parts, unused_tcp_port_factory):
    url = str(parts.make_url("")).rstrip("/")
    nothing = f"http://127.0.0.1:{unused_tcp_port_factory()}"  # nobody listens: a stopped backend
    client = await gateway_with(url, nothing, url)
    r = await client.get("/health/ready")
    body = await r.json()
    assert r.status == 503 and body["status"] == "degraded"
    assert body["parts"]["backend"]["status"] == "down" and body["parts"]["backend"]["detail"]
    assert body["parts"]["rasa"]["status"] == "up"
    assert nothing not in json.dumps(body)  # no addresses in a public answer


async def test_rasa_without_its_model_is_not_ready(gateway_with, parts, aiohttp_server):
    async def status(request):
        return web.json_response({"model_file": None})

    app = web.Application()
    app.router.add_get("/status", status)
    loading = await aiohttp_server(app)
    url = str(parts.make_url("")).rstrip("/")
    client = await gateway_with(str(loading.make_url("")).rstrip("/"), url, url)
    body = await (await client.get("/health/ready")).json()
    assert body["parts"]["rasa"]["status"] == "down"


async def test_buyer_message_gets_a_request_id_that_reaches_rasa(gateway_with, parts):
    url = str(parts.make_url("")).rstrip("/")
    client = await gateway_with(url, url, url)
    conv, headers = await new_conversation(client, "buyer-001")
    r = await say(client, conv, {**headers, "X-Request-ID": "req-from-the-app-1"}, "what is pay later")
    assert r.status == 200
    assert r.headers["X-Request-ID"] == "req-from-the-app-1"
    assert parts.seen["metadata"]["request_id"] == "req-from-the-app-1"
    # an unusable id from a client is replaced, never logged as sent
    r = await say(client, conv, {**headers, "X-Request-ID": "bad id with spaces"}, "what is pay later")
    rid = r.headers["X-Request-ID"]
    assert rid != "bad id with spaces" and len(rid) == 32
    assert parts.seen["metadata"]["request_id"] == rid
