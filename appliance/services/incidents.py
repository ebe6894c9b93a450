"""Incidents and anomalies of a user's monitors, and acknowledging anomalies."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.models import AnomalyRecord, Incident, User
from appliance.services.errors import NotFound


@dataclass(frozen=True)
class Insights:
    monitor_name: str
    incidents: list[Incident]
    anomalies: list[AnomalyRecord]


class Incidents:
    def __init__(self, appliance):
        self._entities = appliance.entities
        self._anomalies = appliance.anomalies

    def insights(self, user: User, monitor_id: int) -> Insights:
        """One monitor's latest incidents and anomalies, most recent first."""
        monitor = self._entities.get_monitor(monitor_id, user.id)
        if monitor is None:
            raise NotFound()
        return Insights(monitor.name, self._entities.incidents([monitor.id], limit=100),
                        self._anomalies.list([monitor.id], limit=100))

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
