"""The heartbeat deadline: interval + grace after the last call (pure, with an injected clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from appliance.checkers.heartbeat import HeartbeatChecker
from appliance.spec import MonitorSpec

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


def spec(interval=60, grace=30) -> MonitorSpec:
    return MonitorSpec(id=7, user_id=1, name="backup job", type="heartbeat", target=None,
                       interval=interval, grace=grace)


def test_it_reports_nothing_before_the_deadline():
    clock = Clock()
    checker = HeartbeatChecker(clock)
    checker.arm(7, T0)
    clock.now = T0 + timedelta(seconds=89)
    assert checker.check(spec()) is None


def test_it_reports_down_once_interval_plus_grace_have_passed():
    clock = Clock()
    checker = HeartbeatChecker(clock)
    checker.arm(7, T0)
    clock.now = T0 + timedelta(seconds=90)
    result = checker.check(spec())
    assert result is not None and not result.up
    assert "no heartbeat for 90 s" in result.error
    assert "60 s + 30 s grace" in result.error


def test_it_moves_the_deadline_with_each_call():
    clock = Clock()
    checker = HeartbeatChecker(clock)
    checker.arm(7, T0)
    checker.arm(7, T0 + timedelta(seconds=80))
    clock.now = T0 + timedelta(seconds=150)
    assert checker.check(spec()) is None
    assert checker.deadline(spec()) == T0 + timedelta(seconds=170)


def test_it_knows_no_deadline_for_a_monitor_it_was_never_told_about():
    checker = HeartbeatChecker(Clock())
    assert checker.deadline(spec()) is None
    assert checker.check(spec()) is None
