"""How the HTTP adapter reports a backend that is down, slow or broken."""
import asyncio
from decimal import Decimal

import pytest
from aiohttp import web

from bot.adapters.backend_client import HttpBackend, SqlBackend, make_backend
from bot.config import Settings
from bot.ports import BackendUnavailable, NotFound, Refused
from bot.stack import free_port


def http(url, timeout=0.3):
    return HttpBackend(Settings(backend_adapter="http", backend_url=url, backend_service_token="t",
                                backend_timeout_s=timeout))


def test_factory_picks_by_settings():
    assert isinstance(make_backend(Settings()), SqlBackend)
    assert isinstance(make_backend(Settings(backend_adapter="http")), HttpBackend)
    with pytest.raises(ValueError):
        make_backend(Settings(backend_adapter="carrier-pigeon"))


async def test_connection_refused_is_unavailable():
    b = http(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(BackendUnavailable):
        await b.list_orders("buyer-001")
    await b.close()


async def _server(aiohttp_server, handler):
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return await aiohttp_server(app)


async def test_timeout_is_unavailable(aiohttp_server):
    async def slow(request):
        await asyncio.sleep(2)
        return web.json_response({})
    s = await _server(aiohttp_server, slow)
    b = http(str(s.make_url("")).rstrip("/"), timeout=0.2)
    with pytest.raises(BackendUnavailable):
        await b.credit_line("buyer-001")
    await b.close()


@pytest.mark.parametrize("status, body, exc", [
    (500, {"error": {"code": "x", "message": "boom"}}, BackendUnavailable),
    (503, None, BackendUnavailable),
    (404, {"error": {"code": "not_found", "message": "I can't find that order in your account."}}, NotFound),
    (409, {"error": {"code": "conflict", "message": "no"}}, Refused),
    (422, {"error": {"code": "term_too_long", "message": "six months"}}, Refused),
    (401, {"error": {"code": "unauthorized", "message": "token"}}, BackendUnavailable),
    (200, "not an object", BackendUnavailable),
])
async def test_status_mapping(aiohttp_server, status, body, exc):
    async def h(request):
        return web.json_response(body, status=status) if body is not None else web.Response(status=status, text="x")
    s = await _server(aiohttp_server, h)
    b = http(str(s.make_url("")).rstrip("/"))
    with pytest.raises(exc):
        await b.quote_draw("buyer-001", Decimal("100"))
    await b.close()
