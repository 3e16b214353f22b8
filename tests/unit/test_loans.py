import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.errors import RuleViolation
from bot.domain.loans import Draw, LoanAgreement, fees_billed, principal_parts, schedule, statement_dates
from bot.domain.money import PROCESSING_FEE
from bot.domain.tiers import TIERS, RiskTier

D = dt.date
Q = D(2025, 1, 21)  # qualified: first statement 31 Jan


def test_tiers_are_inside_the_published_ranges():
    for t in TIERS.values():
        assert Decimal("0.0125") <= t.early_rate <= Decimal("0.0275")
        assert Decimal("0.0025") <= t.late_rate <= Decimal("0.0075")
    with pytest.raises(ValueError):
        RiskTier("X", Decimal("0.0124"), Decimal("0.005"))
    with pytest.raises(ValueError):
        RiskTier("X", Decimal("0.02"), Decimal("0.0076"))


def test_fee_on_original_amount_by_tier_and_month():
    rows = schedule(Decimal("10000"), 6, TIERS["B"], Decimal("50.00"), Q, D(2025, 2, 3))
    assert [r.fee for r in rows] == [Decimal("200.00")] * 2 + [Decimal("50.00")] * 4
    rows_c = schedule(Decimal("10000"), 6, TIERS["C"], Decimal("0"), Q, D(2025, 2, 3))
    assert [r.fee for r in rows_c] == [Decimal("275.00")] * 2 + [Decimal("75.00")] * 4


def test_principal_equal_parts_remainder_in_last_month():
    parts = principal_parts(Decimal("100.00"), 3)
    assert parts == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    rows = schedule(Decimal("8680.00"), 6, TIERS["A"], Decimal("50"), Q, D(2025, 2, 3))
    assert sum(r.principal for r in rows) == Decimal("8680.00")
    assert rows[0].principal == Decimal("1446.66") and rows[-1].principal == Decimal("1446.70")


def test_first_month_credit_only_month_one_never_more_than_fee():
    rows = schedule(Decimal("1000"), 6, TIERS["A"], Decimal("50.00"), Q, D(2025, 2, 3))
    assert rows[0].fee == Decimal("12.50") and rows[0].fee_credit == Decimal("12.50")
    assert all(r.fee_credit == 0 for r in rows[1:])
    rows = schedule(Decimal("10000"), 6, TIERS["A"], Decimal("50.00"), Q, D(2025, 2, 3))
    assert rows[0].fee_credit == Decimal("50.00") and rows[0].payment == Decimal("1666.66") + 125 - 50


def test_term_limits():
    assert len(schedule(Decimal("600"), 1, TIERS["A"], Decimal(0), Q, Q)) == 1
    with pytest.raises(RuleViolation) as e:
        schedule(Decimal("600"), 7, TIERS["A"], Decimal(0), Q, Q)
    assert e.value.code == "term_out_of_range"
    with pytest.raises(RuleViolation):
        schedule(Decimal("600"), 0, TIERS["A"], Decimal(0), Q, Q)


def test_draw_amount_edges():
    schedule(Decimal("150000.00"), 6, TIERS["A"], Decimal(0), Q, Q)
    for bad, code in (("150000.01", "amount_above_cap"), ("0", "invalid_amount"), ("-5", "invalid_amount")):
        with pytest.raises(RuleViolation) as e:
            schedule(Decimal(bad), 6, TIERS["A"], Decimal(0), Q, Q)
        assert e.value.code == code


def test_statements_ten_days_after_qualifying_then_monthly_due_21_days_later():
    rows = schedule(Decimal("600"), 6, TIERS["A"], Decimal(0), Q, D(2025, 1, 25))
    assert [r.statement_date for r in rows] == [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31),
                                                D(2025, 4, 30), D(2025, 5, 31), D(2025, 6, 30)]
    assert rows[0].due_date == D(2025, 2, 21)
    # a draw on the statement date itself is billed from the next statement
    assert statement_dates(Q, D(2025, 1, 31), 1) == [D(2025, 2, 28)]


def test_no_processing_fee():
    assert PROCESSING_FEE == 0


def _draw(at):
    return Draw("D1", "L1", "b1", "TA-1", "initial", Decimal("3700"), "A", 6, at, LoanAgreement("AG1", D(2025, 3, 3)))


def test_refund_goes_against_loan_and_reverses_fees_within_48_hours():
    taken = dt.datetime(2025, 3, 3, 9, 0)
    d = _draw(taken)
    r = d.refund(Decimal("700"), taken + dt.timedelta(hours=48), billed_by_then=Decimal("46.25"))
    assert r.applied_to_loan == Decimal("700.00") and r.fees_reversed == Decimal("46.25")
    assert d.principal_outstanding == Decimal("3000.00") and d.refunded == Decimal("700.00")
    assert d.billed_fees == Decimal("46.25") and d.fees_reversed == Decimal("46.25")
    assert d.refunded_at == taken + dt.timedelta(hours=48)


def test_refund_after_48_hours_keeps_fees():
    taken = dt.datetime(2025, 3, 3, 9, 0)
    d = _draw(taken)
    r = d.refund(Decimal("700"), taken + dt.timedelta(hours=48, seconds=1), billed_by_then=Decimal("46.25"))
    assert r.fees_reversed == 0 and d.fees_reversed == 0 and d.billed_fees == Decimal("46.25")
    assert d.principal_outstanding == Decimal("3000.00")


def test_refund_cannot_exceed_what_was_paid():
    d = _draw(dt.datetime(2025, 3, 3))
    with pytest.raises(RuleViolation) as e:
        d.refund(Decimal("3700.01"), dt.datetime(2025, 3, 4))
    assert e.value.code == "refund_exceeds_paid" and "$3,700.00" in e.value.message
    d.refund(Decimal("3000"), dt.datetime(2025, 3, 4))
    with pytest.raises(RuleViolation):
        d.refund(Decimal("700.01"), dt.datetime(2025, 3, 4))
    d.refund(Decimal("700"), dt.datetime(2025, 3, 4))
    assert d.repaid


def test_fees_count_as_billed_on_their_statement_date():
    """Month 1's fee (net of the first-month credit) is billed at 00:00 UTC of statement 1."""
    rows = schedule(Decimal("6000"), 6, TIERS["B"], Decimal("50"), Q, D(2025, 1, 25))
    assert rows[0].statement_date == D(2025, 1, 31)
    before = dt.datetime(2025, 1, 30, 23, 59, 59)
    assert fees_billed(rows, before) == 0
    assert fees_billed(rows, dt.datetime(2025, 1, 31)) == Decimal("70.00")  # 120.00 - 50.00 credit
    assert fees_billed(rows, dt.datetime(2025, 3, 1)) == Decimal("190.00")  # + month 2: 120.00
    assert fees_billed(rows, dt.datetime(2026, 1, 1)) == Decimal("310.00")  # + 4 x 30.00
    # a loan refunded in full bills nothing after that
    assert fees_billed(rows, dt.datetime(2026, 1, 1), until=dt.datetime(2025, 2, 1)) == Decimal("70.00")


def test_draw_fees_billed_stop_once_refunded_in_full():
    taken = dt.datetime(2025, 1, 30, 10, 0)  # statement 1 is the next day
    d = Draw("D1", "L1", "b1", "TA-1", "initial", Decimal("6000"), "B", 6, taken, LoanAgreement("AG1", D(2025, 1, 30)))
    rows = d.schedule(TIERS["B"], Decimal("50"), Q)
    at = taken + dt.timedelta(hours=48)
    r = d.refund(Decimal("6000"), at, d.fees_billed(rows, at))
    assert r.fees_reversed == Decimal("70.00") and d.repaid
    assert d.fees_billed(rows, dt.datetime(2026, 1, 1)) == Decimal("70.00")


def test_huge_and_odd_amounts_are_refused_not_crashing():
    with pytest.raises(RuleViolation) as e:
        schedule(Decimal("1e400"), 6, TIERS["A"], Decimal(0), Q, Q)
    assert e.value.code == "amount_above_cap"
    with pytest.raises(RuleViolation) as e:
        schedule(Decimal("NaN"), 6, TIERS["A"], Decimal(0), Q, Q)
    assert e.value.code == "invalid_amount"


def test_refund_before_the_loan_is_refused():
    d = _draw(dt.datetime(2025, 3, 3, 9, 0))
    with pytest.raises(RuleViolation) as e:
        d.refund(Decimal("1"), dt.datetime(2025, 3, 3, 8, 59))
    assert e.value.code == "refund_before_loan" and d.refunded == 0
