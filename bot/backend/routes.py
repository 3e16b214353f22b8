"""Handlers: the PaymentsBackend port over JSON (bot.adapters.serialization)."""
from __future__ import annotations

from aiohttp import web

from bot.adapters.serialization import to_json
from bot.ports import BackendUnavailable

from . import validation as v
from .keys import BACKEND
from .openapi import OPENAPI

routes = web.RouteTableDef()
BUYER = "/v1/buyers/{buyer_id}"
ORDER = BUYER + "/orders/{order_id}"


def _ids(request: web.Request):
    b = v.buyer_id(request.match_info["buyer_id"])
    o = request.match_info.get("order_id")
    return b, (v.order_id(o) if o is not None else None)


def _json(data, status: int = 200) -> web.Response:
    return web.json_response(to_json(data), status=status)


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    try:
        await request.app[BACKEND].ping()
    except BackendUnavailable:
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


@routes.get(BUYER)
async def buyer(request: web.Request) -> web.Response:
    b, _ = _ids(request)
    return _json(await request.app[BACKEND].buyer(b))


@routes.get(BUYER + "/orders")
async def orders(request: web.Request) -> web.Response:
    b, _ = _ids(request)
    return _json({"orders": await request.app[BACKEND].list_orders(b)})


@routes.get(ORDER)
async def order(request: web.Request) -> web.Response:
    b, o = _ids(request)
    return _json(await request.app[BACKEND].get_order(b, o))


@routes.get(ORDER + "/pay-later-eligibility")
async def eligibility(request: web.Request) -> web.Response:
    b, o = _ids(request)
    return _json(await request.app[BACKEND].pay_later_eligibility(b, o))


@routes.get(ORDER + "/disbursement")
async def disbursement(request: web.Request) -> web.Response:
    b, o = _ids(request)
    return _json({"disbursements": await request.app[BACKEND].disbursement_status(b, o)})


@routes.post(BUYER + "/applications")
async def start_application(request: web.Request) -> web.Response:
    b, _ = _ids(request)
    req = v.application_request(v.parse_body(await request.text()))
    view = await request.app[BACKEND].start_application(b, req)
    return _json(view, status=201 if view.created else 200)


@routes.get(BUYER + "/application")
async def application(request: web.Request) -> web.Response:
    b, _ = _ids(request)
    return _json({"application": await request.app[BACKEND].application_status(b)})


@routes.get(BUYER + "/credit-line")
async def credit_line(request: web.Request) -> web.Response:
    b, _ = _ids(request)
    return _json({"credit_line": await request.app[BACKEND].credit_line(b)})


@routes.post(BUYER + "/quotes")
async def quote(request: web.Request) -> web.Response:
    b, _ = _ids(request)
    body = v.parse_body(await request.text())
    v.currency(body.get("currency"))
    amount = v.amount(body.get("amount"))
    term = v.integer(body.get("term_months"), "term_months", 6)
    return _json(await request.app[BACKEND].quote_draw(b, amount, term))


@routes.get(BUYER + "/summary")
async def summary(request: web.Request) -> web.Response:
    b, _ = _ids(request)
    return _json(await request.app[BACKEND].buyer_summary(b))


@routes.get(BUYER + "/applicant-check")
async def applicant_check(request: web.Request) -> web.Response:
    b, _ = _ids(request)
    return _json(await request.app[BACKEND].applicant_check(b))


@routes.get(ORDER + "/refund")
async def refund_status(request: web.Request) -> web.Response:
    b, o = _ids(request)
    return _json(await request.app[BACKEND].refund_status(b, o))


@routes.post(ORDER + "/refunds")
async def book_refund(request: web.Request) -> web.Response:
    """The marketplace books a refund on a Pay Later order (service token): 201 with the RefundView;
    200 when `refund_id` was booked before (a retry books nothing twice)."""
    b, o = _ids(request)
    amount, at, refund_id = v.refund_request(v.parse_body(await request.text()))
    view, created = await request.app[BACKEND].book_refund_once(b, o, amount, at, refund_id)
    return _json(view, status=201 if created else 200)
