"""An in-memory PaymentsBackend with demo-like data (PRODUCT.md), recording every call."""
from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

from bot.ports import (
    ApplicationRequest, ApplicationView, BackendUnavailable, BuyerSummary, BuyerView, CreditLineView,
    DisbursementView, EligibilityView, NotFound, OrderView, PaymentView, QuoteView, Reason, Refused,
    ScheduleRow,
)
from bot.service_layer.views import eligibility_advice

D = Decimal
TODAY = dt.date(2024, 11, 20)  # a Wednesday


def _order(oid, total, paid, status, text, currency="USD", ta=True, payments=()):
    return OrderView(oid, ta, currency, D(total), D(paid), D(total) - D(paid), status, text, tuple(payments))


ORDERS = {
    "buyer-001": {
        "TA-100231": _order("TA-100231", "24800.00", "7440.00", "awaiting_balance", "Balance of $17,360.00 is due.",
                            payments=[PaymentView("initial", D("7440.00"), "USD", "paid", "tt", TODAY),
                                      PaymentView("balance", D("17360.00"), "USD", "due")]),
        "TA-100245": _order("TA-100245", "12400.00", "12400.00", "paid_in_full", "Paid; the balance is on its way."),
        "TA-100198": _order("TA-100198", "6000.00", "6000.00", "paid_in_full", "Paid in full."),
        "TA-100212": _order("TA-100212", "3700.00", "3700.00", "paid_in_full", "Paid in full with Pay Later."),
        "TA-100260": _order("TA-100260", "3150.00", "0", "awaiting_initial_payment", "Waiting for the initial payment.", currency="EUR"),
        "PO-55012": _order("PO-55012", "900.00", "0", "awaiting_payment", "Waiting for payment.", ta=False),
    },
    "buyer-002": {
        "TA-100301": _order("TA-100301", "180000.00", "0", "awaiting_initial_payment", "Waiting for the initial payment of $54,000.00."),
    },
}
BUYERS = {
    "buyer-001": BuyerView("buyer-001", "Acme Outdoor Supply LLC", "US"),
    "buyer-002": BuyerView("buyer-002", "Blue Harbor Imports Inc", "US"),
}
LINE = CreditLineView("Kabbage", "USD", D("50000.00"), D("18380.00"), D("31620.00"), "B")
APPROVED = ApplicationView("APP-1", "approved", "Approved.", "Kabbage", D("50000.00"), D("50000.00"), None)
NO = {
    "TA-100260": (Reason("currency_not_usd", "Pay Later pays in USD only, and this order is in EUR."),),
    "PO-55012": (Reason("not_trade_assurance", "Pay Later can only pay Trade Assurance orders."),),
}


def _disbursement(oid, state, amount, completed, arrived=None):
    return DisbursementView(
        oid, "balance", D(amount), "USD", state, state, completed, completed + dt.timedelta(days=1),
        completed + dt.timedelta(days=3), arrived, None, state == "late",
    )


DISBURSEMENTS = {
    "TA-100245": (_disbursement("TA-100245", "processing", "8680.00", dt.date(2024, 11, 19)),),
    "TA-100198": (_disbursement("TA-100198", "arrived", "6000.00", dt.date(2024, 11, 6), dt.date(2024, 11, 8)),),
    "TA-100212": (_disbursement("TA-100212", "late", "3700.00", dt.date(2024, 11, 13)),),
}


class FakeBackend:
    def __init__(self) -> None:
        self.calls: List[Tuple[str, tuple]] = []
        self.applications: Dict[str, ApplicationView] = {"buyer-001": APPROVED}
        self.fail: Optional[str] = None  # "down" | "hang"

    async def _enter(self, name, *args):
        self.calls.append((name, args))
        if self.fail == "down":
            raise BackendUnavailable("database is down")
        if self.fail == "hang":
            await asyncio.sleep(30)

    def _get(self, buyer_id, order_id):
        try:
            return ORDERS[buyer_id][order_id]
        except KeyError:
            raise NotFound() from None

    async def buyer(self, buyer_id):
        await self._enter("buyer", buyer_id)
        return BUYERS[buyer_id]

    async def list_orders(self, buyer_id):
        await self._enter("list_orders", buyer_id)
        return tuple(ORDERS.get(buyer_id, {}).values())

    async def get_order(self, buyer_id, order_id):
        await self._enter("get_order", buyer_id, order_id)
        return self._get(buyer_id, order_id)

    async def pay_later_eligibility(self, buyer_id, order_id):
        await self._enter("pay_later_eligibility", buyer_id, order_id)
        o = self._get(buyer_id, order_id)
        line = LINE if buyer_id == "buyer-001" else None
        reasons = NO.get(order_id, ()) or (() if line else (Reason("no_credit_line", "You don't have an approved Pay Later credit line yet."),))
        # the backend's own advice sentences, as the real service layer sends them
        advice = eligibility_advice([r.code for r in reasons], "balance", o.due)
        return EligibilityView(order_id, not reasons, "balance", o.due, o.currency,
                               line.available if line else None, reasons, advice)

    async def start_application(self, buyer_id, request: ApplicationRequest):
        await self._enter("start_application", buyer_id, request)
        if buyer_id in self.applications:
            return ApplicationView(**{**self.applications[buyer_id].__dict__, "created": False})
        offered = min(request.requested_limit, D("150000.00"))
        app = ApplicationView("APP-2", "waiting_for_account_linking", "Waiting for you to link your accounts.",
                              "Kabbage", request.requested_limit, offered, "https://paylater.example.com/apply/APP-2",
                              created=True)
        self.applications[buyer_id] = app
        return app

    async def application_status(self, buyer_id):
        await self._enter("application_status", buyer_id)
        app = self.applications.get(buyer_id)
        return None if app is None else ApplicationView(**{**app.__dict__, "created": False})

    async def credit_line(self, buyer_id):
        await self._enter("credit_line", buyer_id)
        return LINE if buyer_id == "buyer-001" else None

    async def quote_draw(self, buyer_id, amount, term_months=6):
        await self._enter("quote_draw", buyer_id, amount, term_months)
        if amount > D("150000"):
            raise Refused("above_cap", "Pay Later draws can be at most $150,000.00.")
        principal = (amount / term_months).quantize(D("0.01"))
        rows = tuple(
            ScheduleRow(m, TODAY + dt.timedelta(days=30 * m), TODAY + dt.timedelta(days=30 * m + 21), principal,
                        (amount * D("0.02") if m <= 2 else amount * D("0.005")).quantize(D("0.01")),
                        D("100.00") if m == 1 else D("0.00"),
                        principal + (amount * D("0.02") if m <= 2 else amount * D("0.005")) - (D("100") if m == 1 else 0))
            for m in range(1, term_months + 1)
        )
        fees = sum((r.fee for r in rows), D(0))
        return QuoteView(amount, "USD", term_months, "B", rows, fees, D("100.00"), amount + fees - D("100.00"),
                         LINE.available if buyer_id == "buyer-001" else None)

    async def disbursement_status(self, buyer_id, order_id):
        await self._enter("disbursement_status", buyer_id, order_id)
        self._get(buyer_id, order_id)
        return DISBURSEMENTS.get(order_id, ())

    async def buyer_summary(self, buyer_id):
        await self._enter("buyer_summary", buyer_id)
        return BuyerSummary(BUYERS[buyer_id], self.applications.get(buyer_id),
                            LINE if buyer_id == "buyer-001" else None)

    async def close(self):
        pass
