"""Answers and Rasa requests leave in one TCP segment (bot/gateway/tcp.py): the socket is corked only
while a message is written, and everything still arrives whole."""
from __future__ import annotations

import socket

import pytest
from aiohttp import web

from bot.gateway import tcp
from bot.gateway.tcp import client_session, cork, send_corked


def test_cork_sets_and_clears_the_option_and_refuses_what_is_not_tcp():
    if not hasattr(socket, "TCP_CORK"):
        pytest.skip("TCP_CORK is Linux only")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        assert cork(s, True) and s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 1
        assert cork(s, False) and s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as u:
        assert cork(u, True) is False
    assert cork(None, True) is False


@web.middleware
async def corked(request: web.Request, handler):  # what the gateway's middleware ends with
    return await send_corked(request, await handler(request))


async def test_corked_answers_and_requests_arrive_whole_and_sockets_are_left_uncorked(aiohttp_server, monkeypatch):
    if not hasattr(socket, "TCP_CORK"):
        pytest.skip("TCP_CORK is Linux only")
    server_cork = []
    calls = []  # (socket's fileno, on) of every cork() the client and the server made
    real_cork = tcp.cork
    monkeypatch.setattr(tcp, "cork", lambda sock, on: calls.append((sock.fileno(), on)) or real_cork(sock, on))

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(body=body * 3, content_type="application/octet-stream", headers={"X-Big": "x" * 3000})

    async def stream(request: web.Request) -> web.StreamResponse:  # not a plain answer: left alone
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"chunk")
        return resp

    @web.middleware
    async def outside(request, handler):  # sees the socket once the answer is sent
        resp = await handler(request)
        server_cork.append(request.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK))
        return resp

    app = web.Application(middlewares=[outside, corked])
    app.router.add_post("/echo", echo)
    app.router.add_get("/stream", stream)
    server = await aiohttp_server(app)
    payload = bytes(range(256)) * 100
    async with client_session() as http:
        for _ in range(3):  # one keep-alive connection, reused
            async with http.post(server.make_url("/echo"), data=payload) as r:
                assert r.status == 200 and r.headers["X-Big"] == "x" * 3000 and await r.read() == payload * 3
        async with http.get(server.make_url("/stream")) as r:
            assert await r.read() == b"chunk"
    assert server_cork == [0, 0, 0, 0]
    # 4 requests on the client's socket, 3 answers on the server's (the stream is left alone): each
    # corked, then uncorked once written
    per_socket = sorted([on for f, on in calls if f == fd] for fd in {fd for fd, _ in calls})
    assert per_socket == [[True, False] * 3, [True, False] * 4]
