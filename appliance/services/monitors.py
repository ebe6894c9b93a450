"""Monitors: a user's monitors, their settings and live state, history and statistics.

Owns the rules: a monitor is only ever its owner's (anything else is NotFound), every
configuration is checked against its type (appliance/monitor_types) before it is stored, and
every change reaches the check engine (through the Appliance's schedule) and the public status
page (its version). Returns read models; the HTTP skin shapes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from appliance.engine.live import LiveState
from appliance.models import Monitor, User
from appliance.monitor_types.fields import CONFIG_FIELDS, CREATE_DEFAULTS, NOT_NULL
from appliance.reports import Report, monitor_report, window_uptime
from appliance.services.errors import Invalid, NotFound
from appliance.timeutil import as_utc, utcnow
from appliance.validation import InvalidMonitor, normalize_monitor


class MonitorView(NamedTuple):
    """A monitor as its owner sees it: settings, live state, 24 h uptime, maintenance now.
    (A tuple: a list of 1,000 is built per request, and a frozen dataclass costs 5x more.)"""

    monitor: Monitor
    live: LiveState
    uptime: float | None
    in_maintenance: bool


@dataclass(frozen=True)
class MonitorHistory:
    view: MonitorView
    rows: list
    summary: object  # HistorySummary: avg, min, max, counts
    uptime: float | None


class Monitors:
    def __init__(self, appliance):
        self._app = appliance  # the engine side: schedule, live state, stores

    # ---- reading -------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        """Moves whenever any stored monitor changes (callers may cache what derives from them)."""
        return self._app.entities.generation

    def list(self, user: User) -> list[MonitorView]:
        return self.views(self._app.entities.list_monitors(user.id))

    def get(self, user: User, monitor_id: int | Monitor) -> MonitorView:
        return self.views([self.owned(user, monitor_id)])[0]

    def owned(self, user: User, monitor: int | Monitor) -> Monitor:
        """The user's monitor with this id, else NotFound. Given a Monitor this call already
        found for them, that one (views check ownership first, to answer 404 before any 400)."""
        if isinstance(monitor, Monitor) and monitor.user_id == user.id:
            return monitor
        found = self._app.entities.get_monitor(monitor if isinstance(monitor, int) else monitor.id, user.id)
        if found is None:
            raise NotFound()
        return found

    def views(self, monitors: list[Monitor]) -> list[MonitorView]:
        app = self._app
        known, now = app.locations.known(), utcnow()
        live_state, uptime, covers = app.live_state, app.uptime.percent, app.calendar.covers
        return [MonitorView(m, live_state(m, known), uptime(m.id, now), m.is_active and covers(m.id, now))
                for m in monitors]

    def history(self, user: User, monitor_id: int | Monitor, hours: int) -> MonitorHistory:
        monitor = self.owned(user, monitor_id)
        app = self._app
        since = utcnow() - timedelta(hours=hours)
        now = since + timedelta(hours=hours)
        rows, summary = app.history.history_with_summary(monitor.id, since)
        uptime = window_uptime(app.history, app.entities, monitor.id, since, now, summary,
                               as_utc(monitor.created_at))
        return MonitorHistory(self.views([monitor])[0], rows, summary, uptime)

    def stats(self, user: User, monitor_id: int | Monitor, days: int) -> tuple[Monitor, Report]:
        monitor = self.owned(user, monitor_id)
        app = self._app
        return monitor, monitor_report(app.history, app.entities, monitor.id, days, utcnow(),
                                       as_utc(monitor.created_at))

    # ---- changing ------------------------------------------------------------------------------
    def create(self, user: User, given: dict) -> MonitorView:
        """`given`: the fields sent (types and ranges already checked)."""
        _reject_nulls(given)
        fields = {**CREATE_DEFAULTS, **{k: v for k, v in given.items() if v is not None}}
        fields = self.checked({name: fields.get(name) for name in CONFIG_FIELDS})
        return self.views([self._app.create_monitor(user, fields)])[0]

    def update(self, user: User, monitor_id: int | Monitor, changes: dict) -> MonitorView:
        """Any of the create fields; `type` only if unchanged."""
        monitor = self.owned(user, monitor_id)
        if changes.get("type") not in (None, monitor.type):
            raise Invalid("A monitor's type cannot be changed; create a new monitor instead.",
                          {"type": "cannot be changed"})
        changes = dict(changes)
        _reject_nulls(changes)
        changes.pop("type", None)
        if "ssl_check" in changes and changes["ssl_check"] is None:
            changes.pop("ssl_check")
        current = {name: getattr(monitor, name) for name in CONFIG_FIELDS}
        merged = self.checked({**current, **changes})
        return self._save(user, monitor, {n: merged[n] for n in CONFIG_FIELDS if merged[n] != current[n]})

    def set_active(self, user: User, monitor_id: int | Monitor, active: bool) -> MonitorView:
        return self._save(user, self.owned(user, monitor_id), {"is_active": active})

    def set_public(self, user: User, monitor_id: int | Monitor, public: bool) -> MonitorView:
        return self._save(user, self.owned(user, monitor_id), {"public_status": public})

    def delete(self, user: User, monitor_id: int) -> None:
        self.owned(user, monitor_id)
        self._app.delete_monitor(user, monitor_id)

    def checked(self, fields: dict) -> dict:
        """A complete configuration checked against its type, with the type's defaults filled in."""
        try:
            return normalize_monitor(fields, self._app.known_locations())
        except InvalidMonitor as exc:
            raise Invalid(f"Invalid monitor: {exc}.", exc.details) from None

    def _save(self, user: User, monitor: Monitor, updates: dict) -> MonitorView:
        if updates:
            monitor = self._app.update_monitor(user, monitor.id, updates)
            if monitor is None:  # deleted meanwhile
                raise NotFound()
        return self.views([monitor])[0]


def _reject_nulls(given: dict) -> None:
    """null is a wrong type for these fields (API.md: never coerced), on create as on update."""
    for name in NOT_NULL:
        if name in given and given[name] is None:
            raise Invalid(f"Invalid {name}: must not be null.", {name: "must not be null"})
