"""heartbeat monitors: the job calls us (push), so the "check" is a deadline.

The appliance records each call as a result when it arrives (Appliance.heartbeat) and schedules
this checker at the deadline. When it runs it reports down if no call came within
interval + grace seconds; otherwise it has nothing to report (None). Time in which the appliance
itself could not take calls (stopped, restarting, saturated: BlindSpans) does not count toward
the wait: the deadline moves back by it.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Callable

from appliance.checkers.base import CheckResult
from appliance.blind import BlindSpans
from appliance.timeutil import utcnow


class HeartbeatChecker:
    def __init__(self, clock: Callable[[], datetime] = utcnow, blind: BlindSpans | None = None):
        self.clock = clock
        self.blind = blind if blind is not None else BlindSpans()
        self._lock = threading.Lock()
        self._since: dict[int, datetime] = {}  # last call, or when the wait began

    def arm(self, monitor_id: int, since: datetime) -> None:
        """Start (or restart) the wait for a monitor's next call from `since`."""
        with self._lock:
            self._since[monitor_id] = since

    def forget(self, monitor_id: int) -> None:
        with self._lock:
            self._since.pop(monitor_id, None)

    def since(self, monitor_id: int) -> datetime | None:
        return self._since.get(monitor_id)

    def deadline(self, spec) -> datetime | None:
        since = self._since.get(spec.id)
        if since is None:
            return None
        wait = timedelta(seconds=spec.interval + (spec.grace or 0))
        deadline = since + wait
        # Each blind second inside the wait moves the deadline back by one; blind time the move
        # brings inside counts too (a few rounds at most: spans are merged and finite).
        for _ in range(32):
            moved = since + wait + timedelta(seconds=self.blind.seconds_within(since, deadline))
            if moved == deadline:
                break
            deadline = moved
        return deadline

    def check(self, spec) -> CheckResult | None:
        deadline = self.deadline(spec)
        now = self.clock()
        if deadline is None or now < deadline:
            return None
        silent = int((now - self._since[spec.id]).total_seconds())
        return CheckResult.failure(
            f"no heartbeat for {silent} s (expected every {spec.interval} s + {spec.grace or 0} s grace)")
