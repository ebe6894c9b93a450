"""Availability by time, not by check count (pure).

A monitor's downtime is the time it spent confirmed down (its incidents), so 15 minutes down
in a day is 98.96 % for that day whether it is checked every 10 s or every 5 minutes. The
denominator is the time it was watched: from the first result (or the window start, if later)
to the window end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Sequence

Interval = tuple[datetime, datetime | None]  # (down since, back up at) — None while still down
DAY = timedelta(days=1)


def down_seconds(intervals: Iterable[Interval], start: datetime, end: datetime) -> float:
    """Seconds of [start, end) covered by the down intervals (overlaps counted once)."""
    clipped = sorted((max(s, start), min(e or end, end)) for s, e in intervals)
    total, cursor = 0.0, start
    for s, e in clipped:
        s = max(s, cursor)
        if e > s:
            total += (e - s).total_seconds()
            cursor = e
    return total


def availability(intervals: Iterable[Interval], start: datetime, end: datetime) -> float | None:
    """Percentage of [start, end) not down; None for an empty span."""
    span = (end - start).total_seconds()
    if span <= 0:
        return None
    return max(0.0, 100.0 * (1.0 - down_seconds(intervals, start, end) / span))


def watched_span(window_start: datetime, first_seen: datetime | None, now: datetime) -> tuple[datetime, datetime] | None:
    """The part of a window a monitor was watched: from its first result on, up to now."""
    if first_seen is None:
        return None
    start = max(window_start, first_seen)
    return (start, now) if now > start else None


def daily_availability(intervals: Sequence[Interval], days: Iterable[date], first_seen: datetime | None,
                       now: datetime) -> dict[date, float | None]:
    """Availability of each UTC day (only its watched part: from the first result, up to now)."""
    out: dict[date, float | None] = {}
    for day in days:
        day_start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        span = watched_span(day_start, first_seen, min(day_start + DAY, now))
        out[day] = None if span is None else availability(intervals, *span)
    return out


def display_percent(value: float | None, digits: int) -> float | None:
    """Rounded, except that anything short of 100 never shows as 100."""
    if value is None:
        return None
    rounded = round(value, digits)
    if rounded >= 100.0 and value < 100.0:
        return 100.0 - 10 ** -digits
    return rounded


def percent_text(value: float | None) -> str | None:
    """Two decimals, as `uptime_percentage` ("99.95"); None without data."""
    shown = display_percent(value, 2)
    return None if shown is None else f"{shown:.2f}"
