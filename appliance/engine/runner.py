"""Runner: what happens to a check result. checker -> history -> live state -> transition.

Per check: one queued history row and an in-memory state update. Only a change of the
monitor's confirmed status writes to the entity store (status, outbox row and incident in
one transaction, see EntityStore.record_transition).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import datetime
from typing import Callable, Mapping

from appliance.checkers.base import Checker, CheckResult
from appliance.engine.live import LiveState, LiveStates
from appliance.spec import MonitorSpec
from appliance.state import DOWN, LocationState, step, verdict
from appliance.storage.entities import EntityStore, Transition
from appliance.storage.history import HistoryStore, ResultRow
from appliance.timeutil import utcnow

log = logging.getLogger("statuscore.engine")


class Runner:
    def __init__(self, checkers: Mapping[str, Checker], history: HistoryStore, entities: EntityStore,
                 live: LiveStates, location: str, clock: Callable[[], datetime] = utcnow,
                 is_current: Callable[[MonitorSpec], bool] = lambda spec: True, quorum: float = 0.5):
        self.checkers = checkers
        self.history = history
        self.entities = entities
        self.live = live
        self.location = location
        self.clock = clock
        self.is_current = is_current
        self.quorum = quorum
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)

    def run(self, spec: MonitorSpec) -> None:
        """Run one check of a monitor from this appliance's location and record it."""
        checker = self.checkers.get(spec.type)
        if checker is None:
            return
        result = checker.check(spec)
        if not self.is_current(spec):  # deleted, paused or edited while the check ran
            return
        self.record(spec, self.location, result, self.clock())

    def record(self, spec: MonitorSpec, location: str, result: CheckResult, at: datetime) -> LiveState:
        self.history.append(ResultRow(spec.id, at, location, result.up, result.response_time_ms, result.error))
        with self._locks[spec.id]:
            old = self.live.get(spec.id)
            locations = dict(old.locations)
            locations[location] = step(locations.get(location, LocationState()), result.up, spec.retries)
            status = verdict(locations, self.quorum)
            details = {**old.details, **result.details}
            new = LiveState(status=status, locations=locations, last_check=at,
                            response_time=result.response_time_ms, last_error=result.error, details=details)
            if status != old.status:
                down_at = tuple(name for name, s in sorted(locations.items()) if s.status == DOWN)
                self.entities.record_transition(Transition(
                    monitor_id=spec.id, old_status=old.status, new_status=status, at=at,
                    cause=result.error or "", locations=down_at))
                if status == DOWN or old.status == DOWN:
                    log.info("monitor %d (%s) is %s%s", spec.id, spec.name, status,
                             f": {result.error}" if result.error else "")
            self.live.set(spec.id, new)
            return new
