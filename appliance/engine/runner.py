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
from appliance.engine.uptime import DowntimeLedger
from appliance.spec import MonitorSpec
from appliance.state import DOWN, LocationState, step, verdict
from appliance.storage.entities import EntityStore, Transition
from appliance.storage.history import HistoryStore, ResultRow
from appliance.timeutil import iso, utcnow

log = logging.getLogger("statuscore.engine")

# Days before expiry at which an "expiring" event is sent (API.md: 14 for certificates, 30 for domains).
EXPIRY_WARNING_DAYS = {"ssl": 14, "domain": 30}
LASTING_DETAILS = ("ssl", "domain")


class Runner:
    def __init__(self, checkers: Mapping[str, Checker], history: HistoryStore, entities: EntityStore,
                 live: LiveStates, location: str, clock: Callable[[], datetime] = utcnow,
                 is_current: Callable[[MonitorSpec], bool] = lambda spec: True, quorum: float = 0.5,
                 uptime: DowntimeLedger | None = None, on_outbox: Callable[[], None] = lambda: None):
        self.checkers = checkers
        self.history = history
        self.entities = entities
        self.live = live
        self.location = location
        self.clock = clock
        self.is_current = is_current
        self.quorum = quorum
        self.uptime = uptime or DowntimeLedger()
        self.on_outbox = on_outbox  # wakes the webhook dispatcher
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._noticed: dict[tuple[int, str], datetime] = {}  # expiry dates already announced

    def run(self, spec: MonitorSpec) -> None:
        """Run one check of a monitor from this appliance's location and record it."""
        checker = self.checkers.get(spec.type)
        if checker is None:
            return
        result = checker.check(spec)
        if result is None:  # nothing to report (a heartbeat whose deadline has not passed)
            return
        if not self.is_current(spec):  # deleted, paused or edited while the check ran
            return
        self.record(spec, self.location, result, self.clock())

    def record(self, spec: MonitorSpec, location: str, result: CheckResult, at: datetime) -> LiveState:
        self.history.append(ResultRow(spec.id, at, location, result.up, result.response_time_ms, result.error))
        self.uptime.seen(spec.id, at)
        with self._locks[spec.id]:
            old = self.live.get(spec.id)
            locations = dict(old.locations)
            # A missed heartbeat deadline already includes its grace: no further confirmation.
            retries = 0 if spec.type == "heartbeat" else spec.retries
            locations[location] = step(locations.get(location, LocationState()), result.up, retries)
            status = verdict(locations, self.quorum)
            # Certificate and registration facts outlive a failed check; the rest is per check.
            details = {k: v for k, v in old.details.items() if k in LASTING_DETAILS}
            details.update(result.details)
            new = LiveState(status=status, locations=locations, last_check=at,
                            response_time=result.response_time_ms, last_error=result.error, details=details)
            if status != old.status:
                # The locations that see the new status (for "down": those that see it down).
                seeing = tuple(name for name, s in sorted(locations.items()) if s.status == status)
                row = self.entities.record_transition(Transition(
                    monitor_id=spec.id, old_status=old.status, new_status=status, at=at,
                    cause=result.error or "", locations=seeing))
                if row is not None:
                    self.on_outbox()
                if status == DOWN:
                    self.uptime.went_down(spec.id, at)
                elif old.status == DOWN:
                    self.uptime.came_back(spec.id, at)
                if status == DOWN or old.status == DOWN:
                    log.info("monitor %d (%s) is %s%s", spec.id, spec.name, status,
                             f": {result.error}" if result.error else "")
            self.live.set(spec.id, new)
        if result.details:
            self._expiry_notices(spec, result)
        return new

    def _expiry_notices(self, spec: MonitorSpec, result: CheckResult) -> None:
        for kind, warn_days in EXPIRY_WARNING_DAYS.items():
            info = result.details.get(kind)
            if not isinstance(info, dict) or info.get("days_left") is None or not info.get("expires_at"):
                continue
            # Already expired is not "expiring": the check itself fails and the down alert says so.
            if not 0 <= info["days_left"] < warn_days or self._noticed.get((spec.id, kind)) == info["expires_at"]:
                continue
            details = {"days_left": info["days_left"], "expires_at": iso(info["expires_at"])}
            if self.entities.record_expiry_notice(spec.id, kind, info["expires_at"], details):
                self.on_outbox()
                log.info("monitor %d (%s): %s expires in %d days", spec.id, spec.name,
                         "certificate" if kind == "ssl" else "domain registration", info["days_left"])
            self._noticed[(spec.id, kind)] = info["expires_at"]
