"""Maintenance windows (pure): whether a window is on at a moment, and which monitors are under
maintenance now. During a window checks go on and are stored, but no incident opens and no down
alert is sent (the engine asks `Calendar.covers`).

Weekly windows are wall-clock times in their own time zone, so "Sunday 02:00 Europe/Berlin"
stays at 02:00 across daylight-saving changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.timeutil import as_utc

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DURATION_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Window:
    id: int
    user_id: int
    monitor_ids: frozenset[int]
    starts_at: datetime | None = None  # one-off
    ends_at: datetime | None = None
    weekdays: tuple[int, ...] = ()  # weekly: 0 = Monday
    start: time | None = None
    duration: timedelta | None = None
    zone: ZoneInfo | None = None

    @classmethod
    def from_record(cls, row) -> "Window":
        recurring = row.recurring or None
        if recurring:
            hours, minutes = (int(part) for part in recurring["start"].split(":"))
            return cls(row.id, row.user_id, frozenset(row.monitor_ids),
                       weekdays=tuple(WEEKDAYS.index(d) for d in recurring["weekdays"]),
                       start=time(hours, minutes), duration=timedelta(minutes=recurring["duration_minutes"]),
                       zone=ZoneInfo(recurring["timezone"]))
        return cls(row.id, row.user_id, frozenset(row.monitor_ids), starts_at=as_utc(row.starts_at),
                   ends_at=as_utc(row.ends_at))

    def is_active(self, now: datetime) -> bool:
        return any(start <= now < end for start, end in self.occurrences(now, now + timedelta(seconds=1)))

    def occurrences(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The window's periods overlapping [start, end), in UTC."""
        if self.starts_at is not None:
            return [(self.starts_at, self.ends_at)] if self.starts_at < end and self.ends_at > start else []
        out = []
        first = start.astimezone(self.zone).date() - timedelta(days=7)
        last = end.astimezone(self.zone).date()
        day = first
        while day <= last:
            if day.weekday() in self.weekdays:
                begin = _local(day, self.start, self.zone)
                finish = begin + self.duration
                if begin < end and finish > start:
                    out.append((begin, finish))
            day += timedelta(days=1)
        return out


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time in a zone, as an aware datetime (UTC arithmetic afterwards)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def schedule_problems(fields: dict) -> dict[str, str]:
    """Problems with a window's schedule, by field name: exactly one kind (one-off or weekly), an
    end after the start, a known time zone, no day twice."""
    problems: dict[str, str] = {}
    one_off = fields.get("starts_at") is not None or fields.get("ends_at") is not None
    recurring = fields.get("recurring")
    if one_off and recurring:
        problems["recurring"] = "give either starts_at/ends_at (one-off) or recurring (weekly), not both"
    elif not one_off and not recurring:
        problems["starts_at"] = "give starts_at and ends_at for a one-off window, or recurring for a weekly one"
    elif one_off:
        if fields.get("starts_at") is None or fields.get("ends_at") is None:
            problems["ends_at" if fields.get("ends_at") is None else "starts_at"] = "is required with the other"
        elif fields["ends_at"] <= fields["starts_at"]:
            problems["ends_at"] = "must be after starts_at"
    else:
        problems.update(check_recurring(recurring))
        if len(set(recurring["weekdays"])) != len(recurring["weekdays"]):
            problems["recurring.weekdays"] = "lists a day twice"
    return problems


def check_recurring(recurring: dict) -> dict[str, str]:
    """Problems with a weekly window's fields, by field name (empty: fine)."""
    problems = {}
    try:
        ZoneInfo(recurring["timezone"])
    except (ZoneInfoNotFoundError, ValueError, KeyError, OSError):  # OSError: "Europe" is a folder
        problems["recurring.timezone"] = "is not a known time zone (like Europe/Berlin or UTC)"
    return problems


class Calendar:
    """The windows in force, by monitor; reloaded whenever windows change."""

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: list[Window] = []
        self._by_monitor: dict[int, list[Window]] = {}

    def load(self, windows: Iterable[Window]) -> None:
        by_monitor: dict[int, list[Window]] = {}
        windows = list(windows)
        for window in windows:
            for monitor_id in window.monitor_ids:
                by_monitor.setdefault(monitor_id, []).append(window)
        with self._lock:
            self._windows, self._by_monitor = windows, by_monitor

    def covers(self, monitor_id: int, now: datetime) -> bool:
        windows = self._by_monitor.get(monitor_id)
        return bool(windows) and any(w.is_active(now) for w in windows)

    def periods(self, monitor_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return [p for w in self._by_monitor.get(monitor_id, ()) for p in w.occurrences(start, end)]
