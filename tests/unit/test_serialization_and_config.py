import datetime as dt
import json
from decimal import Decimal

import pytest

from bot.adapters.serialization import from_json, to_json
from bot.config import Settings
from bot.ports import (ApplicationView, BuyerSummary, BuyerView, CreditLineView, OrderView, PaymentView, QuoteView,
                       Reason, ScheduleRow)
from bot.service_layer.services import ServiceConfig


def test_views_round_trip_through_json():
    summary = BuyerSummary(
        BuyerView("buyer-001", "Acme", "US"),
        ApplicationView("APP-1", "approved", "ok", "Kabbage", Decimal("50000"), Decimal("50000"), None,
                        (Reason("limit_reduced_to_cap", "x"),), False, dt.date(2025, 3, 12)),
        CreditLineView("Kabbage", "USD", Decimal("50000"), Decimal("18380"), Decimal("31620"), "B"),
        (OrderView("TA-1", True, "USD", Decimal("10"), Decimal("3"), Decimal("7"), "awaiting_balance", "t",
                   (PaymentView("initial", Decimal("3"), "USD", "paid", "tt", dt.date(2025, 3, 1)),), None),),
    )
    data = json.loads(json.dumps(to_json(summary)))
    assert data["credit_line"]["available"] == "31620.00"
    assert data["application"]["updated_on"] == "2025-03-12" and isinstance(data["orders"], list)
    assert from_json(BuyerSummary, data) == summary


def test_quote_round_trip_and_no_floats():
    q = QuoteView(Decimal("100"), "USD", 1, "A", (ScheduleRow(1, dt.date(2025, 1, 31), dt.date(2025, 2, 21),
                  Decimal("100"), Decimal("1.25"), Decimal("1.25"), Decimal("100")),), Decimal("1.25"),
                  Decimal("1.25"), Decimal("100"), None, ("n",))
    assert from_json(QuoteView, to_json(q)) == q
    with pytest.raises(ValueError):
        from_json(CreditLineView, {**to_json(summary_line()), "limit": 50000.0})
    with pytest.raises(TypeError):
        to_json(1.5)


def summary_line():
    return CreditLineView("Kabbage", "USD", Decimal("1"), Decimal("0"), Decimal("1"), "A")


def test_first_month_credit_is_a_setting(monkeypatch):
    monkeypatch.delenv("PAYLATER_FIRST_MONTH_CREDIT", raising=False)
    assert ServiceConfig.from_settings(Settings()).first_month_credit == Decimal("50.00")
    monkeypatch.setenv("PAYLATER_FIRST_MONTH_CREDIT", "75")
    assert ServiceConfig.from_settings(Settings()).first_month_credit == Decimal("75.00")
    assert ServiceConfig.from_settings(Settings(extra={"first_month_credit": "20.5"})).first_month_credit == Decimal("20.50")


def test_format_money_is_the_one_formatter():
    from decimal import Decimal as D

    from bot.domain.money import fmt_usd, format_money, money
    assert format_money(D("31620"), "USD") == "$31,620.00" == fmt_usd(D("31620"))
    assert format_money(D("3150"), "EUR") == "EUR 3,150.00"
    assert format_money(D("100.005"), "USD") == "$100.01" and money(D("100.005")) == D("100.01")
    assert format_money(D("-50"), "USD") == "-$50.00"
    assert money("2.675") == D("2.68")  # half-up, where float rounding would give 2.67


def test_json_never_goes_through_float():
    import json
    from decimal import Decimal as D

    import pytest as _pytest

    from bot.adapters.serialization import from_json, to_json
    from bot.ports import QuoteView
    q = QuoteView(D("100.005"), "USD", 1, "B", (), D("0"), D("0"), D("100.005"), None)
    data = to_json(q)
    assert data["amount"] == "100.01" and data["total_repayable"] == "100.01"
    assert not any(isinstance(v, float) for v in data.values()) and "100.01" in json.dumps(data)
    with _pytest.raises(ValueError):
        from_json(QuoteView, {**data, "amount": 100.01})  # a JSON float is refused, not rounded
    assert from_json(QuoteView, data).amount == D("100.01")
