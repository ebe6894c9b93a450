"""Export and import of a user's configuration (monitors, webhooks, status page, maintenance).

- Export has no ids and no secrets; maintenance windows name their monitors.
- Import: the HTTP skin reads and checks the document against what the user has now (a
  `Snapshot`, from here) into an `ImportPlan`; `apply` writes the plan in one transaction (or
  nothing) and only then tells the engine, the calendar and the status page.
- Documents are untrusted input and reading them is CPU work that holds the interpreter, so only
  a few transfers run at once (`slot`): one per user, two on the appliance; beyond that SlotsBusy
  at once, instead of taking an API thread from everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from appliance.imports import ImportPlan
from appliance.models import HTTP_FORMATS, Maintenance, Monitor, User, Webhook
from appliance.monitor_types.fields import CONFIG_FIELDS
from appliance.services.errors import Conflict
from appliance.storage.entities import Conflict as StoreConflict
from appliance.timeutil import iso


@dataclass(frozen=True)
class Snapshot:
    """What an import is checked against: the user's configuration as it is now."""

    user: User
    known_locations: set[str]
    monitors: list[Monitor]
    webhooks: list[Webhook]
    windows: list[Maintenance]
    slug_owner: Callable[[str], User | None]  # who has a status page address, if anyone


class Transfer:
    def __init__(self, appliance):
        self._app = appliance

    def slot(self, user: User):
        """One of the import/export slots (a context manager), or SlotsBusy at once."""
        return self._app.transfers.hold(user.id)

    def export(self, user: User) -> dict:
        app = self._app
        monitors = app.entities.list_monitors(user.id)
        names = {m.id: m.name for m in monitors}
        return {
            "version": 1,
            "monitors": [{f: (list(getattr(m, f)) if f == "check_locations" else getattr(m, f))
                          for f in CONFIG_FIELDS} for m in monitors],
            # E-mail and Apprise channels are left out: their settings are secrets (no secrets here).
            "webhooks": [{"url": w.url, "format": w.format, "events": list(w.events), "enabled": w.enabled}
                         for w in app.outbox.webhooks(user.id) if w.format in HTTP_FORMATS],
            "status_page": ({"company_name": user.company_name or "", "slug": user.status_page_slug}
                            if user.status_page_slug else None),
            "maintenance": [{"name": w.name, "monitors": [names[i] for i in w.monitor_ids if i in names],
                             "starts_at": iso(w.starts_at), "ends_at": iso(w.ends_at), "recurring": w.recurring,
                             "notice": w.notice}
                            for w in app.maintenance.list(user.id)],
        }

    def snapshot(self, user: User) -> Snapshot:
        app = self._app
        return Snapshot(user, app.known_locations(), app.entities.list_monitors(user.id),
                        app.outbox.webhooks(user.id), app.maintenance.list(user.id),
                        app.entities.user_by_status_page_slug)

    def check_room(self, user: User, plan: ImportPlan) -> None:
        """The plan's limits for the whole document before anything is written (LimitReached)."""
        self._app.check_room(user, {"monitors": len(plan.new_monitors), "webhooks": len(plan.new_webhooks),
                                    "maintenance_windows": len(plan.new_windows)})

    def apply(self, user: User, plan: ImportPlan) -> None:
        """Everything or nothing (Conflict when the user's configuration changed meanwhile)."""
        try:
            self._app.apply_import(user, plan)
        except StoreConflict as exc:
            raise Conflict(f"Nothing was imported: {exc}; try again (a dry run shows what would change).") from None
        if plan.status_page is not None:  # what was cached at either address
            self._app.services.status_pages.forget(user.status_page_slug, plan.status_page["status_page_slug"])
