"""Serving an aiohttp app (the gateway, the backend API) with time limits aiohttp lacks.

aiohttp waits forever for a request's headers: a client that connects and trickles a header
byte every few seconds holds a connection (and a file descriptor) as long as it likes. Here a
connection that has not sent complete headers within `header_timeout_s` of connecting is
closed; between requests aiohttp's keep-alive timeout applies (shortened to
`keepalive_timeout_s`); slow bodies are cut off by `read_json` (`body_timeout_s`).

`run` serves on uvloop (libuv), as Rasa's Sanic does: the same asyncio API with a cheaper loop
(docs/SCALING.md, "Fifth round, gateway"). What the gateway asks of the loop beyond that API
works on it: TCP_CORK through the transport's socket (uvloop hands out a pseudo-socket whose
setsockopt reaches the real one: bot/gateway/tcp.py), signal handlers, worker-thread hops.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server


class _TimedHandler(RequestHandler):
    def __init__(self, *args: Any, header_timeout_s: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._header_timer: Optional[asyncio.TimerHandle] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._header_timer = self._loop.call_later(self._header_timeout_s, self._headers_overdue)

    def _headers_overdue(self) -> None:
        self._header_timer = None
        if self._request_count == 0:  # nothing complete yet: a slow (or silent) client
            self.force_close()

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)


class _TimedServer(Server):
    header_timeout_s = 10.0

    def __call__(self) -> RequestHandler:
        return _TimedHandler(self, loop=self._loop, header_timeout_s=self.header_timeout_s, **self._kwargs)


class TimedAppRunner(web.AppRunner):
    def __init__(self, app: web.Application, *, header_timeout_s: float = 10.0, **kwargs: Any):
        super().__init__(app, **kwargs)
        self._header_timeout_s = header_timeout_s

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        server.__class__ = _TimedServer  # same object, our handler per connection
        server.header_timeout_s = self._header_timeout_s
        return server


async def serve(app: web.Application, host: str, port: int, *, header_timeout_s: float,
                keepalive_timeout_s: float) -> TimedAppRunner:
    """Start serving `app`; returns the runner (await runner.cleanup() to stop)."""
    runner = TimedAppRunner(app, header_timeout_s=header_timeout_s, keepalive_timeout=keepalive_timeout_s,
                            access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def run(app: web.Application, host: str, port: int, *, header_timeout_s: float, keepalive_timeout_s: float) -> None:
    """Serve until SIGINT/SIGTERM (what web.run_app does, with the header timeout), on uvloop."""
    import signal

    import uvloop

    async def main() -> None:
        runner = await serve(app, host, port, header_timeout_s=header_timeout_s,
                             keepalive_timeout_s=keepalive_timeout_s)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        logging.getLogger(__name__).info("serving on %s:%d (event loop: %s)", host, port, event_loop_name(loop))
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # this process serves, nothing else
    asyncio.run(main())


def event_loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """"uvloop" or "asyncio" (the stock loop), for the startup line."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
