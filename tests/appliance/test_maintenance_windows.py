"""Maintenance windows (pure): one-off and weekly, in the window's own time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from appliance.maintenance import Calendar, Window

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def weekly(days, start, minutes, zone=BERLIN, monitors=(1,)):
    return Window(id=1, user_id=1, monitor_ids=frozenset(monitors), weekdays=tuple(days), start=start,
                  duration=timedelta(minutes=minutes), zone=zone)


def test_a_one_off_window_is_on_between_its_start_and_end():
    window = Window(1, 1, frozenset({1}), starts_at=datetime(2026, 3, 1, 22, tzinfo=UTC),
                    ends_at=datetime(2026, 3, 1, 23, tzinfo=UTC))
    assert not window.is_active(datetime(2026, 3, 1, 21, 59, tzinfo=UTC))
    assert window.is_active(datetime(2026, 3, 1, 22, 0, tzinfo=UTC))
    assert window.is_active(datetime(2026, 3, 1, 22, 59, tzinfo=UTC))
    assert not window.is_active(datetime(2026, 3, 1, 23, 0, tzinfo=UTC))


def test_a_weekly_window_follows_wall_clock_time_across_daylight_saving():
    window = weekly([6], time(2, 30), 60)  # Sundays 02:30-03:30 Berlin time
    # Winter (UTC+1): 01:30-02:30 UTC. Summer (UTC+2): 00:30-01:30 UTC.
    assert window.is_active(datetime(2026, 1, 11, 1, 45, tzinfo=UTC))
    assert not window.is_active(datetime(2026, 1, 11, 0, 45, tzinfo=UTC))
    assert window.is_active(datetime(2026, 7, 12, 0, 45, tzinfo=UTC))
    assert not window.is_active(datetime(2026, 7, 12, 1, 45, tzinfo=UTC))
    assert not window.is_active(datetime(2026, 7, 13, 0, 45, tzinfo=UTC))  # a Monday


def test_a_weekly_window_may_cross_midnight():
    window = weekly([4], time(23, 0), 120, zone=UTC)  # Friday 23:00 to Saturday 01:00
    assert window.is_active(datetime(2026, 3, 7, 0, 30, tzinfo=UTC))  # Saturday 00:30
    assert not window.is_active(datetime(2026, 3, 7, 1, 30, tzinfo=UTC))


def test_occurrences_list_the_periods_in_a_range():
    window = weekly([0, 2], time(6, 0), 30, zone=UTC)  # Mondays and Wednesdays
    periods = window.occurrences(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    assert [p[0].isoformat() for p in periods] == ["2026-03-02T06:00:00+00:00", "2026-03-04T06:00:00+00:00"]


def test_the_calendar_covers_only_the_windows_monitors():
    calendar = Calendar()
    calendar.load([weekly(range(7), time(0, 0), 24 * 60, zone=UTC, monitors=(1, 2))])
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert calendar.covers(1, now) and calendar.covers(2, now)
    assert not calendar.covers(3, now)
    calendar.load([])
    assert not calendar.covers(1, now)
