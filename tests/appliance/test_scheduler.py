"""The scheduler, stepped with an injected clock through tick(now) (no sleeping), and once
for real on threads to show that stop() is prompt."""

from __future__ import annotations

import threading
import time
from collections import Counter

from appliance.engine.scheduler import Scheduler, spread_offset
from appliance.spec import MonitorSpec
from tests.support.net import wait_for


def spec(monitor_id: int = 1, interval: float = 10, **fields) -> MonitorSpec:
    return MonitorSpec(id=monitor_id, user_id=1, name=f"m{monitor_id}", type="http",
                       target="http://127.0.0.1:9/", interval=interval, **fields)


class Clock:
    """A clock the test sets; tick() gets the time passed in, the clock is only read for lag."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(run=None) -> Scheduler:
    return Scheduler(run or (lambda s: None), workers=1, clock=Clock())


def finish(scheduler: Scheduler, due) -> None:
    """Complete the returned runs the way a worker does (synchronously, in this thread)."""
    for s, planned in due:
        scheduler._execute(s, planned)


# ---- first runs ----------------------------------------------------------------------------

def test_it_spreads_first_runs_over_the_interval():
    scheduler = make()
    interval, count, buckets = 60.0, 1000, 1000
    for i in range(1, count + 1):
        scheduler.add(spec(i, interval), now=0.0)
    per_bucket: Counter = Counter()
    firsts = {}
    width = interval / buckets
    for b in range(buckets):
        for s, planned in scheduler.tick((b + 1) * width):
            assert s.id not in firsts
            firsts[s.id] = planned
            per_bucket[b] += 1
    assert len(firsts) == count  # every monitor runs within one interval of a restart
    assert all(0.0 <= planned < interval for planned in firsts.values())
    assert max(per_bucket.values()) <= 3  # an even spread puts ~1 in each bucket
    deciles = Counter(int(planned // (interval / 10)) for planned in firsts.values())
    assert all(90 <= deciles[d] <= 110 for d in range(10)), deciles


def test_it_places_a_first_run_at_the_monitor_spread_offset():
    scheduler = make()
    scheduler.add(spec(7, 30), now=100.0)
    offset = spread_offset(7, 30)
    assert 0 <= offset < 30
    assert scheduler.tick(100.0 + offset - 0.001) == [] or offset == 0
    [(s, planned)] = scheduler.tick(100.0 + offset)
    assert s.id == 7 and planned == 100.0 + offset


def test_it_runs_a_monitor_at_once_when_asked():
    scheduler = make()
    scheduler.add(spec(3, 60), now=50.0, run_now=True)
    [(s, planned)] = scheduler.tick(50.0)
    assert s.id == 3 and planned == 50.0
    finish(scheduler, [(s, planned)])
    assert scheduler.tick(109.999) == []
    assert [p for _, p in scheduler.tick(110.0)] == [110.0]


# ---- drift-free ----------------------------------------------------------------------------

def test_it_plans_each_run_from_the_previous_planned_time_not_from_when_it_ran():
    scheduler = make()
    scheduler.add(spec(1, 10), now=0.0, run_now=True)
    planned_times = []
    for k in range(6):
        late = 0.5 + k * 1.3  # each run starts (and ends) later than planned
        due = scheduler.tick(k * 10 + late)
        assert len(due) == 1
        planned_times.append(due[0][1])
        finish(scheduler, due)
    assert planned_times == [k * 10.0 for k in range(6)]


def test_it_skips_the_slots_it_missed_when_behind_by_more_than_an_interval():
    scheduler = make()
    scheduler.add(spec(1, 10), now=0.0, run_now=True)
    finish(scheduler, scheduler.tick(0.0))
    # The process stalled for 35 s: one run now, not one per missed slot ...
    due = scheduler.tick(35.0)
    assert len(due) == 1
    finish(scheduler, due)
    assert scheduler.tick(35.0) == []
    # ... and the schedule continues on its original grid.
    assert scheduler.tick(39.999) == []
    assert [p for _, p in scheduler.tick(40.0)] == [40.0]


# ---- no overlap ----------------------------------------------------------------------------

def test_it_does_not_start_a_monitor_that_is_still_running_and_counts_the_skip():
    scheduler = make()
    scheduler.add(spec(1, 10), now=0.0, run_now=True)
    first = scheduler.tick(0.0)
    assert len(first) == 1  # not finished: still running
    assert scheduler.tick(10.0) == []
    assert scheduler.tick(20.0) == []
    assert scheduler.skipped == 2
    finish(scheduler, first)
    assert [p for _, p in scheduler.tick(30.0)] == [30.0]


def test_it_runs_other_monitors_while_one_is_still_running():
    scheduler = make()
    scheduler.add(spec(1, 10), now=0.0, run_now=True)
    scheduler.add(spec(2, 10), now=0.0, run_now=True)
    scheduler.tick(0.0)  # both start; neither finishes
    finish(scheduler, [(s, p) for s, p in [(spec(2, 10), 0.0)]])
    assert [s.id for s, _ in scheduler.tick(10.0)] == [2]


# ---- schedule changes ----------------------------------------------------------------------

def test_it_stops_running_a_removed_monitor():
    scheduler = make()
    old = spec(1, 10)
    scheduler.add(old, now=0.0, run_now=True)
    scheduler.remove(1)
    assert len(scheduler) == 0
    assert not scheduler.is_scheduled(old)
    assert scheduler.tick(1000.0) == []


def test_it_runs_only_the_new_spec_after_a_monitor_is_re_added():
    scheduler = make()
    old, new = spec(1, 10), spec(1, 30, keyword="fresh")
    scheduler.add(old, now=0.0, run_now=True)
    scheduler.remove(1)
    scheduler.add(new, now=0.0, run_now=True)
    assert len(scheduler) == 1
    assert scheduler.is_scheduled(new) and not scheduler.is_scheduled(old)
    due = scheduler.tick(5.0)
    assert [s for s, _ in due] == [new]  # the stale heap entry of the old spec is dropped
    finish(scheduler, due)
    assert scheduler.tick(29.9) == []  # the old 10 s interval is gone
    assert [(s, p) for s, p in scheduler.tick(30.0)] == [(new, 30.0)]


def test_it_replaces_a_spec_that_is_added_again_without_removal():
    scheduler = make()
    old, new = spec(1, 10), spec(1, 20)
    scheduler.add(old, now=0.0, run_now=True)
    scheduler.add(new, now=0.0, run_now=True)
    due = scheduler.tick(0.0)
    assert [s for s, _ in due] == [new]
    finish(scheduler, due)
    assert scheduler.tick(15.0) == []
    assert [s for s, _ in scheduler.tick(20.0)] == [new]


def test_it_reports_the_next_due_time():
    scheduler = make()
    assert scheduler.next_due() is None
    scheduler.add(spec(1, 10), now=5.0, run_now=True)
    assert scheduler.next_due() == 5.0


# ---- on real threads -----------------------------------------------------------------------

def test_it_runs_a_short_interval_monitor_repeatedly_and_a_bounded_number_of_times():
    runs = []
    lock = threading.Lock()

    def run(s):
        with lock:
            runs.append(time.monotonic())

    scheduler = Scheduler(run, workers=2)
    started = time.monotonic()
    scheduler.start()
    try:
        scheduler.add(spec(1, 0.05), run_now=True)
        wait_for(lambda: len(runs) >= 4, timeout=5, message="four runs")
    finally:
        scheduler.stop()
    elapsed = time.monotonic() - started
    count = len(runs)
    assert count <= elapsed / 0.05 + 2  # never more than one run per slot
    time.sleep(0.2)
    assert len(runs) <= count + 1  # at most a run that had already been handed to a worker


def test_it_stops_promptly_while_a_check_is_blocked():
    entered = threading.Event()
    release = threading.Event()

    def run(s):
        entered.set()
        release.wait(10)

    scheduler = Scheduler(run, workers=2)
    scheduler.start()
    try:
        scheduler.add(spec(1, 0.05), run_now=True)
        assert entered.wait(5)
        wait_for(lambda: scheduler.skipped >= 1, timeout=5, message="a skipped slot")
        started = time.monotonic()
        scheduler.stop()
        assert time.monotonic() - started < 2.5
    finally:
        release.set()
