import datetime as dt

from bot.domain.calendar import (add_working_days, federal_reserve_holidays, is_working_day,
                                 working_days_before, working_days_between)

D = dt.date


def test_weekends_are_not_working_days():
    assert is_working_day(D(2025, 3, 14))  # Friday
    assert not is_working_day(D(2025, 3, 15))
    assert not is_working_day(D(2025, 3, 16))


def test_thanksgiving_inside_disbursement_window():
    # agreement on the Wednesday before Thanksgiving 2024: Thu 28 is a holiday
    wed = D(2024, 11, 27)
    assert add_working_days(wed, 1) == D(2024, 11, 29)
    assert add_working_days(wed, 3) == D(2024, 12, 3)


def test_friday_before_monday_juneteenth_observance():
    # Juneteenth 2022 fell on a Sunday: the Fed observed it on Monday 20 June
    assert not is_working_day(D(2022, 6, 20))
    assert add_working_days(D(2022, 6, 17), 1) == D(2022, 6, 21)
    assert add_working_days(D(2022, 6, 17), 3) == D(2022, 6, 23)


def test_juneteenth_only_from_2021():
    assert is_working_day(D(2020, 6, 19))  # Friday, not yet a federal holiday
    assert not is_working_day(D(2024, 6, 19))


def test_fed_rule_saturday_holiday_not_observed_on_friday():
    # Christmas 2021 and New Year 2022 fell on Saturdays: OPM observed Fri 24 and Fri 31, the Fed did not
    assert is_working_day(D(2021, 12, 24))
    assert is_working_day(D(2021, 12, 31))
    assert is_working_day(D(2026, 7, 3))  # Independence Day 2026 is a Saturday


def test_fed_rule_sunday_holiday_observed_monday():
    assert not is_working_day(D(2023, 1, 2))  # New Year 2023 on Sunday
    assert not is_working_day(D(2022, 12, 26))


def test_all_federal_holidays_present():
    assert len(federal_reserve_holidays(2024)) == 11  # all on weekdays in 2024


def test_working_days_between_and_before():
    assert working_days_between(D(2024, 11, 27), D(2024, 12, 3)) == 3
    assert working_days_between(D(2024, 11, 27), D(2024, 11, 27)) == 0
    today = D(2025, 3, 12)  # Wednesday
    assert working_days_before(today, 1) == D(2025, 3, 11)
    assert working_days_before(today, 5) == D(2025, 3, 5)
    sat = D(2025, 3, 15)
    assert working_days_between(working_days_before(sat, 1), sat) == 1
    for n in range(0, 12):
        d = working_days_before(D(2024, 12, 2), n)
        assert is_working_day(d) and working_days_between(d, D(2024, 12, 2)) == n
