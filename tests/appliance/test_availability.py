"""Availability by time (pure): hand-computed cases, including gaps, overlaps and clipping."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from appliance.availability import availability, daily_availability, display_percent, down_seconds, watched_span

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_it_counts_15_minutes_down_in_a_day_as_98_96_percent():
    value = availability([(at(9 * 60), at(9 * 60 + 15))], T0, T0 + timedelta(days=1))
    assert round(value, 2) == 98.96


def test_it_clips_intervals_to_the_window_and_counts_overlaps_once():
    intervals = [(at(-30), at(10)), (at(5), at(20)), (at(50), None)]
    assert down_seconds(intervals, at(0), at(60)) == (20 + 10) * 60


def test_it_is_none_for_an_empty_window_and_zero_when_down_throughout():
    assert availability([], at(10), at(10)) is None
    assert availability([(at(-5), None)], at(0), at(60)) == 0.0


def test_it_watches_only_from_the_first_result():
    assert watched_span(at(0), at(30), at(60)) == (at(30), at(60))
    assert watched_span(at(0), None, at(60)) is None
    assert watched_span(at(30), at(0), at(60)) == (at(30), at(60))


def test_it_gives_each_day_its_watched_part():
    intervals = [(at(23 * 60), at(25 * 60))]  # 23:00 to 01:00 the next day
    days = daily_availability(intervals, [date(2026, 3, 2), date(2026, 3, 3)], first_seen=at(12 * 60),
                              now=at(36 * 60))
    assert round(days[date(2026, 3, 2)], 3) == round(100 * (1 - 60 / (12 * 60)), 3)  # watched 12:00-24:00
    assert round(days[date(2026, 3, 3)], 3) == round(100 * (1 - 60 / (12 * 60)), 3)  # 00:00 to now (12:00)


def test_it_never_displays_100_for_anything_short_of_it():
    assert display_percent(99.9999, 2) == 99.99
    assert display_percent(99.995, 3) == 99.995
    assert display_percent(100.0, 2) == 100.0
    assert display_percent(98.958, 2) == 98.96
    assert display_percent(None, 2) is None
