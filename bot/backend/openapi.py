"""OpenAPI 3 description of the backend API (hand-written; served at /openapi.json)."""
from __future__ import annotations

_MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "example": "31620.00"}
_ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}}}}}
_BUYER = {"name": "buyer_id", "in": "path", "required": True, "schema": {"type": "string", "example": "buyer-001"}}
_ORDER = {"name": "order_id", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": "^(TA|PO)-?\\d{5,6}$", "example": "TA-100231"}}


def _get(summary: str, params, schema: str, errors=(401, 404)) -> dict:
    responses = {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}
    for code in (400,) + tuple(errors) + (503,):
        responses[str(code)] = {"description": {400: "malformed input", 401: "missing or wrong service token",
                                                404: "unknown, or another buyer's", 409: "conflict",
                                                422: "refused by a rule (code, message)",
                                                503: "database unavailable"}[code],
                                "content": {"application/json": {"schema": _ERROR}}}
    return {"summary": summary, "parameters": params, "responses": responses}


def _obj(**props) -> dict:
    return {"type": "object", "properties": props}


OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "Pay Later payments backend", "version": "1.0.0",
             "description": "Orders, Pay Later eligibility, credit applications, credit lines, loan quotes and "
                            "disbursements of a buyer. Money is a string with two decimals, dates are ISO. "
                            "Every /v1 path needs `Authorization: Bearer <PAYLATER_SERVICE_TOKEN>` (demo mode: "
                            "`paylater-demo-service-token`)."},
    "components": {
        "securitySchemes": {"serviceToken": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Money": _MONEY,
            "Error": _ERROR,
            "Buyer": _obj(buyer_id={"type": "string"}, business_name={"type": "string"}, country={"type": "string"}),
            "Order": _obj(order_id={"type": "string"}, trade_assurance={"type": "boolean"}, currency={"type": "string"},
                          total=_MONEY, paid=_MONEY, due=_MONEY,
                          status={"type": "string", "enum": ["awaiting_initial_payment", "awaiting_balance",
                                                             "paid_in_full", "awaiting_payment", "refunded"]},
                          status_text={"type": "string"},
                          payments={"type": "array", "items": _obj(
                              stage={"type": "string", "enum": ["initial", "balance"]}, amount=_MONEY,
                              currency={"type": "string"},
                              state={"type": "string", "enum": ["due", "waiting", "processing", "paid", "refunded", "late"]},
                              method={"type": "string", "nullable": True},
                              paid_on={"type": "string", "format": "date", "nullable": True})},
                          placed_on={"type": "string", "format": "date"}),
            "Orders": _obj(orders={"type": "array", "items": {"$ref": "#/components/schemas/Order"}}),
            "Eligibility": _obj(order_id={"type": "string"}, eligible={"type": "boolean"}, stage={"type": "string", "nullable": True},
                                amount={**_MONEY, "nullable": True}, currency={"type": "string"},
                                available_credit={**_MONEY, "nullable": True},
                                reasons={"type": "array", "items": _obj(code={"type": "string"}, message={"type": "string"})},
                                advice={"type": "string"}),
            "ApplicationRequest": {"type": "object", "required": ["business_name", "us_based", "years_in_business", "annual_revenue", "requested_limit"],
                                   "properties": {"business_name": {"type": "string"}, "us_based": {"type": "boolean"},
                                                  "years_in_business": {"type": "string", "example": "3"},
                                                  "annual_revenue": _MONEY, "requested_limit": _MONEY}},
            "Application": _obj(application_id={"type": "string"}, state={"type": "string", "enum": [
                "started", "waiting_for_account_linking", "under_review", "approved", "declined"]},
                state_text={"type": "string"}, lender={"type": "string"}, requested_limit=_MONEY, offered_limit=_MONEY,
                link_url={"type": "string", "nullable": True}, reasons={"type": "array", "items": {"type": "object"}},
                created={"type": "boolean"}, updated_on={"type": "string", "format": "date"}),
            "ApplicationEnvelope": _obj(application={"$ref": "#/components/schemas/Application"}),
            "CreditLine": _obj(lender={"type": "string"}, currency={"type": "string"}, limit=_MONEY, used=_MONEY,
                               available=_MONEY, risk_tier={"type": "string"}),
            "CreditLineEnvelope": _obj(credit_line={"$ref": "#/components/schemas/CreditLine"}),
            "QuoteRequest": {"type": "object", "required": ["amount"], "properties": {
                "amount": {**_MONEY, "description": "at most two decimals; adapters round half-up to the cent first"},
                "term_months": {"type": "integer", "minimum": 1, "maximum": 6, "default": 6,
                                "description": "outside 1..6: 422 term_out_of_range; not an integer: 400"},
                "currency": {"type": "string", "enum": ["USD"]}}},
            "Quote": _obj(amount=_MONEY, currency={"type": "string"}, term_months={"type": "integer"}, risk_tier={"type": "string"},
                          rows={"type": "array", "items": _obj(month={"type": "integer"}, statement_date={"type": "string", "format": "date"},
                                                               due_date={"type": "string", "format": "date"}, principal=_MONEY,
                                                               fee=_MONEY, fee_credit=_MONEY, payment=_MONEY)},
                          total_fees=_MONEY, fee_credit=_MONEY, total_repayable=_MONEY,
                          available_credit={**_MONEY, "nullable": True}, notes={"type": "array", "items": {"type": "string"}}),
            "Disbursements": _obj(disbursements={"type": "array", "items": {"type": "object"}}),
            "Summary": _obj(buyer={"$ref": "#/components/schemas/Buyer"}, application={"type": "object", "nullable": True},
                            credit_line={"type": "object", "nullable": True}, orders={"type": "array", "items": {"type": "object"}}),
            "ApplicantCheck": _obj(
                buyer_id={"type": "string"},
                can_apply={"type": "boolean", "description": "false when the business on file fails a rule, "
                                                             "or an application or credit line exists"},
                reasons={"type": "array", "description": "every rule the business on file fails (e.g. not_us_business)",
                         "items": _obj(code={"type": "string"}, message={"type": "string"})},
                application={"allOf": [{"$ref": "#/components/schemas/Application"}], "nullable": True},
                credit_line={"allOf": [{"$ref": "#/components/schemas/CreditLine"}], "nullable": True}),
            "RefundRequest": {"type": "object", "required": ["amount"], "properties": {
                "amount": _MONEY,
                "refunded_at": {"type": "string", "format": "date-time",
                                "description": "when the refund was booked (default: now); UTC when no offset"},
                "refund_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                              "description": "the marketplace's refund id: booking it again answers 200 with the "
                                             "first booking and changes nothing; another order or amount: 422 "
                                             "refund_id_reused"}}},
            "Refund": _obj(
                order_id={"type": "string"}, currency={"type": "string"},
                pay_later={"type": "boolean", "description": "the order has at least one Pay Later draw"},
                refunded={"type": "boolean"}, refunded_amount=_MONEY,
                refunded_on={"type": "string", "format": "date", "nullable": True},
                loan_amount={**_MONEY, "description": "original Pay Later draw(s) on the order"},
                loan_outstanding={**_MONEY, "description": "principal still owed, after any refund"},
                fees_billed={**_MONEY, "description": "fees billed so far: a month's fee is billed at 00:00 UTC "
                                                      "of its statement date, net of the first-month credit"},
                fees_reversed={**_MONEY, "description": "billed fees reversed by a refund booked within 48 h "
                                                        "of the draw (at most draw time + 48 h)"},
                reversal_window_ends={"type": "string", "format": "date-time", "nullable": True}),
            "Health": _obj(status={"type": "string"}, database={"type": "string"}),
        },
    },
    "security": [{"serviceToken": []}],
    "paths": {
        "/health": {"get": {"summary": "Liveness and database check (SELECT 1); no token", "security": [],
                            "responses": {"200": {"description": "up"}, "503": {"description": "database down"}}}},
        "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}},
        "/v1/buyers/{buyer_id}": {"get": _get("The buyer and business", [_BUYER], "Buyer")},
        "/v1/buyers/{buyer_id}/orders": {"get": _get("The buyer's orders", [_BUYER], "Orders", (401,))},
        "/v1/buyers/{buyer_id}/orders/{order_id}": {"get": _get("One order of the buyer", [_BUYER, _ORDER], "Order")},
        "/v1/buyers/{buyer_id}/orders/{order_id}/pay-later-eligibility": {
            "get": _get("Can Pay Later pay it now, with every reason", [_BUYER, _ORDER], "Eligibility")},
        "/v1/buyers/{buyer_id}/orders/{order_id}/disbursement": {
            "get": _get("Where the Pay Later money is", [_BUYER, _ORDER], "Disbursements")},
        "/v1/buyers/{buyer_id}/applications": {"post": {
            **_get("Start a Pay Later application (idempotent: 201 created, 200 existing)", [_BUYER], "Application", (401, 404, 422)),
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApplicationRequest"}}}}}},
        "/v1/buyers/{buyer_id}/application": {"get": _get("The buyer's application (or null)", [_BUYER], "ApplicationEnvelope", (401,))},
        "/v1/buyers/{buyer_id}/credit-line": {"get": _get("Limit, used, available (or null)", [_BUYER], "CreditLineEnvelope", (401,))},
        "/v1/buyers/{buyer_id}/quotes": {"post": {
            **_get("Month-by-month cost of a draw", [_BUYER], "Quote", (401, 422)),
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QuoteRequest"}}}}}},
        "/v1/buyers/{buyer_id}/applicant-check": {"get": _get(
            "Can the buyer apply, judged from the business on file (every failing rule) and any existing "
            "application or credit line", [_BUYER], "ApplicantCheck")},
        "/v1/buyers/{buyer_id}/orders/{order_id}/refund": {"get": _get(
            "What refunds did to the order's Pay Later loan and fees (PRODUCT.md rule 9)", [_BUYER, _ORDER], "Refund")},
        "/v1/buyers/{buyer_id}/orders/{order_id}/refunds": {"post": {
            **_get("Book a refund on a Pay Later order (marketplace, service token): goes back against the loan, "
                   "reverses fees billed if within 48 h of the draw; 201 with the Refund. 422 not_pay_later, "
                   "refund_exceeds_paid, invalid_amount", [_BUYER, _ORDER], "Refund", (401, 404, 422)),
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/RefundRequest"}}}}}},
        "/v1/buyers/{buyer_id}/summary": {"get": _get("What an agent sees on handoff", [_BUYER], "Summary")},
    },
}

# booking a refund answers 201 Created
_refunds = OPENAPI["paths"]["/v1/buyers/{buyer_id}/orders/{order_id}/refunds"]["post"]["responses"]
_refunds["201"] = {**_refunds["200"], "description": "Created"}
_refunds["200"] = {**_refunds["200"], "description": "This refund_id was booked before: nothing changed"}

# ------------------------------------------------------------------ lender and marketplace
_KEY = {"name": "Idempotency-Key", "in": "header", "required": True,
        "description": "8-128 of [A-Za-z0-9_.:-]. Same key and body: the first answer again (header "
                       "Idempotency-Replayed: true), nothing changes; same key, other body: 409.",
        "schema": {"type": "string", "example": "lender-7c1e-0001"}}
_AGREEMENT = {"name": "agreement_id", "in": "path", "required": True,
              "schema": {"type": "string", "example": "AGR-TA-100245"}}
_DATE = {"type": "string", "format": "date", "example": "2025-03-12"}
_DISB_RESULT = _obj(agreement_id={"type": "string"}, buyer_id={"type": "string"}, event_id={"type": "string"},
                    disbursement={"type": "object", "description": "a DisbursementView (see GET .../disbursement)"})
OPENAPI["components"]["securitySchemes"].update({
    "lenderToken": {"type": "http", "scheme": "bearer", "description": "PAYLATER_LENDER_TOKEN"},
    "marketplaceToken": {"type": "http", "scheme": "bearer", "description": "PAYLATER_MARKETPLACE_TOKEN"}})
OPENAPI["components"]["schemas"].update({
    "DisbursementResult": _DISB_RESULT,
    "DecisionRequest": {"oneOf": [
        _obj(decision={"enum": ["approve"]}, limit=_MONEY, risk_tier={"type": "string", "example": "B"}),
        _obj(decision={"enum": ["decline"]}, reasons={"type": "array", "items": _obj(
            code={"type": "string"}, message={"type": "string"})})]},
    "DecisionResult": _obj(event_id={"type": "string"}, application={"$ref": "#/components/schemas/Application"}),
    "StatementRequest": _obj(statement_date=_DATE, due_date=_DATE, amount_due=_MONEY),
    "StatementResult": _obj(event_id={"type": "string"}, agreement_id={"type": "string"}, order_id={"type": "string"},
                            statement_date=_DATE, due_date=_DATE, amount_due=_MONEY),
    "RefundResult": _obj(event_id={"type": "string", "nullable": True}, refund={"$ref": "#/components/schemas/Refund"}),
})


def _partner(tag: str, summary: str, params, body_schema: dict, result: str, status: str = "200") -> dict:
    op = _get(summary, list(params) + [_KEY], result, (401, 404, 409, 422))
    op["responses"]["401"]["description"] = f"missing or wrong {tag} token"
    op["responses"]["409"]["description"] = "Idempotency-Key reused with another body"
    if status != "200":
        op["responses"][status] = {**op["responses"]["200"], "description": "Created"}
        op["responses"]["200"] = {**op["responses"]["200"], "description": "already booked before (nothing changed)"}
    op.update(tags=[tag], security=[{f"{tag}Token": []}],
              requestBody={"required": False, "content": {"application/json": {"schema": body_schema}}})
    return {"post": op}


_A = "/v1/lender/agreements/{agreement_id}"
OPENAPI["paths"].update({
    _A + "/complete": _partner("lender", "The loan agreement is completed (money can move); event agreement_completed",
                               [_AGREEMENT], _obj(completed_on=_DATE), "DisbursementResult"),
    _A + "/disbursement/sent": _partner("lender", "The lender sent the money; event disbursement_sent",
                                        [_AGREEMENT], _obj(sent_on=_DATE), "DisbursementResult"),
    _A + "/disbursement/arrived": _partner("lender", "The money reached the supplier; event disbursement_arrived",
                                           [_AGREEMENT], _obj(arrived_on=_DATE), "DisbursementResult"),
    _A + "/statements": _partner("lender", "A monthly statement was issued; event statement_issued",
                                 [_AGREEMENT], {"$ref": "#/components/schemas/StatementRequest"}, "StatementResult", "201"),
    "/v1/lender/buyers/{buyer_id}/application/decision": _partner(
        "lender", "Approve (limit up to $150,000 and risk tier: the buyer gets a credit line) or decline (reasons); "
                  "event application_approved / application_declined",
        [_BUYER], {"$ref": "#/components/schemas/DecisionRequest"}, "DecisionResult"),
    "/v1/marketplace/buyers/{buyer_id}/orders/{order_id}/refunds": _partner(
        "marketplace", "Book a refund (PRODUCT.md rule 9, as the service-token route); event refund_booked",
        [_BUYER, _ORDER], {"$ref": "#/components/schemas/RefundRequest"}, "RefundResult", "201"),
})
OPENAPI["tags"] = [{"name": "lender", "description": "The lender's calls (PAYLATER_LENDER_TOKEN)"},
                   {"name": "marketplace", "description": "The marketplace's calls (PAYLATER_MARKETPLACE_TOKEN)"}]
