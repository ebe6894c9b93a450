"""Scheduler: a heap of next-due times feeding a bounded pool of worker threads.

- Drift-free: the next run is planned at the previous *planned* time + interval, not at the
  finish time, so a slow check does not push a monitor's schedule back.
- Spread start: a monitor's first run lands at a fixed fraction of its interval (golden-ratio
  spacing by id), so a restart with thousands of monitors neither stampedes nor crawls.
- No overlap: a slot that comes due while the previous run of that monitor is still going is
  skipped (and counted).
- tick(now) is one step with an injected clock, so the schedule is tested without sleeping.
"""

from __future__ import annotations

import heapq
import logging
import math
import queue
import threading
import time
from typing import Callable

from appliance.spec import MonitorSpec

log = logging.getLogger("statuscore.engine")

_GOLDEN = (math.sqrt(5) - 1) / 2


def spread_offset(monitor_id: int, interval: float) -> float:
    """Where in its interval a monitor's first run lands: evenly spaced for sequential ids."""
    return ((monitor_id * _GOLDEN) % 1.0) * interval


class LagRecorder:
    """The most recent schedule lags (actual start - planned start), for percentiles."""

    def __init__(self, size: int = 20_000):
        self._size = size
        self._values: list[float] = []
        self._next = 0
        self._lock = threading.Lock()

    def record(self, lag: float) -> None:
        with self._lock:
            if len(self._values) < self._size:
                self._values.append(lag)
            else:
                self._values[self._next] = lag
                self._next = (self._next + 1) % self._size

    def percentile(self, p: float) -> float | None:
        with self._lock:
            values = sorted(self._values)
        if not values:
            return None
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._next = 0


class WorkerPool:
    """Fixed daemon threads: a stop never waits for a check stuck on a slow target."""

    def __init__(self, size: int, name: str = "check"):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(size)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable, *args) -> None:
        self._queue.put((fn, args))

    def backlog(self) -> int:
        return self._queue.qsize()

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception:  # a bug in one check must not kill the worker
                log.exception("a check crashed; the monitor will be tried again at its next slot")


class Scheduler:
    def __init__(self, run: Callable[[MonitorSpec], None], workers: int = 64,
                 clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._run = run
        self._clock = clock
        self._workers = workers
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, int]] = []  # (due, monitor_id, generation)
        self._entries: dict[int, tuple[MonitorSpec, int]] = {}
        self._running: set[int] = set()
        self._generation = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: WorkerPool | None = None
        self.lag = LagRecorder()
        self.skipped = 0
        self.completed = 0  # checks finished (any outcome)

    # ---- schedule changes --------------------------------------------------------------------
    def add(self, spec: MonitorSpec, now: float | None = None, run_now: bool = False,
            at: float | None = None) -> None:
        """Schedule (or reschedule) a monitor: at `at` if given, at once if run_now, else at its
        spread offset."""
        now = self._clock() if now is None else now
        if at is not None:
            first = at
        else:
            first = now if run_now else now + spread_offset(spec.id, spec.interval)
        with self._cond:
            self._generation += 1
            self._entries[spec.id] = (spec, self._generation)
            heapq.heappush(self._heap, (first, spec.id, self._generation))
            self._cond.notify()

    def remove(self, monitor_id: int) -> None:
        with self._cond:
            self._entries.pop(monitor_id, None)  # its heap entries go stale and are dropped

    def is_scheduled(self, spec: MonitorSpec) -> bool:
        """True while this exact spec is the one scheduled (results of a replaced or removed
        spec are dropped by the runner)."""
        entry = self._entries.get(spec.id)
        return entry is not None and entry[0] is spec

    def current(self, monitor_id: int) -> MonitorSpec | None:
        entry = self._entries.get(monitor_id)
        return entry[0] if entry else None

    def __len__(self) -> int:
        return len(self._entries)

    # ---- one step ----------------------------------------------------------------------------
    def tick(self, now: float) -> list[tuple[MonitorSpec, float]]:
        """Pop every due monitor, plan its next slot, and return (spec, planned) to run now."""
        due: list[tuple[MonitorSpec, float]] = []
        with self._cond:
            heap = self._heap
            while heap and heap[0][0] <= now:
                planned, monitor_id, generation = heapq.heappop(heap)
                entry = self._entries.get(monitor_id)
                if entry is None or entry[1] != generation:
                    continue
                spec = entry[0]
                if planned + spec.interval <= now:
                    # Behind by more than an interval (a stall): run once for the latest missed
                    # slot and stay on the original grid.
                    planned += math.floor((now - planned) / spec.interval) * spec.interval
                following = planned + spec.interval
                heapq.heappush(heap, (following, monitor_id, generation))
                if monitor_id in self._running:
                    self.skipped += 1
                    continue
                self._running.add(monitor_id)
                due.append((spec, planned))
        return due

    def next_due(self) -> float | None:
        with self._cond:
            return self._heap[0][0] if self._heap else None

    # ---- running -----------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._pool = WorkerPool(self._workers)
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.stop()

    def backlog(self) -> int:
        return self._pool.backlog() if self._pool else 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            due = self.tick(self._clock())
            for spec, planned in due:
                self._pool.submit(self._execute, spec, planned)
            if due:
                continue
            with self._cond:
                if self._stop.is_set():
                    return
                wait = 1.0
                if self._heap:
                    wait = min(wait, max(0.0, self._heap[0][0] - self._clock()))
                self._cond.wait(wait)

    def _execute(self, spec: MonitorSpec, planned: float) -> None:
        self.lag.record(self._clock() - planned)
        try:
            if not self._stop.is_set():
                self._run(spec)
        finally:
            with self._cond:
                self._running.discard(spec.id)
                self.completed += 1
