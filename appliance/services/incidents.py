"""Incidents and anomalies of a user's monitors: per monitor (insights), all of a user's
incidents (a page at a time) and one incident's timeline; acknowledging anomalies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from appliance.models import AnomalyRecord, Incident, User
from appliance.services.errors import NotFound
from appliance.timeutil import as_utc, utc_or_none, utcnow

# How far before an incident's start its failed checks are looked for: the confirming run of
# retries + 1 checks (and a timeout) lies there; at most a day.
MAX_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Insights:
    monitor_name: str
    incidents: list[Incident]
    anomalies: list[AnomalyRecord]
    # (location, time of its last check, that check's anomaly score 0..1 or None) per location
    scores: list[tuple[str, datetime, float | None]] = field(default_factory=list)


@dataclass(frozen=True)
class IncidentPage:
    incidents: list[Incident]
    names: dict[int, str]  # monitor id -> name
    total: int  # how many match the filters in all


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened in an incident. kind: failing (a location's failed checks),
    down (confirmed: the incident opens), notification (a webhook delivery), reminder (down alert
    sent again), update (the owner's note for the status page), up (recovered: the incident is
    resolved), closed (resolved without a recovery: the monitor was paused)."""

    at: datetime
    kind: str
    message: str
    location: str | None = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentTimeline:
    incident: Incident
    monitor_name: str
    events: list[TimelineEvent]


_ORDER = {"failing": 0, "down": 1, "reminder": 2, "update": 2, "up": 3, "closed": 3, "notification": 4}


class Incidents:
    def __init__(self, appliance):
        self._entities = appliance.entities
        self._anomalies = appliance.anomalies
        self._detector = getattr(appliance, "detector", None)
        self._history = appliance.history
        self._outbox = appliance.outbox
        self._updates = appliance.incident_updates

    def insights(self, user: User, monitor_id: int) -> Insights:
        """One monitor's latest incidents and anomalies, most recent first."""
        monitor = self._entities.get_monitor(monitor_id, user.id)
        if monitor is None:
            raise NotFound()
        return Insights(monitor.name, self._entities.incidents([monitor.id], limit=100),
                        self._anomalies.list([monitor.id], limit=100), self._latest_scores(monitor.id))

    def _latest_scores(self, monitor_id: int) -> list[tuple[str, datetime, float | None]]:
        """The detector's score of each location's last check (since the appliance started or
        its learned state was restored), by location."""
        if self._detector is None:
            return []
        found = []
        for key in self._detector.keys():
            if not (isinstance(key, tuple) and key[0] == monitor_id):
                continue
            state = self._detector.state(key)
            if state is not None and state.last_t is not None:
                found.append((str(key[1]), datetime.fromtimestamp(state.last_t, timezone.utc), state.score))
        return sorted(found)

    def page(self, user: User, monitor_id: int | None = None, ongoing: bool | None = None,
             since: datetime | None = None, limit: int = 50, offset: int = 0) -> IncidentPage:
        """The user's incidents, newest first, optionally of one monitor (another user's: NotFound),
        only ongoing or only resolved ones, only those going on at or after `since`."""
        names = self.monitor_names(user)
        if monitor_id is not None and monitor_id not in names:
            raise NotFound()
        ids = [monitor_id] if monitor_id is not None else list(names)
        rows, total = self._entities.incident_page(ids, ongoing, since, limit, offset)
        return IncidentPage(rows, names, total)

    def timeline(self, user: User, incident_id: int) -> IncidentTimeline:
        """One incident and what happened in it, oldest first, from what the stores already keep:
        the failed checks per location (history), the confirmed down, reminders and recovery
        (outbox rows), the webhook deliveries made for them, and the owner's updates."""
        incident = self._entities.get_incident(incident_id)
        monitor = self._entities.get_monitor(incident.monitor_id, user.id) if incident else None
        if monitor is None:
            raise NotFound("incident")
        started, resolved = as_utc(incident.started_at), utc_or_none(incident.resolved_at)
        lookback = min(MAX_LOOKBACK, timedelta(seconds=(monitor.retries + 1) * monitor.interval + monitor.timeout))
        events = [_failing(f) for f in self._history.failures_by_location(
            monitor.id, started - lookback, resolved or utcnow()) if f.failures]
        locations = list(incident.locations or [])
        where = f" at {', '.join(locations)}" if locations else ""
        events.append(TimelineEvent(started, "down", f"Confirmed down{where}: {incident.cause or 'checks failed'}",
                                    details={"cause": incident.cause, "locations": locations}))
        changes = self._entities.state_changes(monitor.id, started, resolved)
        recovered = False
        for change in changes:
            at = as_utc(change.created_at)
            if change.new_status == "up":
                recovered = True
                seen = list(change.details.get("locations") or [])
                events.append(TimelineEvent(at, "up", "Back up" + (f" at {', '.join(seen)}" if seen else ""),
                                            details={"locations": seen}))
            elif change.details.get("reminder"):
                events.append(TimelineEvent(at, "reminder", "Still down: the down alert was sent again",
                                            details={"cause": change.details.get("cause") or ""}))
        if resolved is not None and not recovered:
            events.append(TimelineEvent(resolved, "closed", "Closed without a recovery check: the monitor "
                                                            "was paused"))
        for delivery, hook in self._outbox.deliveries_of_changes([c.id for c in changes]):
            events.append(_notification(delivery, hook))
        for update in self._updates.for_incidents([incident.id]).get(incident.id, []):
            # Updates keep whole seconds: one posted in the second the incident opened is after it.
            events.append(TimelineEvent(max(started, as_utc(update.created_at)), "update",
                                        f"Update ({update.status}): {update.message}",
                                        details={"update_id": update.id, "status": update.status}))
        events.sort(key=lambda e: (e.at, _ORDER[e.kind]))
        return IncidentTimeline(incident, monitor.name, events)

    def monitor_names(self, user: User) -> dict[int, str]:
        return {m.id: m.name for m in self._entities.list_monitors(user.id)}

    def unacknowledged(self, user: User) -> tuple[list[AnomalyRecord], dict[int, str]]:
        """Every unacknowledged anomaly across the user's monitors, most recent first, and the
        monitors' names."""
        names = self.monitor_names(user)
        return self._anomalies.list(list(names), unacknowledged_only=True, limit=500), names

    def acknowledge(self, user: User, anomaly_id: int) -> tuple[AnomalyRecord, str]:
        names = self.monitor_names(user)
        row = self._anomalies.acknowledge(anomaly_id, list(names))
        if row is None:
            raise NotFound("anomaly")
        return row, names[row.monitor_id]


def _failing(found) -> TimelineEvent:
    """A location's failed checks around the incident (history.LocationFailures)."""
    why = found.errors[0][0] if found.errors else "failed"
    return TimelineEvent(
        found.first_failure_at, "failing",
        f"{found.location}: {found.failures} of {found.checks} checks failed (most often: {why})",
        location=found.location,
        details={"checks": found.checks, "failures": found.failures, "last_failure_at": found.last_failure_at,
                 "errors": [{"error": error, "count": count} for error, count in found.errors]})


def _notification(delivery, hook) -> TimelineEvent:
    attempts = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
    if delivery.state == "delivered":
        outcome = f"delivered (HTTP {delivery.last_status_code}, {attempts})"
    elif delivery.state == "failed":
        outcome = f"failed after {attempts}: {delivery.last_error or f'HTTP {delivery.last_status_code}'}"
    else:
        outcome = f"pending ({attempts} so far)"
    return TimelineEvent(
        as_utc(delivery.finished_at or delivery.created_at), "notification",
        f"{delivery.event} to webhook {hook.id} ({hook.format}): {outcome}",
        details={"webhook_id": hook.id, "format": hook.format, "event": delivery.event, "state": delivery.state,
                 "attempts": delivery.attempts, "status_code": delivery.last_status_code,
                 "error": delivery.last_error, "finished_at": as_utc(delivery.finished_at)})
