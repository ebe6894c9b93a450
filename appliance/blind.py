"""Blind spans: the times this appliance could not take pushed results (heartbeat calls).

A job that calls its heartbeat URL while the appliance is stopped, restarting, or too saturated
to accept the call has done nothing wrong. Every such span is recorded here, and a heartbeat
deadline is pushed back by the blind time that fell inside the wait, so the appliance never
blames a job for its own trouble. Pure and thread-safe; the clock is the caller's.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

KEEP = timedelta(days=2)  # longer than any heartbeat wait (interval ≤ 24 h, grace ≤ 24 h)


class BlindSpans:
    def __init__(self, keep: timedelta = KEEP):
        self.keep = keep
        self._lock = threading.Lock()
        self._spans: list[tuple[datetime, datetime]] = []  # sorted by start, not overlapping

    def add(self, start: datetime, end: datetime) -> None:
        if end <= start:
            return
        with self._lock:
            merged = []
            for s, e in self._spans:
                if e < start or s > end:
                    merged.append((s, e))
                else:  # overlaps or touches: absorb it
                    start, end = min(s, start), max(e, end)
            merged.append((start, end))
            merged.sort()
            horizon = end - self.keep
            self._spans = [(s, e) for s, e in merged if e >= horizon]

    def seconds_within(self, start: datetime, end: datetime) -> float:
        """Blind seconds inside [start, end)."""
        with self._lock:
            spans = list(self._spans)
        total = 0.0
        for s, e in spans:
            lo, hi = max(s, start), min(e, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        return total

    def spans(self) -> list[tuple[datetime, datetime]]:
        with self._lock:
            return list(self._spans)
