"""Abuse limits of the gateway: token buckets per (limit, key), in memory or shared by every
gateway through Redis (PAYLATER_GATEWAY_REDIS_URL).

    conversations per address / per buyer      creating conversations
    messages per conversation / buyer / address  buyer messages (REST and WebSocket)
    sign-in failures per (username, address)   wrong passwords
    sign-ins per address                       every sign-in attempt, whatever the username

A limit is written "N/S": N requests, refilled evenly over S seconds (a burst of N is allowed).
If Redis fails, the gateway falls back to its own memory for that call (and logs it): a broker
outage must not stop buyers from chatting, and each gateway still limits on its own.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from .security import RateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    capacity: int
    window_s: float

    @classmethod
    def parse(cls, text: str) -> "Limit":
        try:
            n, s = text.split("/")
            limit = cls(int(n), float(s))
        except ValueError:
            raise ValueError(f"a limit is written N/S (N requests per S seconds), got {text!r}") from None
        if limit.capacity < 1 or limit.window_s <= 0:
            raise ValueError(f"a limit needs N >= 1 and S > 0, got {text!r}")
        return limit

    def __str__(self) -> str:
        return f"{self.capacity}/{self.window_s:g}"


DEFAULT_LIMITS: Dict[str, Limit] = {
    "conversations_per_address": Limit(30, 600),
    "conversations_per_buyer": Limit(20, 600),
    "messages_per_conversation": Limit(10, 10),
    "messages_per_buyer": Limit(20, 60),
    "messages_per_address": Limit(20, 60),
    "signin_failures": Limit(5, 300),  # per (username, address)
    "signin_per_address": Limit(30, 60),
}

# Token bucket in one atomic step; Redis's own clock, so gateways with skewed clocks agree.
_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(b[1]) or capacity
local updated = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local ok = 0
if tokens >= cost then
  tokens = tokens - cost
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {ok, tostring(tokens)}
"""


class Limits:
    """`await limits.take(name, key)` -> (allowed, seconds until the next one is allowed)."""

    def __init__(self, limits: Dict[str, Limit], redis_url: Optional[str] = None,
                 prefix: str = "paylater:limit:", clock=time.monotonic):
        self.limits = {**DEFAULT_LIMITS, **limits}
        self.redis_url = redis_url
        self.prefix = prefix
        self._memory = {name: RateLimiter(l.capacity, l.window_s, clock=clock) for name, l in self.limits.items()}
        self._redis = None
        self._script = None

    async def start(self) -> None:
        if self.redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.redis_url)
            self._script = self._redis.register_script(_LUA)

    async def close(self) -> None:
        if self._redis is not None:
            try:
                await self._redis.close()
            except Exception:  # closing is best-effort
                log.debug("closing the limits' Redis client failed", exc_info=True)

    async def take(self, name: str, key: str, cost: float = 1.0) -> Tuple[bool, float]:
        limit = self.limits[name]
        if self._script is not None:
            try:
                ok, tokens = await self._script(keys=[f"{self.prefix}{name}:{key}"],
                                                args=[limit.capacity, limit.capacity / limit.window_s, cost])
                tokens = float(tokens)
                rate = limit.capacity / limit.window_s
                return bool(int(ok)), 0.0 if int(ok) else max(0.0, (cost - tokens) / rate)
            except Exception:
                log.warning("Redis rate limit %s failed; this gateway limits on its own", name, exc_info=True)
        return self._memory[name].take(key)

    async def peek(self, name: str, key: str) -> Tuple[bool, float]:
        """Would one more be allowed? (nothing is taken)"""
        limit = self.limits[name]
        if self._script is not None:
            try:
                ok, tokens = await self._script(keys=[f"{self.prefix}{name}:{key}"],
                                                args=[limit.capacity, limit.capacity / limit.window_s, 0])
                tokens = float(tokens)
                return tokens >= 1, 0.0 if tokens >= 1 else (1 - tokens) / (limit.capacity / limit.window_s)
            except Exception:
                log.warning("Redis rate limit %s failed; this gateway limits on its own", name, exc_info=True)
        return self._memory[name].peek(key)

    def purge(self) -> None:
        for name, limiter in self._memory.items():
            limiter.purge(idle_s=self.limits[name].window_s)  # idle that long: the bucket is full again
