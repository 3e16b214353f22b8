"""`GET /metrics` (bot/metrics.py): Prometheus text with the families of docs/ANALYTICS.md, the
latency histograms move when messages are sent, and only loopback or the token may read it."""
from __future__ import annotations

import re

from gw_helpers import new_conversation, say

FAMILIES = ("paylater_gateway_messages_total", "paylater_gateway_bot_replies_total", "paylater_gateway_rasa_seconds_bucket",
            "paylater_gateway_handoffs_total", "paylater_gateway_queue_length",
            "paylater_gateway_queue_oldest_wait_seconds", "paylater_gateway_websocket_connections",
            "paylater_gateway_errors_total")


def value(text: str, sample: str) -> float:
    m = re.search(r"^" + re.escape(sample) + r" ([0-9.e+-]+)$", text, re.M)
    assert m, sample
    return float(m.group(1))


async def test_metrics_move_with_messages_and_handoffs(gateway):
    r = await gateway.get("/metrics")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
    before = await r.text()
    for family in FAMILIES:
        assert family in before, family
    assert value(before, "paylater_gateway_rasa_seconds_count") == 0
    conv, headers = await new_conversation(gateway)
    await say(gateway, conv, headers, "hello")
    await say(gateway, conv, headers, "talk to a person")
    await say(gateway, conv, headers, "still there?")  # queued: to the agents only
    after = await (await gateway.get("/metrics")).text()
    assert value(after, "paylater_gateway_rasa_seconds_count") == 2
    assert value(after, 'paylater_gateway_messages_total{sender="buyer"}') == 3
    assert value(after, 'paylater_gateway_handoffs_total{reason="requested"}') == 1
    assert value(after, "paylater_gateway_queue_length") == 1
    assert value(after, "paylater_gateway_queue_oldest_wait_seconds") >= 0
    await say(gateway, conv, headers, "boom")  # nothing to Rasa while queued: errors stay 0
    assert value(after, 'paylater_gateway_errors_total{kind="rasa_unavailable"}') == 0


async def test_rasa_errors_are_counted(gateway):
    conv, headers = await new_conversation(gateway)
    await say(gateway, conv, headers, "boom")
    text = await (await gateway.get("/metrics")).text()
    assert value(text, 'paylater_gateway_errors_total{kind="rasa_unavailable"}') == 1


async def test_the_token_guards_metrics_when_set(monkeypatch, make_gateway):
    monkeypatch.setenv("PAYLATER_METRICS_TOKEN", "metrics-secret")
    gateway = await make_gateway()
    assert (await gateway.get("/metrics")).status == 403
    assert (await gateway.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 403
    assert (await gateway.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})).status == 200


async def test_a_proxied_request_is_not_local(gateway):
    """Without a token, a proxy on the same host (nginx) must not publish /metrics."""
    r = await gateway.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status == 403
