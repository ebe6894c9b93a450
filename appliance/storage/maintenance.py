"""Maintenance windows (SQLite), per user."""

from __future__ import annotations

from sqlmodel import select

from appliance.models import Maintenance


class MaintenanceStore:
    def __init__(self, entities):
        self.entities = entities

    def all(self) -> list[Maintenance]:
        with self.entities.session() as s:
            return list(s.exec(select(Maintenance).order_by(Maintenance.id)))

    def list(self, user_id: int) -> list[Maintenance]:
        with self.entities.session() as s:
            return list(s.exec(select(Maintenance).where(Maintenance.user_id == user_id).order_by(Maintenance.id)))

    def get(self, window_id: int, user_id: int) -> Maintenance | None:
        with self.entities.session() as s:
            row = s.get(Maintenance, window_id)
            return row if row is not None and row.user_id == user_id else None

    def save(self, row: Maintenance) -> Maintenance:
        """Create (within the user's plan limit) or update a window."""
        if row.id is None:
            return self.entities.add_owned(row, "maintenance_windows")
        with self.entities.session() as s:
            row = s.merge(row)
            s.commit()
            s.refresh(row)
            return row

    def delete(self, window_id: int, user_id: int) -> bool:
        with self.entities.session() as s:
            row = s.get(Maintenance, window_id)
            if row is None or row.user_id != user_id:
                return False
            s.delete(row)
            s.commit()
            return True

    def drop_monitor(self, monitor_id: int) -> None:
        """A deleted monitor leaves every window it was in."""
        with self.entities.session() as s:
            for row in s.exec(select(Maintenance)):
                if monitor_id in (row.monitor_ids or []):
                    row.monitor_ids = [m for m in row.monitor_ids if m != monitor_id]
                    s.add(row)
            s.commit()
