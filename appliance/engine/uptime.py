"""Rolling 24-hour availability per monitor, kept in memory so the monitor list never rescans
history: each monitor's recent down intervals and since when it is watched, updated on
transitions (not on every check), rebuilt from incidents and the history at start.

A monitor is watched from its first verdict: its first successful check, or its first confirmed
down. Failed checks before that are not confirmed yet and say nothing about availability, so a
monitor whose only check failed has no uptime (None), not 100 %.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Iterable

from appliance.availability import Interval, availability, watched_span

WINDOW = timedelta(hours=24)


class DowntimeLedger:
    def __init__(self, window: timedelta = WINDOW):
        self.window = window
        self._lock = threading.Lock()
        self._first_seen: dict[int, datetime] = {}
        self._down: dict[int, list[list]] = {}  # monitor -> [[start, end or None], ...]

    def seen(self, monitor_id: int, at: datetime) -> None:
        """A successful result arrived (cheap: a dict lookup once the monitor is known)."""
        if monitor_id not in self._first_seen:
            with self._lock:
                self._first_seen.setdefault(monitor_id, at)

    def went_down(self, monitor_id: int, at: datetime) -> None:
        with self._lock:
            self._first_seen.setdefault(monitor_id, at)  # a confirmed down is a verdict too
            intervals = self._down.setdefault(monitor_id, [])
            if not intervals or intervals[-1][1] is not None:
                intervals.append([at, None])
            self._prune(intervals, at)

    def came_back(self, monitor_id: int, at: datetime) -> None:
        with self._lock:
            intervals = self._down.get(monitor_id)
            if intervals and intervals[-1][1] is None:
                intervals[-1][1] = at

    def load(self, first_seen: dict[int, datetime], intervals: Iterable[tuple[int, datetime, datetime | None]]) -> None:
        with self._lock:
            for monitor_id, at in first_seen.items():
                self._first_seen.setdefault(monitor_id, at)
            for monitor_id, start, end in sorted(intervals, key=lambda row: row[1]):
                self._down.setdefault(monitor_id, []).append([start, end])
                known = self._first_seen.get(monitor_id)
                if known is None or start < known:  # confirmed down before its first success
                    self._first_seen[monitor_id] = start

    def percent(self, monitor_id: int, now: datetime) -> float | None:
        """Availability over the window ending now; None before the first result."""
        first_seen = self._first_seen.get(monitor_id)
        if first_seen is not None and not self._down.get(monitor_id):
            return 100.0  # never down in the window: the common case, no arithmetic
        with self._lock:
            span = watched_span(now - self.window, first_seen, now)
            intervals: list[Interval] = [(s, e) for s, e in self._down.get(monitor_id, ())]
        if span is None:
            return None if monitor_id not in self._first_seen else self._instant(intervals)
        return availability(intervals, *span)

    def forget(self, monitor_id: int) -> None:
        with self._lock:
            self._first_seen.pop(monitor_id, None)
            self._down.pop(monitor_id, None)

    def restart_watch(self, monitor_id: int) -> None:
        """Paused and resumed: the time it was not watched is not counted either way."""
        self.forget(monitor_id)

    @staticmethod
    def _instant(intervals: list[Interval]) -> float:
        return 0.0 if intervals and intervals[-1][1] is None else 100.0

    def _prune(self, intervals: list[list], now: datetime) -> None:
        cutoff = now - self.window - timedelta(hours=1)
        while len(intervals) > 1 and intervals[0][1] is not None and intervals[0][1] < cutoff:
            intervals.pop(0)
