"""Redis away and back (a private redis-server, never the shared one): a buyer's open socket
still gets what was written meanwhile — by this gateway (delivered locally when publishing
fails) and by another gateway (re-read from the database once Redis is back)."""
from __future__ import annotations

import shutil
import uuid

import pytest
from gw_helpers import new_conversation, next_of, open_buyer_ws, token_for

from bot.gateway.db import Store, make_engine
from chaos.env import PrivateRedis

pytestmark = pytest.mark.redis


@pytest.fixture
def private_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    r = PrivateRedis(tmp_path).start()
    yield r
    r.stop()


async def test_socket_catches_up_after_redis_comes_back(make_gateway, private_redis, db_url, agent_hash):
    gateway = await make_gateway(redis_url=private_redis.url, limits_redis_prefix=f"t:{uuid.uuid4().hex}:")
    conv, _ = await new_conversation(gateway, "buyer-001")
    ws = await open_buyer_ws(gateway, conv, token=token_for("buyer-001"))
    await next_of(ws, "ready")
    private_redis.stop()
    # this gateway says something while Redis is away: its own sockets still get it
    await ws.send_json({"type": "message", "text": "while redis is away", "client_message_id": uuid.uuid4().hex})
    reply = await next_of(ws, "message", timeout=10, pred=lambda e: e["message"]["sender"] == "bot")
    assert reply["message"]["text"] == "You said: while redis is away"
    # another gateway writes into the conversation meanwhile (its publish fails too)
    engine = make_engine(db_url)
    other = Store(engine).add_message(conv["id"], "agent", "written on another gateway", agent_name="Alice")
    engine.dispose()
    private_redis.start()
    caught_up = await next_of(ws, "message", timeout=20, pred=lambda e: e["message"]["id"] == other["id"])
    assert caught_up["message"]["text"] == "written on another gateway"
    await ws.close()
