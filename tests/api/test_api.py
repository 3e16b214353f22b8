import pytest

from bot.backend.app import create_app
from bot.backend.security import DEMO_SERVICE_TOKEN
from bot.config import Settings

from .conftest import AUTH, TODAY


async def test_health_without_token(client):
    r = await client.get("/health")
    assert r.status == 200 and (await r.json())["status"] == "ok"


async def test_health_503_when_database_down(aiohttp_client, tmp_path):
    bad = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", backend_service_token="t")
    c = await aiohttp_client(create_app(bad))
    r = await c.get("/health")
    assert r.status == 503 and (await r.json())["status"] == "unavailable"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-service-token"}])
async def test_missing_or_wrong_token_is_401(client, headers):
    r = await client.get("/v1/buyers/buyer-001/orders", headers=headers)
    assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"


def test_refuses_to_start_without_token_unless_demo():
    with pytest.raises(RuntimeError):
        create_app(Settings())
    create_app(Settings(demo_mode=True))


async def test_demo_mode_uses_documented_token(aiohttp_client, settings):
    demo = Settings(database_url=settings.database_url, demo_mode=True)
    c = await aiohttp_client(create_app(demo, today=lambda: TODAY))
    r = await c.get("/v1/buyers/buyer-001/credit-line", headers={"Authorization": f"Bearer {DEMO_SERVICE_TOKEN}"})
    assert r.status == 200


async def test_openapi_document(client):
    r = await client.get("/openapi.json")
    doc = await r.json()
    assert doc["openapi"].startswith("3.") and "/v1/buyers/{buyer_id}/quotes" in doc["paths"]


async def test_orders_and_money_as_strings(client):
    r = await client.get("/v1/buyers/buyer-001/orders", headers=AUTH)
    orders = (await r.json())["orders"]
    assert {o["order_id"] for o in orders} >= {"TA-100231", "PO-55012"}
    o = next(o for o in orders if o["order_id"] == "TA-100231")
    assert o["due"] == "17360.00" and o["placed_on"] == "2025-02-10"


async def test_order_id_normalised_and_other_buyer_404(client):
    r = await client.get("/v1/buyers/buyer-001/orders/ta100231", headers=AUTH)
    assert r.status == 200 and (await r.json())["order_id"] == "TA-100231"
    other = await client.get("/v1/buyers/buyer-002/orders/TA-100231", headers=AUTH)
    unknown = await client.get("/v1/buyers/buyer-002/orders/TA-999999", headers=AUTH)
    assert other.status == unknown.status == 404
    assert await other.json() == await unknown.json()


@pytest.mark.parametrize("path", ["/v1/buyers/buyer-001/orders/DROP%20TABLE", "/v1/buyers/buyer-001/orders/TA-1",
                                  "/v1/buyers/bad%20id!/orders"])
async def test_malformed_ids_400(client, path):
    r = await client.get(path, headers=AUTH)
    assert r.status == 400 and (await r.json())["error"]["message"]


async def test_unknown_route_404_json(client):
    r = await client.get("/v1/nothing", headers=AUTH)
    assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"


async def test_eligibility_with_reasons(client):
    r = await client.get("/v1/buyers/buyer-001/orders/TA-100260/pay-later-eligibility", headers=AUTH)
    body = await r.json()
    assert body["eligible"] is False and [x["code"] for x in body["reasons"]] == ["currency_not_usd"]


@pytest.mark.parametrize("amount", ["abc", "-5", "1e400", "10.001", "", None, True, [1]])
async def test_bad_amounts_are_400(client, amount):
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": amount}, headers=AUTH)
    assert r.status == 400, amount
    assert (await r.json())["error"]["code"] == "invalid_amount"


async def test_json_number_exponent_is_400(client):
    r = await client.post("/v1/buyers/buyer-001/quotes", data='{"amount": 1e400}', headers=AUTH)
    assert r.status == 400


async def test_bad_currency_and_body(client):
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "100", "currency": "EUR"}, headers=AUTH)
    assert r.status == 400 and (await r.json())["error"]["code"] == "currency_not_usd"
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "100", "currency": "US$"}, headers=AUTH)
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_currency"
    r = await client.post("/v1/buyers/buyer-001/quotes", data="{not json", headers=AUTH)
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_json"
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "100", "term_months": "6"}, headers=AUTH)
    assert r.status == 400


async def test_quote_ok_and_rule_refusals_are_422(client):
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "20000.00"}, headers=AUTH)
    q = await r.json()
    assert r.status == 200 and q["total_fees"] == "1200.00" and len(q["rows"]) == 6
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "150000.01"}, headers=AUTH)
    assert r.status == 422 and (await r.json())["error"]["code"] == "amount_above_cap"
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "0"}, headers=AUTH)
    assert r.status == 422
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "100", "term_months": 7}, headers=AUTH)
    assert r.status == 422 and (await r.json())["error"]["code"] == "term_out_of_range"


async def test_application_created_then_existing(client):
    body = {"business_name": "Blue Harbor Imports Inc", "us_based": True, "years_in_business": "3",
            "annual_revenue": "800000", "requested_limit": "150000.00"}
    r1 = await client.post("/v1/buyers/buyer-002/applications", json=body, headers=AUTH)
    r2 = await client.post("/v1/buyers/buyer-002/applications", json=body, headers=AUTH)
    a1, a2 = await r1.json(), await r2.json()
    assert (r1.status, r2.status) == (201, 200) and a1["application_id"] == a2["application_id"]
    assert a1["offered_limit"] == "150000.00" and a1["reasons"] == []
    r = await client.get("/v1/buyers/buyer-002/application", headers=AUTH)
    assert (await r.json())["application"]["state"] == "waiting_for_account_linking"


async def test_application_validation(client):
    r = await client.post("/v1/buyers/buyer-002/applications", json={"business_name": "X", "us_based": "yes"}, headers=AUTH)
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_us_based"


async def test_no_application_and_no_line_are_null(client):
    assert (await (await client.get("/v1/buyers/buyer-002/application", headers=AUTH)).json()) == {"application": None}
    assert (await (await client.get("/v1/buyers/buyer-002/credit-line", headers=AUTH)).json()) == {"credit_line": None}


async def test_disbursement_and_summary(client):
    r = await client.get("/v1/buyers/buyer-001/orders/TA-100212/disbursement", headers=AUTH)
    (d,) = (await r.json())["disbursements"]
    assert d["state"] == "late" and d["needs_human"] is True
    r = await client.get("/v1/buyers/buyer-001/summary", headers=AUTH)
    s = await r.json()
    assert s["credit_line"]["available"] == "31620.00" and s["buyer"]["country"] == "US"
    r = await client.get("/v1/buyers/nobody/summary", headers=AUTH)
    assert r.status == 404


@pytest.mark.parametrize("term, status, code", [(0, 422, "term_out_of_range"), (7, 422, "term_out_of_range"),
                                                (1.5, 400, "invalid_term_months"), (True, 400, "invalid_term_months")])
async def test_quote_term_errors_have_the_error_shape(client, term, status, code):
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "100.00", "term_months": term}, headers=AUTH)
    body = await r.json()
    assert r.status == status and body["error"]["code"] == code and body["error"]["message"]


async def test_applicant_check_route(client):
    r = await client.get("/v1/buyers/buyer-003/applicant-check", headers=AUTH)
    body = await r.json()
    assert r.status == 200 and body["can_apply"] is False and [x["code"] for x in body["reasons"]] == ["not_us_business"]
    r = await client.get("/v1/buyers/buyer-003/applicant-check")
    assert r.status == 401


async def test_refund_routes(client):
    url = "/v1/buyers/buyer-001/orders/TA-100198"
    before = await (await client.get(url + "/refund", headers=AUTH)).json()
    assert before["refunded"] is False and before["loan_outstanding"] == "6000.00"
    r = await client.post(url + "/refunds", json={"amount": "1000.00", "refunded_at": "2025-03-12T09:00:00Z"},
                          headers=AUTH)
    after = await r.json()
    assert r.status == 201 and after["refunded_amount"] == "1000.00" and after["loan_outstanding"] == "5000.00"
    assert after["refunded_on"] == "2025-03-12" and after["fees_reversed"] == "0.00"  # 10 working days after the draw
    assert (await (await client.get(url + "/refund", headers=AUTH)).json())["refunded_amount"] == "1000.00"
    r = await client.post(url + "/refunds", json={"amount": "5000.01"}, headers=AUTH)
    assert r.status == 422 and (await r.json())["error"]["code"] == "refund_exceeds_paid"
    r = await client.post(url + "/refunds", json={"amount": "10", "refunded_at": "yesterday"}, headers=AUTH)
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_refunded_at"
    r = await client.post("/v1/buyers/buyer-001/orders/TA-100231/refunds", json={"amount": "10"}, headers=AUTH)
    assert r.status == 422 and (await r.json())["error"]["code"] == "not_pay_later"
    r = await client.post(url + "/refunds", json={"amount": "10"})
    assert r.status == 401


async def test_openapi_documents_the_new_routes(client):
    doc = await (await client.get("/openapi.json")).json()
    for path in ("/v1/buyers/{buyer_id}/applicant-check", "/v1/buyers/{buyer_id}/orders/{order_id}/refund",
                 "/v1/buyers/{buyer_id}/orders/{order_id}/refunds"):
        assert path in doc["paths"]
    assert {"ApplicantCheck", "Refund", "RefundRequest"} <= set(doc["components"]["schemas"])


async def test_refund_retry_with_the_same_id_answers_200_and_changes_nothing(client):
    url = "/v1/buyers/buyer-001/orders/TA-100198/refunds"
    body = {"amount": "500.00", "refund_id": "MKT-REFUND-77", "refunded_at": "2025-03-12T08:00:00+00:00"}
    r1 = await client.post(url, json=body, headers=AUTH)
    r2 = await client.post(url, json=body, headers=AUTH)
    assert (r1.status, r2.status) == (201, 200) and await r1.json() == await r2.json()
    assert (await r2.json())["loan_outstanding"] == "5500.00"
    r = await client.post(url, json={**body, "refund_id": "bad id!"}, headers=AUTH)
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_refund_id"
