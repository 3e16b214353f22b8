"""The outbox relay: reads the backend's outbox (polling; SQLite and PostgreSQL alike) in order
and hands each event to the gateway's EventService; marks it delivered only after that
succeeded, so every event is delivered at least once (the gateway drops repeats by event id).
With several gateways each may relay; a lease keeps it to one at a time."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Awaitable, Callable, Optional

log = logging.getLogger(__name__)


class OutboxRelay:
    LEASE = "outbox_relay"

    def __init__(self, source, handle: Callable[[dict], Awaitable[str]], *, store=None, holder: str = "gateway",
                 interval_s: float = 2.0, batch: int = 100, lease_ttl: dt.timedelta = dt.timedelta(seconds=30),
                 permanent_errors: tuple = ()):
        self.source = source  # pending_events(limit), mark_event_delivered(event_id)
        self.handle = handle
        self.store, self.holder = store, holder
        self.interval_s, self.batch, self.lease_ttl = interval_s, batch, lease_ttl
        # an event that can never be acted on (malformed) is logged and passed, not retried forever
        self.permanent_errors = permanent_errors
        self._task: Optional[asyncio.Task] = None

    async def run_once(self) -> int:
        """Delivers what is pending; stops at the first failure (order kept, retried next round)."""
        if self.store is not None and not await self.store.take_lease(self.LEASE, self.holder, self.lease_ttl):
            return 0
        done = 0
        for row in await self.source.pending_events(self.batch):
            try:
                await self.handle(row["payload"])
            except self.permanent_errors as exc:
                log.error("event %s cannot be delivered (%s); passed over", row["event_id"], exc)
            except Exception:
                log.exception("delivering event %s failed; it stays in the outbox", row["event_id"])
                break
            await self.source.mark_event_delivered(row["event_id"])
            done += 1
        return done

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox relay round failed")
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
