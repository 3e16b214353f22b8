"""Live updates between the parts of the gateway: `publish(channel, message)` and
`subscribe(channel)`.

`InProcessBroadcaster` is enough for one gateway process. With several replicas behind a load
balancer, set PAYLATER_GATEWAY_REDIS_URL and `RedisBroadcaster` carries the same messages over
Redis pub/sub, so a buyer connected to replica A sees the reply an agent typed on replica B.

Channels: `conv:<conversation id>` (buyer widget/app) and `console` (every agent console).
Messages are JSON-able dicts; a `wire.Encoded` one carries its JSON text, which Redis and the
sockets send as it is (encoded once however many subscribers there are).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import AsyncIterator, Dict, Optional, Protocol, Set

from .wire import Encoded, as_json

log = logging.getLogger(__name__)

# A local event (never published): "live updates may have been lost, re-read the history".
RESYNC = "resync"


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[dict]: ...
    async def get(self) -> dict: ...


class Broadcaster(Protocol):
    async def publish(self, channel: str, message: dict) -> None: ...
    def subscribe(self, channel: str) -> "contextlib.AbstractAsyncContextManager[Subscription]": ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...


class _QueueSubscription:
    def __init__(self, maxsize: int = 1000):
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=maxsize)

    def put(self, message: dict) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # a stuck client must not hold the others back
            log.warning("subscriber queue full; dropping a live update (history still has it)")

    async def get(self) -> dict:
        return await self.queue.get()

    def __aiter__(self):
        return self

    async def __anext__(self) -> dict:
        return await self.queue.get()


class InProcessBroadcaster:
    def __init__(self) -> None:
        self._subs: Dict[str, Set[_QueueSubscription]] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._subs.clear()

    async def publish(self, channel: str, message: dict) -> None:
        self._deliver(channel, message)

    def _deliver(self, channel: str, message: dict) -> None:
        for sub in list(self._subs.get(channel, ())):
            sub.put(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str):
        sub = _QueueSubscription()
        self._subs.setdefault(channel, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subs.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    self._subs.pop(channel, None)

    def subscriber_count(self, channel: str) -> int:
        return len(self._subs.get(channel, ()))


class RedisBroadcaster(InProcessBroadcaster):
    """Publishes through Redis; one pattern subscription per process fans messages out to the
    local subscribers (so N WebSockets cost one Redis connection, not N)."""

    def __init__(self, url: str, prefix: str = "paylater:gw:") -> None:
        super().__init__()
        self.url = url
        self.prefix = prefix
        self._redis = None
        self._pubsub = None
        self._task: Optional[asyncio.Task] = None

    async def start(self) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self.url)
        self._pubsub = self._redis.pubsub()
        await self._pubsub.psubscribe(self.prefix + "*")
        self._task = asyncio.create_task(self._listen(), name="redis-broadcaster")

    async def _listen(self) -> None:
        assert self._pubsub is not None
        broken = False
        while True:
            try:
                msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if broken:  # Redis is back (redis-py reconnected and subscribed again)
                    broken = False
                    self.resync()
                if msg is None:
                    continue
                channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
                data = msg["data"].decode() if isinstance(msg["data"], bytes) else msg["data"]
                self._deliver(channel[len(self.prefix):], Encoded(json.loads(data), data))  # sent as received
            except asyncio.CancelledError:
                raise
            except Exception:  # keep listening; Redis may come back
                if not broken:
                    log.exception("redis pub/sub listener error")
                broken = True
                await asyncio.sleep(1.0)

    def resync(self) -> None:
        """Updates published while Redis was away are lost (other gateways' too): tell every
        local subscriber to re-read what it may have missed from the database."""
        log.warning("redis pub/sub is back: local subscribers re-read the history")
        for channel in list(self._subs):
            self._deliver(channel, {"type": RESYNC})

    async def publish(self, channel: str, message: dict) -> None:
        assert self._redis is not None, "start() first"
        try:
            await self._redis.publish(self.prefix + channel, as_json(message))
        except Exception:
            # Redis down: this gateway's own sockets still get it live (others find it in the
            # history when they reconnect); the caller logs the failure
            self._deliver(channel, message)
            raise

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.close()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.close()
        await super().close()


def make_broadcaster(redis_url: Optional[str]) -> Broadcaster:
    return RedisBroadcaster(redis_url) if redis_url else InProcessBroadcaster()
