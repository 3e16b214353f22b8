"""The lender's and the marketplace's routes (`/v1/lender/...`, `/v1/marketplace/...`), each
behind its own bearer token (auth_middleware), every POST idempotent by `Idempotency-Key`."""
from __future__ import annotations

import datetime as dt
import re

from aiohttp import web

from bot.service_layer import lender as ops
from bot.service_layer.services import ServiceConfig

from . import validation as v
from .keys import BACKEND

partner_routes = web.RouteTableDef()
LENDER = "/v1/lender"
MARKETPLACE = "/v1/marketplace"
AGREEMENT = LENDER + "/agreements/{agreement_id}"
KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
AGREEMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
TIER = re.compile(r"^[A-Z]$")


def principal_of(path: str):
    if path.startswith(LENDER + "/"):
        return "lender"
    if path.startswith(MARKETPLACE + "/"):
        return "marketplace"
    return None


def _key(request: web.Request) -> str:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise v.InvalidInput("idempotency_key_required", "Send an Idempotency-Key header (8-128 letters, digits, "
                                                         "'_', '.', ':', '-') with every lender and marketplace call.")
    if not KEY.match(key):
        raise v.InvalidInput("invalid_idempotency_key", "The Idempotency-Key must be 8-128 letters, digits, '_', "
                                                        "'.', ':' or '-'.")
    return key


def _date(body: dict, field: str, required: bool = False):
    value = body.get(field)
    if value is None:
        if required:
            raise v.InvalidInput(f"invalid_{field}", f"{field} is required: an ISO date such as 2025-03-12.")
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise v.InvalidInput(f"invalid_{field}", f"{field} must be an ISO date such as 2025-03-12.") from None


def _agreement(request: web.Request) -> str:
    aid = request.match_info["agreement_id"]
    if not AGREEMENT_ID.match(aid):
        raise v.InvalidInput("invalid_agreement_id", "The agreement id is malformed.")
    return aid


async def _run(request: web.Request, body: dict, operation) -> web.Response:
    principal = principal_of(request.path)
    key = _key(request)
    status, data, replayed = await request.app[BACKEND].run_idempotent(
        principal, key, ops.request_hash(request.method, request.path, body), operation)
    return web.json_response(data, status=status, headers={"Idempotency-Replayed": "true" if replayed else "false"})


async def _body(request: web.Request) -> dict:
    return v.parse_body(await request.text() or "{}")


def _cfg(request: web.Request) -> ServiceConfig:
    return request.app[BACKEND].config


@partner_routes.post(AGREEMENT + "/complete")
async def complete_agreement(request: web.Request) -> web.Response:
    """{"completed_on": "2025-03-12"} (optional: today)."""
    aid, body = _agreement(request), await _body(request)
    return await _run(request, body, ops.complete_agreement(aid, _date(body, "completed_on")))


@partner_routes.post(AGREEMENT + "/disbursement/sent")
async def disbursement_sent(request: web.Request) -> web.Response:
    aid, body = _agreement(request), await _body(request)
    return await _run(request, body, ops.mark_sent(aid, _date(body, "sent_on")))


@partner_routes.post(AGREEMENT + "/disbursement/arrived")
async def disbursement_arrived(request: web.Request) -> web.Response:
    aid, body = _agreement(request), await _body(request)
    return await _run(request, body, ops.mark_arrived(aid, _date(body, "arrived_on")))


@partner_routes.post(AGREEMENT + "/statements")
async def statement(request: web.Request) -> web.Response:
    """{"statement_date", "due_date", "amount_due"}."""
    aid, body = _agreement(request), await _body(request)
    op = ops.record_statement(aid, _date(body, "statement_date", True), _date(body, "due_date", True),
                              v.amount(body.get("amount_due"), "amount_due"))
    return await _run(request, body, op)


@partner_routes.post(LENDER + "/buyers/{buyer_id}/application/decision")
async def decide(request: web.Request) -> web.Response:
    """{"decision": "approve", "limit": "50000.00", "risk_tier": "B"} or
    {"decision": "decline", "reasons": [{"code": "...", "message": "..."}]}."""
    buyer, body = v.buyer_id(request.match_info["buyer_id"]), await _body(request)
    decision = body.get("decision")
    limit = tier = None
    reasons = []
    if decision == "approve":
        limit = v.amount(body.get("limit"), "limit")
        if limit <= 0:
            raise v.InvalidInput("invalid_limit", "limit must be more than 0.")
        tier = body.get("risk_tier")
        if not isinstance(tier, str) or not TIER.match(tier):
            raise v.InvalidInput("invalid_risk_tier", "risk_tier must be a tier letter such as \"B\".")
    elif decision == "decline":
        raw = body.get("reasons")
        if not isinstance(raw, list) or not raw or len(raw) > 10:
            raise v.InvalidInput("invalid_reasons", "A decline needs 1-10 reasons: [{\"code\", \"message\"}].")
        for r in raw:
            if (not isinstance(r, dict) or not isinstance(r.get("code"), str) or not re.fullmatch(r"[a-z_]{1,40}", r["code"])
                    or not isinstance(r.get("message"), str) or not r["message"].strip() or len(r["message"]) > 300):
                raise v.InvalidInput("invalid_reasons", "Each reason needs a code (lower_case, <= 40) and a "
                                                        "message (<= 300 characters).")
            reasons.append((r["code"], r["message"].strip()))
    else:
        raise v.InvalidInput("invalid_decision", "decision must be \"approve\" or \"decline\".")
    return await _run(request, body, ops.decide_application(buyer, decision, limit, tier, reasons, _cfg(request)))


@partner_routes.post(MARKETPLACE + "/buyers/{buyer_id}/orders/{order_id}/refunds")
async def refund(request: web.Request) -> web.Response:
    """{"amount": "8680.00", "refunded_at"?, "refund_id"?} -> 201 {"event_id", "refund": RefundView}."""
    buyer = v.buyer_id(request.match_info["buyer_id"])
    order = v.order_id(request.match_info["order_id"])
    body = await _body(request)
    amount, at, rid = v.refund_request(body)
    return await _run(request, body, ops.book_refund(buyer, order, amount, at, rid, _cfg(request)))
