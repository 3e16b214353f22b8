"""The app's outgoing webhook: each event the buyer was told about is POSTed to a configured URL
(so the marketplace can send a phone push), signed with HMAC-SHA256, retried with back-off, and
every attempt logged (gateway_webhook_deliveries).

Headers: `X-PayLater-Event-Id`, `X-PayLater-Timestamp` (unix seconds), `X-PayLater-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the shared secret>`. The receiver
should drop repeats by event id (a retry after a lost answer repeats a delivery)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Callable, Dict, Optional, Sequence, Set

import aiohttp

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-PayLater-Signature"
TIMESTAMP_HEADER = "X-PayLater-Timestamp"
EVENT_ID_HEADER = "X-PayLater-Event-Id"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


class Webhook:
    def __init__(self, url: str, secret: str, session: aiohttp.ClientSession, store, *,
                 backoff_s: Sequence[float] = (1, 2, 4, 8, 16), timeout_s: float = 5.0,
                 sleep: Callable = asyncio.sleep, clock: Callable[[], float] = time.time):
        self.url, self.secret, self.session, self.store = url, secret, session, store
        self.backoff_s, self.timeout_s, self.sleep, self.clock = tuple(backoff_s), timeout_s, sleep, clock
        self._tasks: Set[asyncio.Task] = set()

    def body(self, event: Dict[str, Any], text: str, conversation_id: str) -> bytes:
        return json.dumps({"event_id": event["event_id"], "type": event["type"], "buyer_id": event["buyer_id"],
                           "order_id": event.get("order_id"), "conversation_id": conversation_id, "text": text,
                           "event": event}, separators=(",", ":"), sort_keys=True).encode()

    def enqueue(self, event: Dict[str, Any], text: str, conversation_id: str) -> None:
        task = asyncio.create_task(self.deliver(event, text, conversation_id), name=f"webhook-{event['event_id']}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Waits for the deliveries in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def deliver(self, event: Dict[str, Any], text: str, conversation_id: str) -> bool:
        body = self.body(event, text, conversation_id)
        attempts = 1 + len(self.backoff_s)
        for attempt in range(1, attempts + 1):
            ts = str(int(self.clock()))
            headers = {"Content-Type": "application/json", EVENT_ID_HEADER: event["event_id"], TIMESTAMP_HEADER: ts,
                       SIGNATURE_HEADER: sign(self.secret, ts, body)}
            status: Optional[int] = None
            error: Optional[str] = None
            try:
                async with self.session.post(self.url, data=body, headers=headers,
                                             timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as r:
                    status = r.status
            except Exception as exc:  # connection refused, timeout, ...
                error = f"{type(exc).__name__}: {exc}"
            ok = status is not None and 200 <= status < 300
            await self.store.log_delivery(event["event_id"], attempt, status, error if not ok else None, ok)
            if ok:
                return True
            if attempt < attempts:
                await self.sleep(self.backoff_s[attempt - 1])
        log.warning("webhook for event %s failed after %d attempts", event["event_id"], attempts)
        return False
