"""bot/gateway/rasa_http.py: the lean client of the gateway's message to Rasa gets what aiohttp
would get (status and body; Content-Length, chunked and read-to-close answers), reuses a
connection only when it may, fails with ConnectFailed only when nothing was sent, and times out."""
from __future__ import annotations

import asyncio
import json
import socket

import pytest
from aiohttp import web

from bot.gateway.rasa_http import ConnectFailed, HttpError, LeanHttp


@pytest.fixture
async def server(aiohttp_server):
    seen = {"bodies": [], "headers": [], "peers": set()}

    async def echo(request):
        body = await request.read()
        seen["bodies"].append(body)
        seen["headers"].append(dict(request.headers))
        seen["peers"].add(request.transport.get_extra_info("peername"))
        return web.json_response({"got": json.loads(body), "path": request.path_qs}, status=201)

    async def chunked(request):
        await request.read()
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for part in (b'[{"text": "one', b' two"}', b"]"):
            await resp.write(part)
        await resp.write_eof()
        return resp

    async def slow(request):
        await asyncio.sleep(2)
        return web.json_response([])

    app = web.Application()
    app.add_routes([web.post(f"/{h.__name__}", h) for h in (echo, chunked, slow)])
    srv = await aiohttp_server(app)
    srv.seen = seen
    return srv


async def test_answers_and_kept_connections(server):
    http = LeanHttp()
    base = str(server.make_url("")).rstrip("/")
    for i in range(3):
        status, body = await http.post(f"{base}/echo?x=1", json.dumps({"n": i, "é": "ü"}).encode(),
                                       {"X-Token": "tok"}, 5)
        assert status == 201 and json.loads(body) == {"got": {"n": i, "é": "ü"}, "path": "/echo?x=1"}
    assert len(server.seen["peers"]) == 1  # one connection, kept between the three
    assert server.seen["headers"][0]["X-Token"] == "tok" and server.seen["headers"][0]["Content-Type"] == "application/json"
    status, body = await http.post(f"{base}/chunked", b"{}", {}, 5)
    assert status == 200 and json.loads(body) == [{"text": "one two"}]
    http.close()


async def test_an_idle_connection_is_not_reused_after_idle_s(server):
    http = LeanHttp(idle_s=0.0)
    base = str(server.make_url("")).rstrip("/")
    for _ in range(2):
        assert (await http.post(f"{base}/echo", b"{}", {}, 5))[0] == 201
    assert len(server.seen["peers"]) == 2
    http.close()


async def test_timeout_and_header_injection(server):
    http = LeanHttp()
    base = str(server.make_url("")).rstrip("/")
    with pytest.raises(asyncio.TimeoutError):
        await http.post(f"{base}/slow", b"{}", {}, 0.2)
    with pytest.raises(ValueError):
        await http.post(f"{base}/echo", b"{}", {"X-Token": "a\r\nX-Evil: 1"}, 5)
    assert (await http.post(f"{base}/echo", b"{}", {}, 5))[0] == 201  # still fine afterwards
    http.close()


async def test_connect_failure_is_not_delivered_and_a_closed_answer_is_an_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    http = LeanHttp()
    with pytest.raises(ConnectFailed):
        await http.post(f"http://127.0.0.1:{dead}/x", b"{}", {}, 5)

    async def close_without_answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async def close_delimited(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[1, 2]")
        await writer.drain()
        writer.close()

    for handler, expect in ((close_without_answer, HttpError), (close_delimited, (200, b"[1, 2]"))):
        srv = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        try:
            if expect is HttpError:
                with pytest.raises(HttpError):
                    await http.post(f"http://127.0.0.1:{port}/x", b"{}", {}, 5)
            else:
                assert await http.post(f"http://127.0.0.1:{port}/x", b"{}", {}, 5) == expect
                assert not http._idle.get(("127.0.0.1", port))  # "Connection: close": not kept
        finally:
            srv.close()
            await srv.wait_closed()
    http.close()
