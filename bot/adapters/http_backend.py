"""The HTTP adapter of the PaymentsBackend port: an aiohttp client of the backend API.

Connection errors, timeouts and 5xx -> BackendUnavailable; 404 -> NotFound; 400/409/422 with
a rule code -> Refused. Every request has its own timeout (Settings.backend_timeout_s)."""
from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any, Optional, Tuple
from urllib.parse import quote

import aiohttp

from bot.config import Settings
from bot.domain.money import money
from bot.ports import (ApplicantCheckView, ApplicationRequest, RefundView, ApplicationView, BackendUnavailable, BuyerSummary, BuyerView,
                       CreditLineView, DisbursementView, EligibilityView, NotFound, OrderView, QuoteView,
                       Refused)

from bot.service_token import service_token

from .serialization import from_json, to_json


def _q(part: str) -> str:
    return quote(part, safe="")


class HttpBackend:
    def __init__(self, settings: Settings, *, session: Optional[aiohttp.ClientSession] = None):
        self.base_url = settings.backend_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=settings.backend_timeout_s)
        self._token = service_token(settings)
        self._session = session
        self._owns_session = session is None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            headers = {"Accept": "application/json"}
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            self._session = aiohttp.ClientSession(headers=headers, timeout=self.timeout)
        return self._session

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            async with self._get_session().request(
                method, self.base_url + path, json=body, timeout=self.timeout
            ) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            raise BackendUnavailable(f"The payments backend did not answer ({type(e).__name__}).") from e
        error = (data or {}).get("error") if isinstance(data, dict) else None
        if status >= 500:
            raise BackendUnavailable(f"The payments backend failed (HTTP {status}).")
        if status == 404:
            if error:
                raise NotFound(error.get("message") or NotFound().message, error.get("code") or "not_found")
            raise NotFound()
        if status in (400, 409, 422) and error and error.get("code"):
            raise Refused(error["code"], error.get("message", ""))
        if status >= 400 or not isinstance(data, dict):
            raise BackendUnavailable(f"The payments backend answered HTTP {status} without a JSON object.")
        return data

    def _buyer(self, buyer_id: str) -> str:
        return f"/v1/buyers/{_q(buyer_id)}"

    def _order(self, buyer_id: str, order_id: str) -> str:
        return f"{self._buyer(buyer_id)}/orders/{_q(order_id)}"

    def _decode(self, tp, value):
        try:
            return from_json(tp, value)
        except (ValueError, KeyError, TypeError) as e:
            raise BackendUnavailable(f"The payments backend answered something unexpected: {e}") from e

    # ----------------------------------------------------------------- the port
    async def buyer(self, buyer_id: str) -> BuyerView:
        return self._decode(BuyerView, await self._request("GET", self._buyer(buyer_id)))

    async def list_orders(self, buyer_id: str) -> Tuple[OrderView, ...]:
        data = await self._request("GET", f"{self._buyer(buyer_id)}/orders")
        return self._decode(Tuple[OrderView, ...], data.get("orders"))

    async def get_order(self, buyer_id: str, order_id: str) -> OrderView:
        return self._decode(OrderView, await self._request("GET", self._order(buyer_id, order_id)))

    async def pay_later_eligibility(self, buyer_id: str, order_id: str) -> EligibilityView:
        data = await self._request("GET", f"{self._order(buyer_id, order_id)}/pay-later-eligibility")
        return self._decode(EligibilityView, data)

    async def start_application(self, buyer_id: str, request: ApplicationRequest) -> ApplicationView:
        data = await self._request("POST", f"{self._buyer(buyer_id)}/applications", to_json(request))
        return self._decode(ApplicationView, data)

    async def application_status(self, buyer_id: str) -> Optional[ApplicationView]:
        data = await self._request("GET", f"{self._buyer(buyer_id)}/application")
        return self._decode(Optional[ApplicationView], data.get("application"))

    async def credit_line(self, buyer_id: str) -> Optional[CreditLineView]:
        data = await self._request("GET", f"{self._buyer(buyer_id)}/credit-line")
        return self._decode(Optional[CreditLineView], data.get("credit_line"))

    async def quote_draw(self, buyer_id: str, amount: Decimal, term_months: int = 6) -> QuoteView:
        body = {"amount": self._amount(amount), "term_months": term_months}
        return self._decode(QuoteView, await self._request("POST", f"{self._buyer(buyer_id)}/quotes", body))

    async def applicant_check(self, buyer_id: str) -> ApplicantCheckView:
        data = await self._request("GET", f"{self._buyer(buyer_id)}/applicant-check")
        return self._decode(ApplicantCheckView, data)

    async def refund_status(self, buyer_id: str, order_id: str) -> RefundView:
        return self._decode(RefundView, await self._request("GET", f"{self._order(buyer_id, order_id)}/refund"))

    async def disbursement_status(self, buyer_id: str, order_id: str) -> Tuple[DisbursementView, ...]:
        data = await self._request("GET", f"{self._order(buyer_id, order_id)}/disbursement")
        return self._decode(Tuple[DisbursementView, ...], data.get("disbursements"))

    async def buyer_summary(self, buyer_id: str) -> BuyerSummary:
        return self._decode(BuyerSummary, await self._request("GET", f"{self._buyer(buyer_id)}/summary"))

    # ----------------------------------------------------------------- beyond the port
    async def book_refund(self, buyer_id: str, order_id: str, amount: Decimal,
                          refunded_at: Optional[dt.datetime] = None, refund_id: Optional[str] = None) -> RefundView:
        """The marketplace books a refund (POST .../refunds); returns the RefundView."""
        body = {"amount": self._amount(amount)}
        if refunded_at is not None:
            body["refunded_at"] = refunded_at.isoformat()
        if refund_id is not None:
            body["refund_id"] = refund_id
        return self._decode(RefundView, await self._request("POST", f"{self._order(buyer_id, order_id)}/refunds", body))

    @staticmethod
    def _amount(amount) -> str:
        """The one rounding rule (money(): half-up to the cent) before the amount leaves as a
        string, so 100.005 is 100.01 here exactly as in the SQL adapter; an amount money()
        cannot round (NaN, 1e400) goes as it is and the backend refuses it."""
        if isinstance(amount, float) or not isinstance(amount, (Decimal, int, str)):
            # money is never a float: refused here exactly as the SQL adapter's domain refuses it
            raise Refused("invalid_amount", "That is not an amount I can use.")
        try:
            d = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
        except ArithmeticError:
            raise Refused("invalid_amount", "That is not an amount I can use.") from None
        try:
            return format(money(d), "f")
        except (ValueError, TypeError):
            return format(d, "f")

    async def close(self) -> None:
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()
        self._session = None
