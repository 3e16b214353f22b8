import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.credit import CREDIT_CAP, CreditApplication, CreditLine, cap_limit, eligibility_findings
from bot.domain.errors import RuleViolation

TODAY = dt.date(2025, 3, 12)


def codes(findings):
    return [f.code for f in findings]


def test_eligibility_exact_edges_pass():
    assert eligibility_findings(True, Decimal("1"), Decimal("50000.00")) == []


def test_eligibility_just_below_edges_fail_with_all_reasons():
    found = eligibility_findings(False, Decimal("0.99"), Decimal("49999.99"))
    assert codes(found) == ["not_us_business", "too_young", "revenue_too_low"]


def test_limit_exactly_cap_is_kept():
    assert cap_limit(Decimal("150000.00")) == (CREDIT_CAP, None)


def test_limit_above_cap_is_reduced_with_reason():
    limit, why = cap_limit(Decimal("150000.01"))
    assert limit == CREDIT_CAP and why.code == "limit_reduced_to_cap" and "$150,000.00" in why.message


def test_limit_must_be_positive():
    with pytest.raises(RuleViolation):
        cap_limit(Decimal("0"))


def test_application_lifecycle():
    app = CreditApplication.start("A1", "b1", "Acme", True, Decimal("3"), Decimal("250000"), Decimal("200000"), TODAY)
    assert app.state == "waiting_for_account_linking" and app.offered_limit == CREDIT_CAP
    assert codes(app.reasons) == ["limit_reduced_to_cap"]
    app.move_to("under_review", TODAY)
    app.move_to("approved", TODAY)
    with pytest.raises(RuleViolation):
        app.move_to("declined", TODAY)


def test_ineligible_application_is_declined_with_reasons():
    app = CreditApplication.start("A1", "b3", "Nordlicht", False, Decimal("5"), Decimal("1000000"), Decimal("10000"), TODAY)
    assert app.state == "declined" and app.offered_limit is None and codes(app.reasons) == ["not_us_business"]


def test_cannot_skip_account_linking():
    app = CreditApplication("A1", "b1", "x", True, Decimal(1), Decimal(1), Decimal(1))
    with pytest.raises(RuleViolation):
        app.move_to("approved", TODAY)


def test_line_limit_cap_exactly_ok_above_refused():
    CreditLine("L", "b", Decimal("150000.00"), Decimal("0"), "A", TODAY)
    with pytest.raises(RuleViolation) as e:
        CreditLine("L", "b", Decimal("150000.01"), Decimal("0"), "A", TODAY)
    assert e.value.code == "limit_above_cap"


def test_draw_exactly_available_then_one_cent_over():
    line = CreditLine("L", "b", Decimal("50000"), Decimal("18380.00"), "A", TODAY)
    assert line.available == Decimal("31620.00")
    with pytest.raises(RuleViolation) as e:
        line.draw(Decimal("31620.01"))
    assert e.value.code == "insufficient_credit"
    line.draw(Decimal("31620.00"))
    assert line.used == line.limit and line.available == 0
    with pytest.raises(RuleViolation):
        line.draw(Decimal("0.01"))


def test_business_on_file_every_reason_before_any_question():
    from bot.domain.credit import business_findings
    assert codes(business_findings("DE", Decimal("12"), Decimal("2500000"))) == ["not_us_business"]
    assert codes(business_findings("US", Decimal("0.5"), Decimal("10000"))) == ["too_young", "revenue_too_low"]
    assert business_findings("US", None, None) == []  # unknown on file: asked later, not failed
    # what the buyer says fills in what is not on file; the country on file stays authoritative
    assert codes(business_findings("DE", said_us_based=True)) == ["not_us_business"]
    assert codes(business_findings("US", said_us_based=False)) == ["not_us_business"]
    assert codes(business_findings(None, said_us_based=True, said_years=Decimal("0"))) == ["too_young"]


def test_start_uses_the_country_on_file_and_gives_every_reason():
    app = CreditApplication.start("A2", "b3", "Nordlicht", True, Decimal("0.5"), Decimal("10000"), Decimal("200000"),
                                  TODAY, country_on_file="DE")
    assert app.state == "declined" and codes(app.reasons) == ["not_us_business", "too_young", "revenue_too_low"]
