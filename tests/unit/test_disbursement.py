import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.disbursement import Disbursement
from bot.domain.errors import RuleViolation

D = dt.date


def dis(completed=None, **kw):
    return Disbursement("DS1", "D1", Decimal("8680"), completed, **kw)


def test_no_money_moves_before_agreement():
    d = dis()
    assert d.state_on(D(2025, 3, 12)) == "awaiting_agreement" and d.expected_by is None
    with pytest.raises(RuleViolation) as e:
        d.mark_arrived(D(2025, 3, 12))
    assert e.value.code == "agreement_not_completed"


def test_window_over_thanksgiving_and_late_edge():
    d = dis(D(2024, 11, 27))
    assert (d.expected_from, d.expected_by) == (D(2024, 11, 29), D(2024, 12, 3))
    assert d.state_on(D(2024, 12, 3)) == "processing"  # 3 working days: not late yet
    assert d.state_on(D(2024, 12, 4)) == "late"  # 4 working days
    assert d.working_days_since_agreement(D(2024, 12, 4)) == 4


def test_window_over_monday_juneteenth():
    d = dis(D(2022, 6, 17))
    assert (d.expected_from, d.expected_by) == (D(2022, 6, 21), D(2022, 6, 23))
    assert d.state_on(D(2022, 6, 23)) == "processing" and d.state_on(D(2022, 6, 24)) == "late"


def test_arrived_and_failed():
    d = dis(D(2025, 3, 3))
    d.mark_arrived(D(2025, 3, 5))
    assert d.state_on(D(2025, 4, 1)) == "arrived"
    f = dis(D(2025, 3, 3))
    f.mark_failed(D(2025, 3, 4))
    assert f.state_on(D(2025, 3, 4)) == "failed"
