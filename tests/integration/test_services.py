import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.calendar import add_working_days, working_days_before
from bot.ports import ApplicationRequest, NotFound, Refused
from bot.service_layer import services
from bot.service_layer.services import ServiceConfig

from .conftest import TODAY

CFG = ServiceConfig(Decimal("50.00"), "https://apply.test")
NOW = dt.datetime.combine(TODAY, dt.time(12, 0))


def req(**kw):
    base = dict(business_name="Blue Harbor Imports Inc", us_based=True, years_in_business=Decimal("3"),
                annual_revenue=Decimal("800000"), requested_limit=Decimal("60000"))
    base.update(kw)
    return ApplicationRequest(**base)


def codes(view):
    return [r.code for r in view.reasons]


def test_list_orders_of_a_buyer(uow):
    ids = {o.order_id for o in services.list_orders(uow(), "buyer-001")}
    assert ids == {"TA-100231", "TA-100245", "TA-100198", "TA-100212", "TA-100260", "PO-55012"}
    assert services.list_orders(uow(), "nobody") == ()


def test_order_view_amounts(uow):
    o = services.get_order(uow(), "buyer-001", "ta-100231")
    assert (o.total, o.paid, o.due, o.status) == (Decimal("24800.00"), Decimal("7440.00"), Decimal("17360.00"), "awaiting_balance")
    assert [(p.stage, p.state, p.method) for p in o.payments] == [("initial", "paid", "tt"), ("balance", "due", None)]


def test_other_buyers_order_is_not_found_exactly_like_unknown(uow):
    with pytest.raises(NotFound) as other:
        services.get_order(uow(), "buyer-002", "TA-100231")
    with pytest.raises(NotFound) as unknown:
        services.get_order(uow(), "buyer-002", "TA-999999")
    assert (other.value.message, other.value.code) == (unknown.value.message, unknown.value.code)


@pytest.mark.parametrize("order_id, expected", [
    ("TA-100231", []),
    ("TA-100260", ["currency_not_usd"]),
    ("PO-55012", ["not_trade_assurance"]),
    ("TA-100245", ["already_paid"]),
    ("TA-100198", ["already_paid"]),
])
def test_eligibility_of_demo_orders(uow, order_id, expected):
    e = services.pay_later_eligibility(uow(), "buyer-001", order_id)
    assert codes(e) == expected and e.eligible == (not expected)
    assert e.available_credit == Decimal("31620.00")
    assert e.advice


def test_eligibility_without_line(uow):
    e = services.pay_later_eligibility(uow(), "buyer-002", "TA-100301")
    assert codes(e) == ["no_credit_line"] and e.available_credit is None
    assert (e.stage, e.amount) == ("initial", Decimal("54000.00"))


def test_start_application_is_idempotent(uow):
    first = services.start_application(uow(), "buyer-002", req(), TODAY, CFG)
    assert first.created and first.state == "waiting_for_account_linking"
    assert first.link_url == f"https://apply.test/{first.application_id}"
    second = services.start_application(uow(), "buyer-002", req(), TODAY, CFG)
    assert not second.created and second.application_id == first.application_id
    assert services.application_status(uow(), "buyer-002", CFG).application_id == first.application_id


def test_ineligible_business_is_declined_with_reasons(uow):
    a = services.start_application(uow(), "buyer-003", req(us_based=False, annual_revenue=Decimal("49999.99")), TODAY, CFG)
    assert a.state == "declined" and codes(a) == ["not_us_business", "revenue_too_low"]
    assert a.offered_limit is None and a.link_url is None


def test_requested_limit_above_cap_is_reduced(uow):
    a = services.start_application(uow(), "buyer-002", req(requested_limit=Decimal("200000")), TODAY, CFG)
    assert a.offered_limit == Decimal("150000.00") and codes(a) == ["limit_reduced_to_cap"]


def test_demo_application_states(uow):
    assert services.application_status(uow(), "buyer-004", CFG).state == "waiting_for_account_linking"
    assert services.application_status(uow(), "buyer-001", CFG).state == "approved"
    assert services.application_status(uow(), "buyer-002", CFG) is None


def test_credit_line(uow):
    line = services.credit_line(uow(), "buyer-001")
    assert (line.limit, line.used, line.available, line.risk_tier) == (
        Decimal("50000.00"), Decimal("18380.00"), Decimal("31620.00"), "B")
    assert services.credit_line(uow(), "buyer-002") is None


def test_quote_within_and_above_available(uow):
    q = services.quote_draw(uow(), "buyer-001", Decimal("20000"), 6, TODAY, CFG)
    assert q.risk_tier == "B" and len(q.rows) == 6
    assert sum(r.principal for r in q.rows) == Decimal("20000.00")
    assert q.total_fees == Decimal("1200.00") and q.fee_credit == Decimal("50.00")
    assert q.total_repayable == Decimal("21150.00")
    assert all(r.due_date - r.statement_date == dt.timedelta(days=21) for r in q.rows)
    over = services.quote_draw(uow(), "buyer-001", Decimal("31620.01"), 6, TODAY, CFG)
    assert any("more than your available credit of $31,620.00" in n for n in over.notes)


@pytest.mark.parametrize("amount, code", [("0", "invalid_amount"), ("-5", "invalid_amount"),
                                          ("150000.01", "amount_above_cap")])
def test_quote_refused(uow, amount, code):
    with pytest.raises(Refused) as e:
        services.quote_draw(uow(), "buyer-001", Decimal(amount), 6, TODAY, CFG)
    assert e.value.code == code


def test_quote_term_too_long(uow):
    with pytest.raises(Refused) as e:
        services.quote_draw(uow(), "buyer-001", Decimal("1000"), 7, TODAY, CFG)
    assert e.value.code == "term_out_of_range"


def test_disbursements_of_demo_orders(uow):
    (late,) = services.disbursement_status(uow(), "buyer-001", "TA-100212", TODAY)
    assert late.state == "late" and late.needs_human and late.working_days_since_agreement == 5
    (proc,) = services.disbursement_status(uow(), "buyer-001", "TA-100245", TODAY)
    assert proc.state == "processing" and proc.stage == "balance" and proc.agreement_completed_on == working_days_before(TODAY, 1)
    (arr,) = services.disbursement_status(uow(), "buyer-001", "TA-100198", TODAY)
    assert arr.state == "arrived" and arr.arrived_on == add_working_days(arr.agreement_completed_on, 2)
    assert services.disbursement_status(uow(), "buyer-001", "TA-100231", TODAY) == ()


def test_take_draw_exactly_available_then_one_cent_more_refused(uow):
    # pay TA-100231's balance (17,360.00) then nothing is left for a 1-cent-over draw
    r = services.take_draw(uow(True), "buyer-001", "TA-100231", NOW)
    assert r.stage == "balance" and r.available_after == Decimal("14260.00")
    (d,) = services.disbursement_status(uow(), "buyer-001", "TA-100231", TODAY)
    assert d.state == "awaiting_agreement"  # no money moves before the agreement
    with pytest.raises(Refused) as e:
        services.record_arrival(uow(), r.draw_id, TODAY)
    assert e.value.code == "agreement_not_completed"
    services.complete_agreement(uow(), r.draw_id, TODAY)
    (d,) = services.disbursement_status(uow(), "buyer-001", "TA-100231", TODAY)
    assert d.state == "processing" and d.expected_by == add_working_days(TODAY, 3)


def test_take_draw_refused_with_reason(uow):
    with pytest.raises(Refused) as e:
        services.take_draw(uow(True), "buyer-001", "TA-100260", NOW)
    assert e.value.code == "currency_not_usd"
    with pytest.raises(Refused) as e:
        services.take_draw(uow(True), "buyer-002", "TA-100301", NOW)
    assert e.value.code == "no_credit_line"


def test_draw_equal_to_available_then_over(uow, demo):
    from bot.adapters import orm
    with demo.begin() as conn:  # make the order exactly the available credit, another one cent more
        conn.execute(orm.orders.insert().values(order_id="TA-200001", buyer_id="buyer-001", trade_assurance=True,
                                                currency="USD", total=Decimal("31620.00"), initial_amount=Decimal("31620.00")))
        conn.execute(orm.orders.insert().values(order_id="TA-200002", buyer_id="buyer-001", trade_assurance=True,
                                                currency="USD", total=Decimal("0.01"), initial_amount=Decimal("0.01")))
    try:
        assert services.take_draw(uow(True), "buyer-001", "TA-200001", NOW).available_after == Decimal("0.00")
        with pytest.raises(Refused) as e:
            services.take_draw(uow(True), "buyer-001", "TA-200002", NOW)
        assert e.value.code == "insufficient_credit"
    finally:
        load(demo)


def load(engine):
    from bot.demo_data import load as reload
    from bot.adapters import orm
    with engine.begin() as conn:
        ids = ["TA-200001", "TA-200002"]
        dids = [r[0] for r in conn.execute(orm.draws.select().with_only_columns(orm.draws.c.draw_id).where(orm.draws.c.order_id.in_(ids)))]
        conn.execute(orm.disbursements.delete().where(orm.disbursements.c.draw_id.in_(dids)))
        conn.execute(orm.payments.delete().where(orm.payments.c.order_id.in_(ids)))
        conn.execute(orm.draws.delete().where(orm.draws.c.order_id.in_(ids)))
        conn.execute(orm.orders.delete().where(orm.orders.c.order_id.in_(ids)))
    reload(engine, TODAY)


def test_refund_goes_against_the_loan_and_keeps_fees_after_48_hours(uow):
    before = services.refund_status(uow(), "buyer-001", "TA-100245", NOW, CFG)
    r = services.book_refund(uow(), "buyer-001", "TA-100245", Decimal("680.00"), NOW, CFG)
    assert r.refunded and r.refunded_amount == Decimal("680.00") and r.refunded_on == NOW.date()
    assert r.loan_outstanding == before.loan_outstanding - Decimal("680.00")
    assert r.fees_reversed == Decimal("0.00")  # the draw is more than 48 hours old
    assert services.credit_line(uow(), "buyer-001").used == Decimal("17700.00")
    with pytest.raises(Refused) as e:
        services.book_refund(uow(), "buyer-001", "TA-100231", Decimal("1"), NOW, CFG)
    assert e.value.code == "not_pay_later"
    with pytest.raises(Refused) as e:
        services.book_refund(uow(), "buyer-001", "TA-100245", r.loan_outstanding + Decimal("0.01"), NOW, CFG)
    assert e.value.code == "refund_exceeds_paid"
    assert services.refund_status(uow(), "buyer-001", "TA-100245", NOW, CFG) == r  # the refusal lost nothing


@pytest.mark.parametrize("after, reversed_", [(dt.timedelta(hours=48), Decimal("297.20")),
                                              (dt.timedelta(hours=48, seconds=1), Decimal("0.00"))])
def test_refund_within_48_hours_reverses_the_billed_fees(uow, after, reversed_):
    """The draw is taken the day before a statement (the line's statements fall on the 22nd), so
    month 1's fee (2% of 17,360.00 less the 50.00 credit = 297.20) is billed inside the window."""
    taken = dt.datetime(2025, 2, 21, 10, 0)
    services.take_draw(uow(True), "buyer-001", "TA-100231", taken, 3, taken.date())
    r = services.book_refund(uow(True), "buyer-001", "TA-100231", Decimal("17360.00"), taken + after, CFG)
    assert r.fees_billed == Decimal("297.20") and r.fees_reversed == reversed_
    assert r.loan_outstanding == Decimal("0.00") and r.refunded_amount == Decimal("17360.00")
    assert services.get_order(uow(), "buyer-001", "TA-100231", TODAY).status == "refunded"
    assert services.credit_line(uow(), "buyer-001").used == Decimal("18380.00")  # back where it was


def test_buyer_summary(uow):
    s = services.buyer_summary(uow(), "buyer-001", CFG)
    assert s.buyer.business_name == "Acme Outdoor Supply LLC" and s.credit_line.available == Decimal("31620.00")
    assert s.application.state == "approved" and len(s.orders) == 6
    with pytest.raises(NotFound):
        services.buyer_summary(uow(), "nobody", CFG)
