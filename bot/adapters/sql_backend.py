"""The in-process adapter of the PaymentsBackend port: the service layer in a worker thread
(`asyncio.to_thread`), so no blocking database I/O runs on the event loop. The engine is created
on first use, never at import or construction."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from decimal import Decimal
from typing import Callable, Optional, Tuple

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.config import Settings
from bot.ports import (ApplicantCheckView, ApplicationRequest, RefundView, ApplicationView, BackendUnavailable, BuyerSummary, BuyerView,
                       CreditLineView, DisbursementView, EligibilityView, OrderView, QuoteView)
from bot.service_layer import services
from bot.service_layer.services import ServiceConfig

from .db import make_engine, ping
from .unit_of_work import SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)


class SqlBackend:
    def __init__(self, settings: Settings, *, engine: Optional[Engine] = None,
                 today: Optional[Callable[[], dt.date]] = None, now: Optional[Callable[[], dt.datetime]] = None,
                 config: Optional[ServiceConfig] = None):
        self.settings = settings
        self._engine = engine
        self._owns_engine = engine is None
        self._engine_lock = threading.Lock()
        self.today = today or dt.date.today
        # naive UTC (the times stored in the database are naive UTC)
        self.now = now or (lambda: dt.datetime.combine(self.today(), dt.datetime.now(dt.timezone.utc).time()))
        self.config = config or ServiceConfig.from_settings(settings)

    # ----------------------------------------------------------------- plumbing
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = make_engine(self.settings.database_url)
        return self._engine

    def uow(self, write_lock: bool = False) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine, write_lock=write_lock)

    def _run(self, fn, *args, write_lock: bool = False):
        try:
            return fn(self.uow(write_lock), *args)
        except SQLAlchemyError as e:
            log.warning("database error in %s: %s", getattr(fn, "__name__", fn), e)
            raise BackendUnavailable("The payments database is not available right now.") from e

    async def _call(self, fn, *args, write_lock: bool = False):
        return await asyncio.to_thread(self._run, fn, *args, write_lock=write_lock)

    # ----------------------------------------------------------------- the port
    async def buyer(self, buyer_id: str) -> BuyerView:
        return await self._call(services.get_buyer, buyer_id)

    async def list_orders(self, buyer_id: str) -> Tuple[OrderView, ...]:
        return await self._call(services.list_orders, buyer_id, self.today())

    async def get_order(self, buyer_id: str, order_id: str) -> OrderView:
        return await self._call(services.get_order, buyer_id, order_id, self.today())

    async def pay_later_eligibility(self, buyer_id: str, order_id: str) -> EligibilityView:
        return await self._call(services.pay_later_eligibility, buyer_id, order_id)

    async def start_application(self, buyer_id: str, request: ApplicationRequest) -> ApplicationView:
        def start():
            # write_lock: on SQLite take the write lock up front (read-then-insert)
            try:
                return services.start_application(self.uow(True), buyer_id, request, self.today(), self.config)
            except IntegrityError:  # a simultaneous first request won: return that one
                return services.start_application(self.uow(True), buyer_id, request, self.today(), self.config)

        return await self._call(lambda _uow: start())

    async def application_status(self, buyer_id: str) -> Optional[ApplicationView]:
        return await self._call(services.application_status, buyer_id, self.config)

    async def credit_line(self, buyer_id: str) -> Optional[CreditLineView]:
        return await self._call(services.credit_line, buyer_id)

    async def quote_draw(self, buyer_id: str, amount: Decimal, term_months: int = 6) -> QuoteView:
        return await self._call(services.quote_draw, buyer_id, amount, term_months, self.today(), self.config)

    async def applicant_check(self, buyer_id: str) -> ApplicantCheckView:
        return await self._call(services.applicant_check, buyer_id, self.config)

    async def refund_status(self, buyer_id: str, order_id: str) -> RefundView:
        return await self._call(services.refund_status, buyer_id, order_id, self.now(), self.config)

    async def disbursement_status(self, buyer_id: str, order_id: str) -> Tuple[DisbursementView, ...]:
        return await self._call(services.disbursement_status, buyer_id, order_id, self.today())

    async def buyer_summary(self, buyer_id: str) -> BuyerSummary:
        return await self._call(services.buyer_summary, buyer_id, self.config, self.today())

    async def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            engine, self._engine = self._engine, None
            await asyncio.to_thread(engine.dispose)

    # ----------------------------------------------------------------- beyond the port
    async def take_draw(self, buyer_id: str, order_id: str, term_months: int = 6,
                        agreement_completed_on: Optional[dt.date] = None) -> services.DrawResult:
        return await self._call(services.take_draw, buyer_id, order_id, self.now(), term_months,
                                agreement_completed_on, write_lock=True)

    async def book_refund(self, buyer_id: str, order_id: str, amount: Decimal,
                          refunded_at: Optional[dt.datetime] = None, refund_id: Optional[str] = None) -> RefundView:
        """The marketplace books a refund on a Pay Later order (PRODUCT.md rule 9)."""
        return (await self.book_refund_once(buyer_id, order_id, amount, refunded_at, refund_id))[0]

    async def book_refund_once(self, buyer_id: str, order_id: str, amount: Decimal,
                               refunded_at: Optional[dt.datetime] = None,
                               refund_id: Optional[str] = None) -> Tuple[RefundView, bool]:
        """(view, created): created is False when `refund_id` was booked before (a retry)."""
        at = refunded_at or self.now()

        def book():
            args = (buyer_id, order_id, amount, at, self.config, refund_id)
            try:
                return services.book_refund_once(self.uow(True), *args)
            except IntegrityError:  # the same refund id booked at the same moment: return that one
                return services.book_refund_once(self.uow(True), *args)

        return await self._call(lambda _uow: book())

    async def run_idempotent(self, principal: str, key: str, req_hash: str, operation) -> Tuple[int, dict, bool]:
        """A lender/marketplace use case (bot.service_layer.lender) under its Idempotency-Key, with
        its outbox event, in one transaction: (status, JSON body, replayed)."""
        from bot.service_layer import lender
        from .serialization import to_json

        def run():
            clock = lender.Clock(self.now(), self.today())
            args = (principal, key, req_hash, clock, operation, to_json)
            try:
                return lender.run_idempotent(self.uow(True), *args)
            except IntegrityError:  # the same key at the same moment: the other one won; answer as it did
                return lender.run_idempotent(self.uow(True), *args)

        return await self._call(lambda _uow: run())

    async def pending_events(self, limit: int = 100):
        from bot.service_layer import lender
        return await self._call(lender.pending_events, limit)

    async def mark_event_delivered(self, event_id: str) -> None:
        from bot.service_layer import lender
        await self._call(lender.mark_delivered, event_id, self.now())

    async def late_disbursements(self, today: Optional[dt.date] = None):
        from bot.service_layer import lender
        return await self._call(lender.late_disbursements, today or self.today())

    async def summary_json(self, buyer_id: str):
        """The handoff context packet (BuyerSummary as JSON); None when the buyer is unknown."""
        from bot.ports import NotFound
        from .serialization import to_json
        try:
            return to_json(await self.buyer_summary(buyer_id))
        except NotFound:
            return None

    async def ping(self) -> None:
        """SELECT 1; BackendUnavailable when the database does not answer."""
        try:
            await asyncio.to_thread(ping, self.engine)
        except SQLAlchemyError as e:
            raise BackendUnavailable("The payments database is not available right now.") from e
