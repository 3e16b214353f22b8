"""Business hours: open or not, when the team is back, and what the buyer is told."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.gateway.hours import BusinessHours

NY = "America/New_York"


def utc(*a):
    return dt.datetime(*a, tzinfo=dt.timezone.utc)


def test_empty_spec_is_always_open():
    assert BusinessHours.parse("", NY) is None


def test_open_inside_the_hours_in_the_teams_time_zone():
    h = BusinessHours.parse("mon-fri 09:00-18:00", NY)
    # Monday 30 Nov 2026, 14:00 UTC = 09:00 in New York (EST, UTC-5)
    assert h.is_open(utc(2026, 11, 30, 14, 0))
    assert not h.is_open(utc(2026, 11, 30, 13, 59))
    assert not h.is_open(utc(2026, 11, 30, 23, 0))  # 18:00 New York: closed
    assert not h.is_open(utc(2026, 12, 5, 15, 0))  # Saturday


def test_the_buyer_is_told_when_the_team_is_back():
    h = BusinessHours.parse("mon-fri 09:00-18:00; sat 10:00-14:00", NY)
    early = h.away_notice(utc(2026, 11, 30, 12, 0))  # Monday 07:00 New York
    assert "back today at 09:00 (New York time)" in early
    assert "waits in the queue" in early
    assert "back tomorrow at 09:00" in h.away_notice(utc(2026, 12, 1, 0, 0))  # Monday 19:00
    assert "back tomorrow at 10:00" in h.away_notice(utc(2026, 12, 4, 23, 30))  # Friday 18:30 -> Saturday
    assert "back on Monday at 09:00" in h.away_notice(utc(2026, 12, 5, 20, 0))  # Saturday 15:00


@pytest.mark.parametrize("spec,tz", [("weekdays 9-5", NY), ("mon-fri 18:00-09:00", NY), ("mon 25:00-26:00", NY),
                                     ("mon-fri 09:00-18:00", "Mars/Olympus")])
def test_a_wrong_setting_says_what_is_wrong(spec, tz):
    with pytest.raises(ValueError, match="PAYLATER_BUSINESS"):
        BusinessHours.parse(spec, tz)
