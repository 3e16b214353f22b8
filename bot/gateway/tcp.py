"""One TCP segment per HTTP message, both ways: answers to clients and requests to Rasa.

aiohttp 3.9 writes a message's headers and its body with two send() calls. On loopback (Rasa on
the same host, a proxy or load balancer beside the gateway) each send also runs the receiving
side's network stack and wake-up inside the sender's system call, so two sends cost about twice
one: measured ~0.4 ms CPU per buyer message for the answer alone (bench/profile_gateway.py, A/B
on the same machine). TCP_CORK holds the data while both are written; uncorking sends them
together. Linux only; elsewhere (or on a socket that refuses the option) nothing changes.
"""
from __future__ import annotations

import socket
from typing import Any, Optional

import aiohttp
from aiohttp import web

_CORK = getattr(socket, "TCP_CORK", None)


def cork(sock: Any, on: bool) -> bool:
    """Set or clear TCP_CORK; False when this socket cannot (not TCP, closed, not Linux)."""
    if _CORK is None or sock is None:
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _CORK, 1 if on else 0)
        return True
    except (AttributeError, OSError):
        return False


async def send_corked(request: web.Request, resp: Any) -> Any:
    """Send a plain answer whose headers are all set (headers and body in one segment) and return
    it; anything else (streamed, WebSocket, already sent, not Linux) is returned untouched.
    The gateway's one middleware ends with this (bot/gateway/app.py), so every header is set
    before; aiohttp then finds the answer sent and writes nothing more."""
    if _CORK is None or type(resp) is not web.Response or resp.prepared or request.transport is None:
        return resp
    sock = request.transport.get_extra_info("socket")
    if not cork(sock, True):
        return resp
    try:
        await resp.prepare(request)
        await resp.write_eof()
    except ConnectionError:
        pass  # the client went away; aiohttp's own handling of a lost connection follows
    finally:
        cork(sock, False)  # sends it
    return resp


class OneSegmentRequest(aiohttp.ClientRequest):
    """A client request (`aiohttp.ClientSession(request_class=...)`) whose headers and body leave
    together: corked while aiohttp writes the headers and its body task runs."""

    async def send(self, conn: "aiohttp.connector.Connection") -> "aiohttp.ClientResponse":
        transport = conn.transport
        sock: Optional[Any] = transport.get_extra_info("socket") if transport is not None else None
        corked = cork(sock, True)
        try:
            resp = await super().send(conn)
        except BaseException:
            if corked:
                cork(sock, False)
            raise
        if corked:
            body_task = getattr(self, "_writer", None)  # aiohttp's task writing the body
            if body_task is None or body_task.done():
                cork(sock, False)
            else:
                body_task.add_done_callback(lambda _task: cork(sock, False))
        return resp


def client_session(**kwargs: Any) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(request_class=OneSegmentRequest, **kwargs)
