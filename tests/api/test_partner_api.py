"""The lender's and the marketplace's API over real HTTP (SQLite and PostgreSQL): own tokens,
Idempotency-Key, clear 4xx, and one outbox event per change, written with the change."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.adapters import orm
from bot.adapters.db import make_engine
from bot.backend.app import create_app
from bot.config import Settings

from .conftest import AUTH, TOKEN, TODAY

LENDER = {"Authorization": "Bearer test-lender-token"}
MARKET = {"Authorization": "Bearer test-marketplace-token"}
AGR = "AGR-TA-100245"


def _key(k: str, who=LENDER) -> dict:
    return {**who, "Idempotency-Key": k}


@pytest.fixture
def partner_settings(settings):
    # the lender has not completed TA-100245's agreement yet
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(orm.draws.update().where(orm.draws.c.agreement_id == AGR).values(agreement_completed_on=None))
        conn.execute(orm.idempotency_keys.delete())
        conn.execute(orm.outbox.delete())
    engine.dispose()
    return Settings(database_url=settings.database_url, backend_service_token=TOKEN,
                    lender_token="test-lender-token", marketplace_token="test-marketplace-token")


@pytest.fixture
async def api(aiohttp_client, partner_settings):
    return await aiohttp_client(create_app(partner_settings, today=lambda: TODAY))


def outbox(settings):
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(orm.outbox).order_by(orm.outbox.c.seq)).mappings()]
    engine.dispose()
    return rows


LENDER_ROUTES = [
    f"/v1/lender/agreements/{AGR}/complete", f"/v1/lender/agreements/{AGR}/disbursement/sent",
    f"/v1/lender/agreements/{AGR}/disbursement/arrived", f"/v1/lender/agreements/{AGR}/statements",
    "/v1/lender/buyers/buyer-004/application/decision",
]


@pytest.mark.parametrize("path", LENDER_ROUTES)
@pytest.mark.parametrize("headers", [{}, AUTH, MARKET, {"Authorization": "Bearer wrong"}])
async def test_lender_routes_need_the_lender_token(api, partner_settings, path, headers):
    r = await api.post(path, json={}, headers={**headers, "Idempotency-Key": "k-12345678"})
    assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"
    assert outbox(partner_settings) == []


def test_the_401_test_covers_every_lender_route(partner_settings):
    """A lender route added later must join LENDER_ROUTES (and so the 401 test above)."""
    app = create_app(partner_settings, today=lambda: TODAY)
    served = {(r.method, r.resource.canonical) for r in app.router.routes()
              if r.resource is not None and r.resource.canonical.startswith("/v1/lender/")}
    tested = {("POST", p.replace(AGR, "{agreement_id}").replace("buyer-004", "{buyer_id}")) for p in LENDER_ROUTES}
    assert served == tested


async def test_marketplace_route_needs_its_token_and_partners_cannot_read_buyers(api):
    path = "/v1/marketplace/buyers/buyer-001/orders/TA-100245/refunds"
    for h in ({}, AUTH, LENDER):
        assert (await api.post(path, json={"amount": "1.00"}, headers={**h, "Idempotency-Key": "k-12345678"})).status == 401
    assert (await api.get("/v1/buyers/buyer-001/orders", headers=LENDER)).status == 401


async def test_without_configured_partner_tokens_nobody_gets_in(aiohttp_client, settings):
    c = await aiohttp_client(create_app(settings, today=lambda: TODAY))
    r = await c.post(LENDER_ROUTES[0], json={}, headers={**AUTH, "Idempotency-Key": "k-12345678"})
    assert r.status == 401


async def test_complete_send_arrive_with_one_event_each(api, partner_settings):
    r = await api.post(LENDER_ROUTES[0], json={"completed_on": "2025-03-12"}, headers=_key("complete-1"))
    assert r.status == 200, await r.text()
    body = await r.json()
    assert body["disbursement"]["state"] == "processing" and body["disbursement"]["expected_by"] == "2025-03-17"
    r = await api.post(LENDER_ROUTES[1], json={}, headers=_key("sent-0001"))
    assert r.status == 200
    r = await api.post(LENDER_ROUTES[2], json={"arrived_on": "2025-03-12"}, headers=_key("arrived-1"))
    assert r.status == 200 and (await r.json())["disbursement"]["state"] == "arrived"
    events = outbox(partner_settings)
    assert [e["type"] for e in events] == ["agreement_completed", "disbursement_sent", "disbursement_arrived"]
    arrived = events[2]["payload"]
    assert arrived["buyer_id"] == "buyer-001" and arrived["order_id"] == "TA-100245"
    assert arrived["amount"] == "8680.00" and arrived["currency"] == "USD" and arrived["on"] == "2025-03-12"
    assert arrived["event_id"] == events[2]["event_id"]
    # the buyer's side sees it
    r = await api.get("/v1/buyers/buyer-001/orders/TA-100245/disbursement", headers=AUTH)
    assert (await r.json())["disbursements"][0]["state"] == "arrived"


async def test_same_key_same_body_replays_and_changes_nothing(api, partner_settings):
    first = await api.post(LENDER_ROUTES[0], json={"completed_on": "2025-03-12"}, headers=_key("complete-1"))
    again = await api.post(LENDER_ROUTES[0], json={"completed_on": "2025-03-12"}, headers=_key("complete-1"))
    assert again.status == first.status == 200
    assert await again.json() == await first.json()
    assert again.headers["Idempotency-Replayed"] == "true"
    assert len(outbox(partner_settings)) == 1


async def test_same_key_other_body_is_409(api, partner_settings):
    await api.post(LENDER_ROUTES[0], json={"completed_on": "2025-03-12"}, headers=_key("complete-1"))
    r = await api.post(LENDER_ROUTES[0], json={"completed_on": "2025-03-11"}, headers=_key("complete-1"))
    assert r.status == 409 and (await r.json())["error"]["code"] == "idempotency_key_reused"
    assert len(outbox(partner_settings)) == 1


async def test_a_new_key_for_a_done_step_is_refused_not_repeated(api, partner_settings):
    await api.post(LENDER_ROUTES[0], json={}, headers=_key("complete-1"))
    r = await api.post(LENDER_ROUTES[0], json={}, headers=_key("complete-2"))
    assert r.status == 422 and (await r.json())["error"]["code"] == "agreement_already_completed"
    assert len(outbox(partner_settings)) == 1


@pytest.mark.parametrize("path,body,headers,code", [
    (LENDER_ROUTES[0], {}, LENDER, "idempotency_key_required"),
    (LENDER_ROUTES[0], {}, {**LENDER, "Idempotency-Key": "short"}, "invalid_idempotency_key"),
    (LENDER_ROUTES[0], {"completed_on": "yesterday"}, _key("bad-date-1"), "invalid_completed_on"),
    (LENDER_ROUTES[3], {"statement_date": "2025-03-21"}, _key("stmt-0001"), "invalid_due_date"),
    (LENDER_ROUTES[4], {"decision": "maybe"}, _key("decide-01"), "invalid_decision"),
    (LENDER_ROUTES[4], {"decision": "approve", "limit": -5, "risk_tier": "B"}, _key("decide-01"), "invalid_limit"),
    (LENDER_ROUTES[4], {"decision": "decline", "reasons": []}, _key("decide-01"), "invalid_reasons"),
    ("/v1/lender/agreements/bad id!/complete", {}, _key("complete-9"), "invalid_agreement_id"),
])
async def test_malformed_requests_are_400_and_write_nothing(api, partner_settings, path, body, headers, code):
    r = await api.post(path, json=body, headers=headers)
    assert r.status == 400 and (await r.json())["error"]["code"] == code
    assert outbox(partner_settings) == []


async def test_unknown_agreement_is_404_and_arrival_before_completion_422(api, partner_settings):
    r = await api.post("/v1/lender/agreements/AGR-NOPE/complete", json={}, headers=_key("complete-1"))
    assert r.status == 404 and (await r.json())["error"]["code"] == "agreement_not_found"
    r = await api.post(LENDER_ROUTES[2], json={}, headers=_key("arrived-1"))
    assert r.status == 422 and (await r.json())["error"]["code"] == "agreement_not_completed"
    assert outbox(partner_settings) == []


async def test_approve_gives_a_line_and_decline_keeps_reasons(api, partner_settings):
    path = "/v1/lender/buyers/buyer-004/application/decision"
    r = await api.post(path, json={"decision": "approve", "limit": "40000.00", "risk_tier": "B"},
                       headers=_key("decide-04"))
    assert r.status == 200, await r.text()
    assert (await r.json())["application"]["state"] == "approved"
    line = await (await api.get("/v1/buyers/buyer-004/credit-line", headers=AUTH)).json()
    assert line["credit_line"]["limit"] == "40000.00" and line["credit_line"]["risk_tier"] == "B"
    r = await api.post(path, json={"decision": "decline", "reasons": [{"code": "x", "message": "No."}]},
                       headers=_key("decide-05"))
    assert r.status == 422 and (await r.json())["error"]["code"] == "application_already_decided"
    r = await api.post(path.replace("buyer-004", "buyer-002"), json={"decision": "approve", "limit": "1.00",
                                                                      "risk_tier": "B"}, headers=_key("decide-06"))
    assert r.status == 404
    assert [e["type"] for e in outbox(partner_settings)] == ["application_approved"]


async def test_approve_above_cap_and_unknown_tier_refused(api):
    path = "/v1/lender/buyers/buyer-004/application/decision"
    r = await api.post(path, json={"decision": "approve", "limit": "150000.01", "risk_tier": "B"}, headers=_key("d-cap-01"))
    assert r.status == 422 and (await r.json())["error"]["code"] == "limit_above_cap"
    r = await api.post(path, json={"decision": "approve", "limit": "100.00", "risk_tier": "Z"}, headers=_key("d-tier-01"))
    assert r.status == 422 and (await r.json())["error"]["code"] == "unknown_risk_tier"


async def test_decline_with_reasons(api, partner_settings):
    path = "/v1/lender/buyers/buyer-004/application/decision"
    reasons = [{"code": "bank_data", "message": "The linked bank account shows too little revenue."}]
    r = await api.post(path, json={"decision": "decline", "reasons": reasons}, headers=_key("decide-04"))
    assert r.status == 200
    app = (await (await api.get("/v1/buyers/buyer-004/application", headers=AUTH)).json())["application"]
    assert app["state"] == "declined" and app["reasons"] == reasons
    assert outbox(partner_settings)[0]["payload"]["reasons"] == reasons


async def test_marketplace_books_a_refund_once_with_its_event(api, partner_settings):
    path = "/v1/marketplace/buyers/buyer-001/orders/TA-100245/refunds"
    body = {"amount": "1000.00", "refund_id": "MKT-1"}
    r = await api.post(path, json=body, headers=_key("refund-01", MARKET))
    assert r.status == 201, await r.text()
    assert (await r.json())["refund"]["refunded_amount"] == "1000.00"
    again = await api.post(path, json=body, headers=_key("refund-01", MARKET))
    assert again.status == 201 and again.headers["Idempotency-Replayed"] == "true"
    r = await api.post(path, json={"amount": "99999.00"}, headers=_key("refund-02", MARKET))
    assert r.status == 422 and (await r.json())["error"]["code"] == "refund_exceeds_paid"
    events = outbox(partner_settings)
    assert [e["type"] for e in events] == ["refund_booked"] and events[0]["payload"]["amount"] == "1000.00"
    refund = await (await api.get("/v1/buyers/buyer-001/orders/TA-100245/refund", headers=AUTH)).json()
    assert refund["refunded_amount"] == "1000.00"


async def test_statement_is_an_event(api, partner_settings):
    await api.post(LENDER_ROUTES[0], json={"completed_on": "2025-03-12"}, headers=_key("complete-1"))
    r = await api.post(LENDER_ROUTES[3], json={"statement_date": "2025-03-21", "due_date": "2025-04-15",
                                              "amount_due": "2300.50"}, headers=_key("stmt-0001"))
    assert r.status == 201
    assert outbox(partner_settings)[-1]["payload"]["amount_due"] == "2300.50"


async def test_openapi_has_lender_and_marketplace_tags(api):
    doc = await (await api.get("/openapi.json")).json()
    tags = {t for p in doc["paths"].values() for op in p.values() for t in op.get("tags", [])}
    assert {"lender", "marketplace"} <= tags
    for path in LENDER_ROUTES:
        assert path.replace(AGR, "{agreement_id}").replace("buyer-004", "{buyer_id}") in doc["paths"]
