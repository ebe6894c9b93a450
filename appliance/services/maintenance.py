"""Maintenance windows: one-off or weekly, for a set of the user's monitors. During one, checks
go on and are stored, but no incident opens and no down alert is sent (appliance/maintenance.py
decides; this room owns the windows' rules, their owner, and telling the engine and the status
page when they change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.maintenance import Window, schedule_problems
from appliance.models import Maintenance, User
from appliance.services.errors import Invalid, NotFound
from appliance.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class WindowView:
    window: Maintenance
    active: bool  # now inside it


class MaintenanceWindows:
    def __init__(self, appliance):
        self._app = appliance

    def list(self, user: User) -> list[WindowView]:
        now = utcnow()
        return [self._view(row, now) for row in self._app.maintenance.list(user.id)]

    def get(self, user: User, window_id: int) -> WindowView:
        return self._view(self.owned(user, window_id))

    def owned(self, user: User, window_id: int) -> Maintenance:
        row = self._app.maintenance.get(window_id, user.id)
        if row is None:
            raise NotFound("maintenance window")
        return row

    def create(self, user: User, fields: dict) -> WindowView:
        fields = self._checked(user, fields)
        return self._save(user, Maintenance(user_id=user.id, name=fields["name"], monitor_ids=fields["monitor_ids"],
                                            starts_at=fields["starts_at"], ends_at=fields["ends_at"],
                                            recurring=fields["recurring"], notice=fields.get("notice") or None))

    def update(self, user: User, window_id: int, changes: dict) -> WindowView:
        """Any of the fields; giving a weekly schedule drops the one-off times, and the other way."""
        row = self.owned(user, window_id)
        current = {"name": row.name, "monitor_ids": list(row.monitor_ids),
                   "starts_at": as_utc(row.starts_at) if row.starts_at else None,
                   "ends_at": as_utc(row.ends_at) if row.ends_at else None, "recurring": row.recurring,
                   "notice": row.notice}
        if changes.get("recurring") is not None:  # switching to weekly
            current["starts_at"] = current["ends_at"] = None
        if changes.get("starts_at") is not None or changes.get("ends_at") is not None:  # switching to one-off
            current["recurring"] = None
        fields = self._checked(user, {**current, **changes})
        fields["notice"] = fields.get("notice") or None  # blank: not announced
        for key, value in fields.items():
            setattr(row, key, value)
        return self._save(user, row)

    def delete(self, user: User, window_id: int) -> None:
        if not self._app.maintenance.delete(window_id, user.id):
            raise NotFound("maintenance window")
        self._changed(user)

    def _checked(self, user: User, fields: dict) -> dict:
        """The complete window's rules: one kind of schedule, a sane range, the user's own monitors."""
        details = schedule_problems(fields)
        ids = fields.get("monitor_ids") or []
        own = {m.id for m in self._app.entities.list_monitors(user.id)}
        unknown = [i for i in ids if i not in own]
        if unknown:
            details["monitor_ids"] = f"unknown monitor id(s): {', '.join(map(str, unknown))}"
        elif len(set(ids)) != len(ids):
            details["monitor_ids"] = "lists a monitor twice"
        if details:
            field, problem = next(iter(details.items()))
            raise Invalid(f"Invalid maintenance window: {field} {problem}.", details)
        return fields

    def _save(self, user: User, row: Maintenance) -> WindowView:
        saved = self._app.maintenance.save(row)
        self._changed(user)
        return self._view(saved)

    def _changed(self, user: User) -> None:
        self._app.reload_maintenance()  # the engine's calendar
        self._app.page_versions.bump(user.id)  # the status page says "under maintenance"

    @staticmethod
    def _view(row: Maintenance, now: datetime | None = None) -> WindowView:
        return WindowView(row, Window.from_record(row).is_active(now or utcnow()))
