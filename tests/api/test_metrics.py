"""The backend's `GET /metrics`: requests by route and status, a latency histogram per route."""
from __future__ import annotations

import re

from .conftest import AUTH


async def test_backend_metrics_count_requests_per_route(client):
    await client.get("/v1/buyers/buyer-001/orders", headers=AUTH)
    await client.get("/v1/buyers/buyer-001/orders", headers={"Authorization": "Bearer nope"})
    r = await client.get("/metrics")
    assert r.status == 200
    text = await r.text()
    assert re.search(r'^paylater_backend_requests_total\{route="/v1/buyers/\{buyer_id\}/orders",status="200"\} 1\.0$',
                     text, re.M), text[:2000]
    assert re.search(r'^paylater_backend_requests_total\{route="/v1/buyers/\{buyer_id\}/orders",status="401"\} 1\.0$',
                     text, re.M)
    assert 'paylater_backend_request_seconds_bucket{le="0.05",route="/v1/buyers/{buyer_id}/orders"}' in text
    assert "paylater_backend_errors_total 0.0" in text
