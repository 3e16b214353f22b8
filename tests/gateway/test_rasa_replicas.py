"""Several Rasa replicas: each conversation pinned to one (stable rendezvous hash), failover
only when the request cannot have reached Rasa."""
from __future__ import annotations

import socket

import aiohttp
import pytest

from bot.gateway.rasa import RasaClient, RasaUnavailable, replica_order

from fake_rasa import make_fake_rasa, state_of

URLS = ["http://rasa-a:5005", "http://rasa-b:5005", "http://rasa-c:5005"]


def dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_order_is_stable_and_a_permutation():
    first = replica_order("conv-1", URLS)
    assert sorted(first) == sorted(URLS)
    assert replica_order("conv-1", list(reversed(URLS))) == first  # independent of list order


def test_conversations_spread_over_replicas():
    counts = {u: 0 for u in URLS}
    for i in range(3000):
        counts[replica_order(f"conv-{i}", URLS)[0]] += 1
    assert all(800 < n < 1200 for n in counts.values()), counts


def test_removing_a_replica_moves_only_its_conversations():
    ids = [f"conv-{i}" for i in range(500)]
    before = {c: replica_order(c, URLS)[0] for c in ids}
    after = {c: replica_order(c, URLS[:2])[0] for c in ids}
    moved = [c for c in ids if before[c] != after[c]]
    assert moved and all(before[c] == URLS[2] for c in moved)


@pytest.fixture
async def live(aiohttp_server):
    app = make_fake_rasa("tok")
    server = await aiohttp_server(app)
    server.state = state_of(app)
    return server


def sender_pinned_to(url: str, urls: list) -> str:
    return next(f"conv-{i}" for i in range(1000) if replica_order(f"conv-{i}", urls)[0] == url)


async def test_a_dead_replica_fails_over_to_the_next(live):
    dead, ok = dead_url(), str(live.make_url("")).rstrip("/")
    urls = [dead, ok]
    sender = sender_pinned_to(dead, urls)
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, urls, "tok", timeout_s=2)
        reply = await client.send(sender, "hello", {"client": "web"})
        assert reply.messages and "hello" in reply.messages[0]["text"].lower()
        assert await client.tracker_event(sender, "pause")
    assert [m["sender"] for m in live.state["messages"]] == [sender]


async def test_pinned_conversation_stays_on_its_live_replica(aiohttp_server):
    a, b = make_fake_rasa("tok"), make_fake_rasa("tok")
    sa, sb = await aiohttp_server(a), await aiohttp_server(b)
    urls = [str(sa.make_url("")).rstrip("/"), str(sb.make_url("")).rstrip("/")]
    sender = sender_pinned_to(urls[1], urls)
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, urls, "tok", timeout_s=2)
        for text in ["one", "two", "three"]:
            await client.send(sender, text, {})
    assert len(state_of(b)["messages"]) == 3 and not state_of(a)["messages"]


async def test_a_rasa_error_is_not_retried_elsewhere(live):
    ok = str(live.make_url("")).rstrip("/")
    urls = [ok, dead_url()]
    sender = sender_pinned_to(ok, urls)
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, urls, "tok", timeout_s=2)
        with pytest.raises(RasaUnavailable):
            await client.send(sender, "boom", {})  # HTTP 500: Rasa got it; sending again could double it


async def test_all_replicas_down_is_unavailable():
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, [dead_url(), dead_url()], "tok", timeout_s=2)
        with pytest.raises(RasaUnavailable):
            await client.send("conv-x", "hello", {})
        assert not await client.tracker_event("conv-x", "pause")


async def test_gateway_reads_several_replicas(make_gateway, fake_rasa):
    """A conversation the gateway pins to a dead replica is answered by the live one, once."""
    dead, live_url = dead_url(), str(fake_rasa.make_url("")).rstrip("/")
    urls = (dead, live_url)
    gw = await make_gateway(rasa_urls=urls)
    conv = None
    for _ in range(40):  # conversation ids are random: create until one hashes to the dead replica
        created = await gw.post("/v1/conversations", json={"client": "app"})
        assert created.status == 201, await created.text()
        c = await created.json()
        if replica_order(str(c["id"]), list(urls))[0] == dead:
            conv = c
            break
    assert conv is not None, "no conversation pinned to the dead replica in 40 tries"
    headers = {"X-Conversation-Token": conv["conversation_token"]}  # anonymous: the key is in the answer
    resp = await gw.post(f"/v1/conversations/{conv['id']}/messages", json={"text": "hello"}, headers=headers)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    bots = [m for m in body["messages"] if m["sender"] == "bot"]
    assert [m["text"] for m in bots][:1] == ["You said: hello"], body
    assert all(m.get("kind") != "bot_unavailable" for m in bots)
    assert [m["sender"] for m in fake_rasa.state["messages"]] == [str(conv["id"])]  # sent once, to the live one
