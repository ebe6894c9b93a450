"""Runner: what happens to a check result. checker -> history -> live state -> transition.

Per check: one queued history row and an in-memory state update. Only a change of the
monitor's confirmed status writes to the entity store (status, outbox row and incident in
one transaction, see EntityStore.record_transition).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Callable, Mapping

from sqlalchemy.exc import SQLAlchemyError

from appliance.checkers.base import Checker, CheckResult
from appliance.engine.live import LiveState, LiveStates
from appliance.engine.uptime import DowntimeLedger
from appliance.insights import Anomaly, AnomalyDetector
from appliance.spec import MonitorSpec
from appliance.state import DOWN, PENDING, UP, LocationState, step, verdict
from appliance.storage import storage_error
from appliance.storage.entities import EntityStore, Transition
from appliance.storage.history import HistoryStore, ResultRow
from appliance.monitor_types import TYPES
from appliance.timeutil import iso, utcnow

log = logging.getLogger("statuscore.engine")

# Days before expiry at which an "expiring" event is sent (API.md: 14 for certificates, 30 for domains).
EXPIRY_WARNING_DAYS = {"ssl": 14, "domain": 30}
LASTING_DETAILS = ("ssl", "domain")


class Runner:
    def __init__(self, checkers: Mapping[str, Checker], history: HistoryStore, entities: EntityStore,
                 live: LiveStates, location: str, clock: Callable[[], datetime] = utcnow,
                 is_current: Callable[[MonitorSpec], bool] = lambda spec: True, quorum: float = 0.5,
                 uptime: DowntimeLedger | None = None, on_outbox: Callable[[], None] = lambda: None,
                 online: Callable[[], frozenset[str] | None] = lambda: None,
                 detector: AnomalyDetector | None = None,
                 on_anomaly: Callable[[int, str, Anomaly], None] = lambda monitor_id, location, anomaly: None,
                 in_maintenance: Callable[[int, datetime], bool] = lambda monitor_id, at: False):
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
        self.online = online  # the locations whose state counts now (None: all)
        self.detector = detector
        self.on_anomaly = on_anomaly
        self.in_maintenance = in_maintenance
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._noticed: dict[tuple[int, str], datetime] = {}  # expiry dates already announced
        self.checks: Counter[int] = Counter()  # results recorded per monitor since start (metrics)
        self._store_error: str | None = None  # why status changes cannot be saved now (logged once)

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

    def record(self, spec: MonitorSpec, location: str, result: CheckResult, at: datetime,
               stored: bool = False) -> LiveState:
        """`stored`: already in the history (a probe result another cluster node took)."""
        self.checks[spec.id] += 1
        if result.up:  # watched from its first verdict (a confirmed down counts too: went_down)
            self.uptime.seen(spec.id, at)
        with self._locks[spec.id]:
            # One stream per monitor and location, fed under the monitor's lock (in order); the
            # history row carries the check's anomaly score (and is stored whatever happens).
            found, score = [], None
            try:
                if self.detector is not None:
                    found = self.detector.observe((spec.id, location), at, result.up, result.response_time_ms)
                    score = self.detector.score((spec.id, location))
            finally:
                if not stored:
                    self.history.append(ResultRow(spec.id, at, location, result.up, result.response_time_ms,
                                                  result.error, score))
            old = self.live.get(spec.id)
            locations = dict(old.locations)
            # A missed heartbeat deadline already includes its grace: no further confirmation.
            retries = 0 if TYPES[spec.type].pushed else spec.retries
            locations[location] = step(locations.get(location, LocationState()), result.up, retries,
                                       spec.recovery_checks)
            # Certificate and registration facts outlive a failed check; the rest is per check.
            details = {k: v for k, v in old.details.items() if k in LASTING_DETAILS}
            details.update(result.details)
            new = LiveState(status=old.status, locations=locations, last_check=at,
                            response_time=result.response_time_ms, last_error=result.error, details=details)
            if old.last_check is not None and at < old.last_check:
                # A late result (a probe delivering its spool) moves its location's state on; the
                # monitor's latest check stays the newest one.
                new = replace(old, locations=locations)
            new = self._settle(spec, old, new, at, result.error or "")
        try:
            if found and not self.in_maintenance(spec.id, at):
                for anomaly in found:
                    self.on_anomaly(spec.id, location, anomaly)
            if result.details:
                self._expiry_notices(spec, result)  # not saved: tried again at the next check
        except SQLAlchemyError as exc:
            self._store_failed(exc)
        return new

    def reevaluate(self, spec: MonitorSpec, at: datetime) -> LiveState:
        """The verdict again without a new result: a location went offline or came back."""
        with self._locks[spec.id]:
            old = self.live.get(spec.id)
            return self._settle(spec, old, old, at, old.last_error or "")

    def _settle(self, spec: MonitorSpec, old: LiveState, new: LiveState, at: datetime, cause: str) -> LiveState:
        """Decide the monitor's status from its online locations; persist a change."""
        online = self.online()
        considered = {n: s for n, s in new.locations.items()
                      if spec.runs_at(n) and (online is None or n in online)}
        status = verdict(considered, self.quorum)
        if status == PENDING and old.status in (UP, DOWN):
            # No location of this monitor online with a verdict: nothing new is known. Keep the
            # status (an outage is neither closed nor announced again when its probe is back).
            status = old.status
        if status == DOWN and old.status != DOWN and self.in_maintenance(spec.id, at):
            status = old.status  # under maintenance: no incident, no alert (decided again after it)
        if status != old.status:
            # The locations that see the new status (for "down": those that see it down).
            seeing = tuple(name for name, s in sorted(considered.items()) if s.status == status)
            try:
                row = self.entities.record_transition(Transition(
                    monitor_id=spec.id, old_status=old.status, new_status=status, at=at,
                    cause=cause, locations=seeing))
            except SQLAlchemyError as exc:
                # Not saved (disk full, I/O error): keep the old verdict, so the next check that
                # sees the new one records it then, with its incident and alert.
                self._store_failed(exc)
                new = replace(new, status=old.status)
                self.live.set(spec.id, new)
                return new
            self._store_ok()
            if row is not None:
                self.on_outbox()
            if status == DOWN:
                self.uptime.went_down(spec.id, at)
            elif old.status == DOWN:
                self.uptime.came_back(spec.id, at)
            if status == DOWN or old.status == DOWN:
                log.info("monitor %d (%s) is %s%s", spec.id, spec.name, status, f": {cause}" if cause else "")
        new = replace(new, status=status)
        self.live.set(spec.id, new)
        return new

    def _store_failed(self, exc: Exception) -> None:
        """One log line per episode, not one traceback per check."""
        first, self._store_error = self._store_error is None, storage_error(exc)
        if first:
            log.error("cannot save monitor status changes to %s (%s); checks go on and each change is saved "
                      "by the next check that sees it: free disk space there",
                      getattr(self.entities, "path", "the entity store"), self._store_error)

    def _store_ok(self) -> None:
        if self._store_error is not None:
            self._store_error = None
            log.info("saving monitor status changes again")

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
