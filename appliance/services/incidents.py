"""Incidents and anomalies of a user's monitors, and acknowledging anomalies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from appliance.models import AnomalyRecord, Incident, User
from appliance.services.errors import NotFound


@dataclass(frozen=True)
class Insights:
    monitor_name: str
    incidents: list[Incident]
    anomalies: list[AnomalyRecord]
    # (location, time of its last check, that check's anomaly score 0..1 or None) per location
    scores: list[tuple[str, datetime, float | None]] = field(default_factory=list)


class Incidents:
    def __init__(self, appliance):
        self._entities = appliance.entities
        self._anomalies = appliance.anomalies
        self._detector = getattr(appliance, "detector", None)

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
