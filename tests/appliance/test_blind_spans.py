"""Blind spans (times the appliance could not take heartbeat calls) move heartbeat deadlines back,
so a job is never blamed for the appliance's own trouble. Pure: no clock but the test's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from appliance.blind import BlindSpans
from appliance.checkers.heartbeat import HeartbeatChecker
from appliance.spec import MonitorSpec

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def spec(interval=60, grace=30) -> MonitorSpec:
    return MonitorSpec(id=7, user_id=1, name="nightly backup", type="heartbeat", target=None, interval=interval,
                       timeout=10, retries=0, grace=grace)


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_it_merges_overlapping_and_touching_spans():
    blind = BlindSpans()
    blind.add(s(10), s(20))
    blind.add(s(15), s(30))
    blind.add(s(30), s(35))
    blind.add(s(50), s(55))
    assert blind.spans() == [(s(10), s(35)), (s(50), s(55))]


def test_it_counts_only_the_blind_time_inside_a_window():
    blind = BlindSpans()
    blind.add(s(10), s(20))
    blind.add(s(50), s(55))
    assert blind.seconds_within(s(0), s(100)) == 15
    assert blind.seconds_within(s(15), s(52)) == 7
    assert blind.seconds_within(s(20), s(50)) == 0


def test_it_ignores_empty_and_backward_spans():
    blind = BlindSpans()
    blind.add(s(10), s(10))
    blind.add(s(20), s(10))
    assert blind.spans() == []


def test_it_forgets_spans_older_than_it_keeps():
    blind = BlindSpans(keep=timedelta(hours=1))
    blind.add(s(0), s(10))
    blind.add(s(7200), s(7210))
    assert blind.spans() == [(s(7200), s(7210))]


def test_it_reports_a_missed_heartbeat_when_the_appliance_was_never_blind():
    clock = Clock(s(0))
    checker = HeartbeatChecker(clock=clock)
    checker.arm(7, s(0))
    clock.at = s(89)
    assert checker.check(spec()) is None
    clock.at = s(90)
    assert checker.check(spec()) is not None


def test_it_moves_the_deadline_back_by_the_blind_time_inside_the_wait():
    clock = Clock(s(0))
    blind = BlindSpans()
    checker = HeartbeatChecker(clock=clock, blind=blind)
    checker.arm(7, s(0))
    blind.add(s(40), s(60))  # the appliance could not take calls for 20 s of the 90 s wait
    assert checker.deadline(spec()) == s(110)
    clock.at = s(100)
    assert checker.check(spec()) is None
    clock.at = s(110)
    assert checker.check(spec()) is not None


def test_it_also_counts_blind_time_that_the_move_brings_into_the_wait():
    blind = BlindSpans()
    checker = HeartbeatChecker(blind=blind)
    checker.arm(7, s(0))
    blind.add(s(80), s(100))  # 10 s of it inside the plain 90 s wait ...
    blind.add(s(105), s(115))  # ... and this one inside once the deadline moved
    assert checker.deadline(spec()) == s(120)


def test_it_ignores_blind_time_before_the_last_call():
    blind = BlindSpans()
    checker = HeartbeatChecker(blind=blind)
    blind.add(s(0), s(50))
    checker.arm(7, s(60))
    assert checker.deadline(spec()) == s(150)
