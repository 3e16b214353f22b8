"""Working days: Monday to Friday except US federal holidays (5 U.S.C. 6103, Juneteenth from
2021) with the Federal Reserve's observance rule.

The Federal Reserve observes a holiday that falls on a Sunday on the following Monday, and does
NOT observe one that falls on a Saturday (unlike OPM, which moves it to the Friday). holidays 0.86
has no Federal Reserve calendar (its financial calendars are NYSE, ECB, B3, ICE, NSE), so the
federal list comes from `holidays.US(categories=GOVERNMENT, observed=False)` and the Fed rule is
applied here. (`holidays` is a plain data library, not a framework.)
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import FrozenSet

import holidays
from holidays.constants import GOVERNMENT

ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=64)
def federal_reserve_holidays(year: int) -> FrozenSet[dt.date]:
    """Dates on which the Federal Reserve is closed in `year` (observed dates)."""
    days = set()
    for y in (year - 1, year, year + 1):  # Sunday Dec 31 -> Monday Jan 1 etc.
        for day in holidays.US(years=y, categories=(GOVERNMENT,), observed=False):
            if day.weekday() == 6:  # Sunday -> Monday
                day = day + ONE_DAY
            elif day.weekday() == 5:  # Saturday -> not observed
                continue
            if day.year == year:
                days.add(day)
    return frozenset(days)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in federal_reserve_holidays(day.year)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (start itself is not counted)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day, left = start, n
    while left:
        day += ONE_DAY
        if is_working_day(day):
            left -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; 0 when end <= start."""
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        if is_working_day(day):
            count += 1
    return count


def working_days_before(today: dt.date, n: int) -> dt.date:
    """The working day d with working_days_between(d, today) == n ("n working days ago")."""
    day, counted = today, 0
    while counted < n:
        if is_working_day(day):
            counted += 1
        day -= ONE_DAY
    while not is_working_day(day):
        day -= ONE_DAY
    return day
