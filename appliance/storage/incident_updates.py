"""Incident updates (SQLite): the owner's notes on an incident, and whose incident it is."""

from __future__ import annotations

from typing import Sequence

from sqlmodel import select

from appliance.models import Incident, IncidentUpdate, Monitor


class IncidentUpdateStore:
    def __init__(self, entities):
        self.entities = entities

    def owned_incident(self, incident_id: int, user_id: int) -> tuple[Incident, Monitor] | None:
        """The incident and its monitor when the monitor is the user's (None otherwise: not found)."""
        with self.entities.session() as s:
            row = s.exec(select(Incident, Monitor).join(Monitor, Monitor.id == Incident.monitor_id)
                         .where(Incident.id == incident_id, Monitor.user_id == user_id)).first()
            return (row[0], row[1]) if row else None

    def add(self, row: IncidentUpdate) -> IncidentUpdate:
        with self.entities.session() as s:
            s.add(row)
            s.commit()
            s.refresh(row)
            return row

    def for_incidents(self, incident_ids: Sequence[int]) -> dict[int, list[IncidentUpdate]]:
        """incident id -> its updates, newest first (one query for a whole page)."""
        if not incident_ids:
            return {}
        out: dict[int, list[IncidentUpdate]] = {}
        with self.entities.session() as s:
            for row in s.exec(select(IncidentUpdate).where(IncidentUpdate.incident_id.in_(list(incident_ids)))
                              .order_by(IncidentUpdate.created_at.desc(), IncidentUpdate.id.desc())):
                out.setdefault(row.incident_id, []).append(row)
        return out

    def count(self, incident_id: int) -> int:
        return len(self.for_incidents([incident_id]).get(incident_id, []))

    def delete(self, update_id: int, incident_id: int) -> bool:
        with self.entities.session() as s:
            row = s.get(IncidentUpdate, update_id)
            if row is None or row.incident_id != incident_id:
                return False
            s.delete(row)
            s.commit()
            return True
