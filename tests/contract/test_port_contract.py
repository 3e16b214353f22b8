"""What every PaymentsBackend adapter must do (run against SqlBackend and HttpBackend)."""
import datetime as dt
from decimal import Decimal

import pytest

from bot.ports import (ApplicationRequest, ApplicationView, BuyerSummary, CreditLineView, EligibilityView, NotFound,
                       OrderView, PaymentsBackend, QuoteView, Refused)

from .conftest import TODAY


def test_is_a_payments_backend(backend):
    assert isinstance(backend, PaymentsBackend)


async def test_buyer(backend):
    b = await backend.buyer("buyer-003")
    assert (b.business_name, b.country) == ("Nordlicht Handel GmbH", "DE")
    with pytest.raises(NotFound):
        await backend.buyer("nobody")


async def test_list_orders_typed(backend):
    orders = await backend.list_orders("buyer-001")
    assert isinstance(orders, tuple) and all(isinstance(o, OrderView) for o in orders)
    o = next(o for o in orders if o.order_id == "TA-100245")
    assert o.status == "paid_in_full" and o.paid == Decimal("12400.00")
    assert [(p.stage, p.method, p.state) for p in o.payments] == [("initial", "card", "paid"), ("balance", "pay_later", "processing")]
    assert isinstance(o.placed_on, dt.date) and isinstance(o.payments, tuple)


async def test_get_order_and_not_found_is_the_same_for_other_buyers(backend):
    o = await backend.get_order("buyer-001", "TA-100260")
    assert o.currency == "EUR" and o.status == "awaiting_initial_payment"
    with pytest.raises(NotFound) as a:
        await backend.get_order("buyer-002", "TA-100260")
    with pytest.raises(NotFound) as b:
        await backend.get_order("buyer-002", "TA-999998")
    assert (a.value.code, a.value.message) == (b.value.code, b.value.message)


async def test_eligibility(backend):
    e = await backend.pay_later_eligibility("buyer-001", "TA-100231")
    assert isinstance(e, EligibilityView) and e.eligible and e.stage == "balance" and e.amount == Decimal("17360.00")
    e = await backend.pay_later_eligibility("buyer-001", "PO-55012")
    assert [r.code for r in e.reasons] == ["not_trade_assurance"] and e.reasons[0].message


async def test_application_idempotent(backend):
    req = ApplicationRequest("Blue Harbor Imports Inc", True, Decimal("3"), Decimal("800000"), Decimal("250000"))
    a = await backend.start_application("buyer-002", req)
    b = await backend.start_application("buyer-002", req)
    assert isinstance(a, ApplicationView) and a.created and not b.created and a.application_id == b.application_id
    assert a.offered_limit == Decimal("150000.00") and [r.code for r in a.reasons] == ["limit_reduced_to_cap"]
    status = await backend.application_status("buyer-002")
    assert status.application_id == a.application_id and status.updated_on == TODAY


async def test_declined_application(backend):
    req = ApplicationRequest("Nordlicht Handel GmbH", False, Decimal("12"), Decimal("2500000"), Decimal("50000"))
    a = await backend.start_application("buyer-003", req)
    assert a.state == "declined" and [r.code for r in a.reasons] == ["not_us_business"]


async def test_application_status_and_credit_line(backend):
    assert (await backend.application_status("buyer-004")).state == "waiting_for_account_linking"
    assert await backend.application_status("buyer-002") is None
    line = await backend.credit_line("buyer-001")
    assert isinstance(line, CreditLineView) and line.available == Decimal("31620.00") and line.risk_tier == "B"
    assert await backend.credit_line("buyer-003") is None


async def test_quote(backend):
    q = await backend.quote_draw("buyer-001", Decimal("20000"), 6)
    assert isinstance(q, QuoteView) and len(q.rows) == 6 and isinstance(q.rows[0].statement_date, dt.date)
    assert q.rows[0].fee_credit == Decimal("50.00") and q.total_repayable == Decimal("21150.00")
    over = await backend.quote_draw("buyer-001", Decimal("40000"))
    assert any("31,620.00" in n for n in over.notes)


@pytest.mark.parametrize("amount, code", [(Decimal("0"), "invalid_amount"), (Decimal("150000.01"), "amount_above_cap"),
                                          (Decimal("1e400"), "amount_above_cap"), (Decimal("NaN"), "invalid_amount"),
                                          (100.005, "invalid_amount")])  # a float is refused, never rounded
async def test_quote_refused(backend, amount, code):
    with pytest.raises(Refused) as e:
        await backend.quote_draw("buyer-001", amount)
    assert e.value.code == code and e.value.message


@pytest.mark.parametrize("term", [0, 7, -1])
async def test_quote_term_out_of_range(backend, term):
    with pytest.raises(Refused) as e:
        await backend.quote_draw("buyer-001", Decimal("100"), term)
    assert e.value.code == "term_out_of_range" and "6" in e.value.message


@pytest.mark.parametrize("term", [1, 3, 6])
async def test_quote_uses_the_term_given(backend, term):
    q = await backend.quote_draw("buyer-001", Decimal("20000"), term)
    assert q.term_months == term and len(q.rows) == term
    assert sum(r.principal for r in q.rows) == Decimal("20000.00")


async def test_quote_rounds_half_up_to_the_cent(backend):
    """The one rounding rule in both adapters: 100.005 -> 100.01 (not banker's 100.00)."""
    q = await backend.quote_draw("buyer-001", Decimal("100.005"), 2)
    assert q.amount == Decimal("100.01") and sum(r.principal for r in q.rows) == Decimal("100.01")


async def test_disbursements(backend):
    (late,) = await backend.disbursement_status("buyer-001", "TA-100212")
    assert late.state == "late" and late.needs_human and late.expected_by < TODAY
    (arrived,) = await backend.disbursement_status("buyer-001", "TA-100198")
    assert arrived.state == "arrived" and arrived.arrived_on is not None
    assert await backend.disbursement_status("buyer-001", "TA-100231") == ()
    with pytest.raises(NotFound):
        await backend.disbursement_status("buyer-002", "TA-100212")


async def test_summary(backend):
    s = await backend.buyer_summary("buyer-001")
    assert isinstance(s, BuyerSummary) and s.credit_line.used == Decimal("18380.00") and len(s.orders) == 6
    s4 = await backend.buyer_summary("buyer-004")
    assert s4.credit_line is None and s4.application.link_url


async def test_simultaneous_applications_create_one(backend):
    import asyncio
    req = ApplicationRequest("Blue Harbor Imports Inc", True, Decimal("3"), Decimal("800000"), Decimal("60000"))
    views = await asyncio.gather(*(backend.start_application("buyer-002", req) for _ in range(4)))
    assert len({v.application_id for v in views}) == 1 and sum(v.created for v in views) == 1


async def test_applicant_check(backend):
    """Judged before any question: from the business on file and what already exists."""
    from bot.ports import ApplicantCheckView
    one = await backend.applicant_check("buyer-001")
    assert isinstance(one, ApplicantCheckView) and not one.can_apply and one.reasons == ()
    assert one.credit_line.limit == Decimal("50000.00") and one.application.state == "approved"
    two = await backend.applicant_check("buyer-002")
    assert two.can_apply and two.reasons == () and two.application is None and two.credit_line is None
    three = await backend.applicant_check("buyer-003")
    assert not three.can_apply and [r.code for r in three.reasons] == ["not_us_business"]
    assert three.reasons[0].message and three.application is None
    four = await backend.applicant_check("buyer-004")
    assert not four.can_apply and four.application.state == "waiting_for_account_linking" and four.reasons == ()
    with pytest.raises(NotFound):
        await backend.applicant_check("nobody")


async def test_refund_status_without_a_refund(backend):
    from bot.ports import RefundView
    r = await backend.refund_status("buyer-001", "TA-100198")
    assert isinstance(r, RefundView) and r.pay_later and not r.refunded and r.refunded_on is None
    assert r.refunded_amount == Decimal("0.00") and r.fees_reversed == Decimal("0.00")
    assert r.loan_amount == Decimal("6000.00") and r.loan_outstanding == Decimal("6000.00")
    assert r.reversal_window_ends is not None and r.reversal_window_ends.tzinfo is not None
    none = await backend.refund_status("buyer-001", "TA-100231")  # not paid with Pay Later
    assert not none.pay_later and none.loan_amount == Decimal("0.00") and none.reversal_window_ends is None
    with pytest.raises(NotFound):
        await backend.refund_status("buyer-002", "TA-100198")


async def test_declined_application_gives_every_reason(backend):
    req = ApplicationRequest("Tiny Co", False, Decimal("0.5"), Decimal("10000"), Decimal("200000"))
    a = await backend.start_application("buyer-002", req)
    assert a.state == "declined" and [r.code for r in a.reasons] == ["not_us_business", "too_young", "revenue_too_low"]
    again = await backend.applicant_check("buyer-002")
    assert not again.can_apply and again.application.state == "declined" and len(again.application.reasons) == 3


async def test_eur_order_is_never_compared_with_the_usd_line(backend):
    e = await backend.pay_later_eligibility("buyer-001", "TA-100260")
    codes = [r.code for r in e.reasons]
    assert not e.eligible and "currency_not_usd" in codes and "insufficient_credit" not in codes
    assert e.currency == "EUR" and not any("$" in r.message for r in e.reasons)


# ----------------------------------------------------------------------------- rule 9: refunds
# buyer-001's line qualified TODAY - 90 days (2024-12-12): statements on the 22nd of each month.
DRAW_AT = dt.datetime(2025, 2, 21, 10, 0)  # the day before a statement: month 1's fee is billed within 48 h
MONTH1_FEE_BILLED = Decimal("297.20")  # 2% of 17,360.00 = 347.20, less the 50.00 first-month credit


def _draw_on_ta_100231(settings):
    """A Pay Later draw on TA-100231's balance at DRAW_AT, written straight to the database the
    adapter under test reads."""
    from bot.adapters.db import make_engine
    from bot.adapters.unit_of_work import SqlAlchemyUnitOfWork
    from bot.service_layer import services
    engine = make_engine(settings.database_url)
    try:
        services.take_draw(SqlAlchemyUnitOfWork(engine, write_lock=True), "buyer-001", "TA-100231", DRAW_AT, 6,
                           DRAW_AT.date())
    finally:
        engine.dispose()


@pytest.mark.parametrize("after, reversed_", [(dt.timedelta(hours=48), MONTH1_FEE_BILLED),
                                              (dt.timedelta(hours=48, seconds=1), Decimal("0.00"))])
async def test_full_refund_goes_against_the_loan_and_reverses_fees_only_within_48_hours(
        backend, settings, after, reversed_):
    _draw_on_ta_100231(settings)
    before = await backend.refund_status("buyer-001", "TA-100231")
    assert before.pay_later and not before.refunded and before.loan_outstanding == Decimal("17360.00")
    assert before.fees_billed == MONTH1_FEE_BILLED and before.fees_reversed == Decimal("0.00")
    assert before.reversal_window_ends == (DRAW_AT + dt.timedelta(hours=48)).replace(tzinfo=dt.timezone.utc)
    used_before = (await backend.credit_line("buyer-001")).used

    booked = await backend.book_refund("buyer-001", "TA-100231", Decimal("17360.00"), DRAW_AT + after)
    after_view = await backend.refund_status("buyer-001", "TA-100231")
    assert booked == after_view
    assert after_view.refunded and after_view.refunded_amount == Decimal("17360.00")
    assert after_view.refunded_on == (DRAW_AT + after).date()
    assert after_view.loan_outstanding == Decimal("0.00")
    assert after_view.fees_billed == MONTH1_FEE_BILLED  # billed before the refund; nothing billed after
    assert after_view.fees_reversed == reversed_
    assert (await backend.credit_line("buyer-001")).used == used_before - Decimal("17360.00")
    order = await backend.get_order("buyer-001", "TA-100231")
    assert order.status == "refunded" and order.due == Decimal("0.00")
    assert [p.state for p in order.payments] == ["paid", "refunded"]


async def test_partial_refund_reduces_the_loan_by_its_amount(backend, settings):
    _draw_on_ta_100231(settings)
    r = await backend.book_refund("buyer-001", "TA-100231", Decimal("10000.00"), DRAW_AT + dt.timedelta(hours=1))
    assert r.refunded_amount == Decimal("10000.00") and r.loan_outstanding == Decimal("7360.00")
    assert r.fees_reversed == Decimal("0.00")  # nothing billed yet one hour after the draw
    order = await backend.get_order("buyer-001", "TA-100231")
    assert [p.state for p in order.payments][1] in ("processing", "late")  # still a Pay Later payment
    now = await backend.refund_status("buyer-001", "TA-100231")
    assert now.fees_billed == MONTH1_FEE_BILLED and now.fees_reversed == Decimal("0.00")  # billed after: kept
    with pytest.raises(Refused) as e:
        await backend.book_refund("buyer-001", "TA-100231", Decimal("7360.01"), DRAW_AT + dt.timedelta(hours=2))
    assert e.value.code == "refund_exceeds_paid" and "$7,360.00" in e.value.message
    assert (await backend.refund_status("buyer-001", "TA-100231")) == now  # the refusal changed nothing


async def test_refund_without_pay_later_is_refused(backend):
    with pytest.raises(Refused) as e:
        await backend.book_refund("buyer-001", "TA-100231", Decimal("1.00"), dt.datetime(2025, 3, 12, 9, 0))
    assert e.value.code == "not_pay_later"
    with pytest.raises(NotFound):
        await backend.book_refund("buyer-002", "TA-100198", Decimal("1.00"), dt.datetime(2025, 3, 12, 9, 0))


async def test_late_pay_later_payment_is_marked_late(backend):
    o = await backend.get_order("buyer-001", "TA-100212")
    assert [p.state for p in o.payments] == ["late"]
    assert "on its way" not in o.status_text and "late" in o.status_text and "$3,700.00" in o.status_text
    on_time = await backend.get_order("buyer-001", "TA-100245")
    assert [p.state for p in on_time.payments] == ["paid", "processing"]


async def test_application_is_judged_with_the_business_on_file(backend):
    """buyer-003's business on file is German: saying "US-based" in the form does not change it,
    and a limit above the cap is reduced by the backend (the reason is recorded and says so)."""
    req = ApplicationRequest("Nordlicht Handel GmbH", True, Decimal("12"), Decimal("2500000"), Decimal("50000"))
    a = await backend.start_application("buyer-003", req)
    assert a.state == "declined" and [r.code for r in a.reasons] == ["not_us_business"] and a.offered_limit is None
    big = ApplicationRequest("Blue Harbor Imports Inc", True, Decimal("3"), Decimal("800000"), Decimal("200000"))
    b = await backend.start_application("buyer-002", big)
    assert b.requested_limit == Decimal("200000.00") and b.offered_limit == Decimal("150000.00")
    (cap,) = b.reasons
    assert cap.code == "limit_reduced_to_cap" and "$200,000.00" in cap.message and "$150,000.00" in cap.message
    assert (await backend.application_status("buyer-002")).reasons == b.reasons  # kept


async def test_a_retried_refund_is_booked_once(backend, settings):
    _draw_on_ta_100231(settings)
    at = DRAW_AT + dt.timedelta(hours=3)
    first = await backend.book_refund("buyer-001", "TA-100231", Decimal("1000.00"), at, refund_id="RF-1")
    again = await backend.book_refund("buyer-001", "TA-100231", Decimal("1000.00"), at, refund_id="RF-1")
    assert first == again and again.refunded_amount == Decimal("1000.00")
    assert (await backend.refund_status("buyer-001", "TA-100231")).loan_outstanding == Decimal("16360.00")
    with pytest.raises(Refused) as e:
        await backend.book_refund("buyer-001", "TA-100231", Decimal("2000.00"), at, refund_id="RF-1")
    assert e.value.code == "refund_id_reused"


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5"), 10.5])
async def test_refund_of_a_bad_amount_is_refused(backend, amount):
    with pytest.raises(Refused) as e:
        await backend.book_refund("buyer-001", "TA-100198", amount, dt.datetime(2025, 3, 12, 9, 0))
    assert e.value.code == "invalid_amount" and e.value.message
    assert (await backend.refund_status("buyer-001", "TA-100198")).refunded is False
