"""Business hours of the support team, e.g. "mon-fri 09:00-18:00; sat 10:00-14:00" in a time zone.

Outside them a buyer who asks for a person is told when the team is back, and their message
waits in the queue. Empty spec: always open (the default).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SEGMENT = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Segment:
    days: Tuple[int, ...]  # 0 = Monday
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True)
class BusinessHours:
    segments: Tuple[Segment, ...]
    tz: ZoneInfo
    spec: str

    @classmethod
    def parse(cls, spec: str, tz: str = "UTC") -> Optional["BusinessHours"]:
        """None for an empty spec (always open); ValueError with a sentence for a wrong one."""
        spec = (spec or "").strip().lower()
        if not spec:
            return None
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"PAYLATER_BUSINESS_TZ: unknown time zone {tz!r} (e.g. America/New_York)")
        segments = []
        for part in (p.strip() for p in spec.split(";") if p.strip()):
            m = _SEGMENT.match(part)
            if not m:
                raise ValueError(f"PAYLATER_BUSINESS_HOURS: {part!r} is not like 'mon-fri 09:00-18:00'")
            first, last = DAYS.index(m.group(1)), DAYS.index(m.group(2) or m.group(1))
            days = tuple(range(first, last + 1)) if first <= last else tuple(list(range(first, 7)) + list(range(0, last + 1)))
            try:
                opens, closes = dt.time(int(m.group(3)), int(m.group(4))), dt.time(int(m.group(5)), int(m.group(6)))
            except ValueError:
                raise ValueError(f"PAYLATER_BUSINESS_HOURS: {part!r} has an impossible time")
            if closes <= opens:
                raise ValueError(f"PAYLATER_BUSINESS_HOURS: {part!r} closes before it opens")
            segments.append(Segment(days, opens, closes))
        return cls(tuple(segments), zone, spec)

    def _local(self, now_utc: dt.datetime) -> dt.datetime:
        if now_utc.tzinfo is None:
            now_utc = now_utc.replace(tzinfo=dt.timezone.utc)
        return now_utc.astimezone(self.tz)

    def is_open(self, now_utc: dt.datetime) -> bool:
        local = self._local(now_utc)
        return any(local.weekday() in s.days and s.opens <= local.time() < s.closes for s in self.segments)

    def next_opening(self, now_utc: dt.datetime) -> dt.datetime:
        """The next moment the team opens (local time), strictly after `now_utc` when closed."""
        local = self._local(now_utc)
        for ahead in range(0, 8):
            day = (local + dt.timedelta(days=ahead)).date()
            starts = sorted(s.opens for s in self.segments if day.weekday() in s.days)
            for t in starts:
                candidate = dt.datetime.combine(day, t, tzinfo=self.tz)
                if candidate > local:
                    return candidate
        raise ValueError("no opening hours in the week")

    def away_notice(self, now_utc: dt.datetime) -> str:
        local, opening = self._local(now_utc), self.next_opening(now_utc)
        days = (opening.date() - local.date()).days
        when = ("today" if days == 0 else "tomorrow" if days == 1 else f"on {DAY_NAMES[opening.weekday()]}")
        city = str(self.tz).split("/")[-1].replace("_", " ")
        return (f"Our support team is away right now. They're back {when} at {opening:%H:%M} ({city} time). "
                "Leave your question here: it waits in the queue, and an agent will reply in this chat.")
