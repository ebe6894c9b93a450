"""Rolling 24-hour uptime per monitor, kept in memory and updated on every result (O(1)), so
the monitor list never rescans the history. Rebuilt from the history's hourly counts at start.

Results are counted in hourly buckets; the oldest bucket is weighted by the part of its hour
that is still inside the window, so the figure slides smoothly instead of jumping each hour.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Iterable

HOUR = 3600


class UptimeCounter:
    def __init__(self, window_hours: int = 24):
        self.window = window_hours * HOUR
        self._lock = threading.Lock()
        self._buckets: dict[int, dict[int, list[int]]] = {}  # monitor -> hour start -> [checks, failures]

    def add(self, monitor_id: int, at: datetime, up: bool) -> None:
        hour = int(at.timestamp()) // HOUR * HOUR
        with self._lock:
            buckets = self._buckets.setdefault(monitor_id, {})
            bucket = buckets.get(hour)
            if bucket is None:
                bucket = buckets[hour] = [0, 0]
                self._prune(buckets, hour)
            bucket[0] += 1
            if not up:
                bucket[1] += 1

    def load(self, rows: Iterable[tuple[int, datetime, int, int]]) -> None:
        """(monitor_id, hour start, checks, failures) rows, e.g. from HistoryStore.hourly_counts."""
        with self._lock:
            for monitor_id, hour_start, checks, failures in rows:
                hour = int(hour_start.timestamp()) // HOUR * HOUR
                bucket = self._buckets.setdefault(monitor_id, {}).setdefault(hour, [0, 0])
                bucket[0] += checks
                bucket[1] += failures

    def window_counts(self, monitor_id: int, now: datetime) -> tuple[float, float]:
        """(checks, failures) over the window ending now; the oldest hour weighted."""
        start = now.timestamp() - self.window
        checks = failures = 0.0
        with self._lock:
            for hour, (c, f) in (self._buckets.get(monitor_id) or {}).items():
                if hour + HOUR <= start:
                    continue
                weight = 1.0 if hour >= start else (hour + HOUR - start) / HOUR
                checks += c * weight
                failures += f * weight
        return checks, failures

    def percent(self, monitor_id: int, now: datetime) -> float | None:
        checks, failures = self.window_counts(monitor_id, now)
        if checks <= 0:
            return None
        return 100.0 * (checks - failures) / checks

    def discard(self, monitor_id: int) -> None:
        with self._lock:
            self._buckets.pop(monitor_id, None)

    def _prune(self, buckets: dict[int, list[int]], newest: int) -> None:
        cutoff = newest - self.window - HOUR
        for hour in [h for h in buckets if h < cutoff]:
            del buckets[hour]
