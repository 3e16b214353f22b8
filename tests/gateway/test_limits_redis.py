"""Issue 17, finding 3: limits shared across gateways through Redis (the real Redis; skipped
with the reason when it is not running)."""
from __future__ import annotations

import os
import uuid

import pytest

from bot.gateway.limits import Limit, Limits
from gw_helpers import new_conversation, say

REDIS_URL = os.environ.get("PAYLATER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_url():
    try:
        import redis.asyncio as aioredis

        r = aioredis.from_url(REDIS_URL)
        await r.ping()
        await r.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc!r}); set PAYLATER_TEST_REDIS_URL")
    return REDIS_URL


async def test_two_limiters_share_one_bucket_through_redis(redis_url):
    prefix = f"paylater-test-{uuid.uuid4().hex}:"
    a = Limits({"messages_per_address": Limit(5, 3600)}, redis_url, prefix=prefix)
    b = Limits({"messages_per_address": Limit(5, 3600)}, redis_url, prefix=prefix)
    await a.start()
    await b.start()
    try:
        got = [(await (a if i % 2 else b).take("messages_per_address", "10.0.0.1"))[0] for i in range(7)]
        assert got == [True] * 5 + [False, False]
        ok, wait = await a.take("messages_per_address", "10.0.0.1")
        assert not ok and wait > 0
        assert (await b.take("messages_per_address", "10.0.0.2"))[0]  # per key
        assert (await a.peek("messages_per_address", "10.0.0.3"))[0]
    finally:
        await a.close()
        await b.close()


async def test_two_gateways_with_redis_share_the_message_limit(make_gateway, redis_url, fake_rasa):
    prefix = f"paylater-test-{uuid.uuid4().hex}:"
    limits = {"messages_per_address": Limit(4, 3600)}
    gw_a = await make_gateway(redis_url=redis_url, limits=limits, limits_redis_prefix=prefix)
    gw_b = await make_gateway(redis_url=redis_url, limits=limits, limits_redis_prefix=prefix)
    ca, ha = await new_conversation(gw_a, None)
    cb, hb = await new_conversation(gw_b, None)
    statuses = []
    for i in range(3):
        statuses.append((await say(gw_a, ca, ha, f"a{i}")).status)
        statuses.append((await say(gw_b, cb, hb, f"b{i}")).status)
    assert statuses[:4] == [200] * 4 and statuses[4:] == [429, 429]


async def test_limits_fall_back_to_memory_when_redis_is_down():
    limits = Limits({"messages_per_address": Limit(2, 3600)}, "redis://127.0.0.1:1/0")
    await limits.start()
    try:
        got = [(await limits.take("messages_per_address", "x"))[0] for _ in range(3)]
        assert got == [True, True, False]
    finally:
        await limits.close()
