"""The buyer context panel: what the backend knows about the buyer of a conversation, live
through the port (`bot.ports.PaymentsBackend`), so the agent never asks what the system knows.

Only for a conversation opened with a verified buyer token (its `buyer_id`); each backend call
has the backend timeout, and a part that fails is reported as unavailable, not as empty.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Awaitable, Dict, List, Optional, Tuple

from bot.ports import BackendError, NotFound, PaymentsBackend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderContext:
    order_id: str
    currency: str
    total: str
    paid: str
    due: str  # what is still to pay (total - paid - refunded)
    status_text: str
    trade_assurance: bool
    pay_later: Optional[Dict[str, Any]]  # eligibility: eligible, amount, reasons, advice (None: unavailable)
    disbursements: Tuple[Dict[str, Any], ...] = ()


@dataclass(frozen=True)
class BuyerContext:
    buyer_id: str
    business_name: Optional[str]
    country: Optional[str]
    orders: Tuple[OrderContext, ...]
    application: Optional[Dict[str, Any]]
    credit_line: Optional[Dict[str, Any]]
    unavailable: Tuple[str, ...] = field(default_factory=tuple)  # parts the backend did not answer

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


def _money(value: Optional[Decimal]) -> Optional[str]:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


class BuyerContextReader:
    def __init__(self, backend: PaymentsBackend, timeout_s: float):
        self.backend = backend
        self.timeout_s = timeout_s

    async def _try(self, what: str, coro: Awaitable[Any], missing: List[str]) -> Any:
        try:
            return await asyncio.wait_for(coro, self.timeout_s)
        except NotFound:
            return None
        except (BackendError, asyncio.TimeoutError, Exception) as exc:  # a part missing, never a 500
            log.warning("context: %s failed: %r", what, exc)
            missing.append(what)
            return None

    async def read(self, buyer_id: str) -> BuyerContext:
        missing: List[str] = []
        buyer, orders, application, line = await asyncio.gather(
            self._try("buyer", self.backend.buyer(buyer_id), missing),
            self._try("orders", self.backend.list_orders(buyer_id), missing),
            self._try("application", self.backend.application_status(buyer_id), missing),
            self._try("credit_line", self.backend.credit_line(buyer_id), missing))
        orders = tuple(orders or ())
        details = await asyncio.gather(*(self._order(buyer_id, o, missing) for o in orders))
        return BuyerContext(
            buyer_id=buyer_id,
            business_name=buyer.business_name if buyer else None,
            country=buyer.country if buyer else None,
            orders=tuple(details),
            application=None if application is None else {
                "state": application.state, "state_text": application.state_text, "lender": application.lender,
                "requested_limit": _money(application.requested_limit), "offered_limit": _money(application.offered_limit),
                "reasons": [r.message for r in application.reasons]},
            credit_line=None if line is None else {
                "lender": line.lender, "currency": line.currency, "limit": _money(line.limit), "used": _money(line.used),
                "available": _money(line.available), "risk_tier": line.risk_tier},
            unavailable=tuple(sorted(set(missing))))

    async def _order(self, buyer_id: str, o, missing: List[str]) -> OrderContext:
        elig, disb = await asyncio.gather(
            self._try("eligibility", self.backend.pay_later_eligibility(buyer_id, o.order_id), missing),
            self._try("disbursements", self.backend.disbursement_status(buyer_id, o.order_id), missing))
        return OrderContext(
            order_id=o.order_id, currency=o.currency, total=_money(o.total), paid=_money(o.paid), due=_money(o.due),
            status_text=o.status_text, trade_assurance=o.trade_assurance,
            pay_later=None if elig is None else {
                "eligible": elig.eligible, "stage": elig.stage, "amount": _money(elig.amount),
                "reasons": [r.message for r in elig.reasons], "advice": elig.advice},
            disbursements=tuple({"stage": d.stage, "amount": _money(d.amount), "currency": d.currency, "state": d.state,
                                 "state_text": d.state_text, "needs_human": d.needs_human} for d in (disb or ())))
