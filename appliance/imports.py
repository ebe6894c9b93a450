"""An import, planned: what a configuration document creates and changes for one user.

The HTTP layer checks the whole document against the user's configuration and builds the plan
(server/import_plan.py); a dry run reports it; a real run writes it in one transaction
(storage/imports.py) through Appliance.apply_import, which schedules the monitors only after
that transaction committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class WindowSpec:
    """A maintenance window as a document gives it: its monitors by name."""

    name: str
    monitor_names: tuple[str, ...]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    recurring: dict | None = None
    notice: str | None = None  # announced on the status page

    def fields(self, monitor_ids: dict[str, int]) -> dict:
        """The Maintenance columns, the monitor names resolved to ids."""
        return {"name": self.name, "monitor_ids": [monitor_ids[n] for n in self.monitor_names],
                "starts_at": self.starts_at, "ends_at": self.ends_at, "recurring": self.recurring,
                "notice": self.notice}


@dataclass
class ImportPlan:
    user_id: int
    # The user's existing monitors the document names (its own monitors or a window's), by name.
    monitor_ids: dict[str, int] = field(default_factory=dict)
    new_monitors: list[dict] = field(default_factory=list)  # complete, checked monitor fields
    monitor_changes: dict[int, dict] = field(default_factory=dict)  # monitor id -> changed fields
    new_webhooks: list[dict] = field(default_factory=list)  # url, format, events, enabled
    webhook_changes: dict[int, dict] = field(default_factory=dict)
    status_page: dict | None = None  # company_name and status_page_slug, when they change
    new_windows: list[WindowSpec] = field(default_factory=list)
    window_changes: dict[int, WindowSpec] = field(default_factory=dict)
    created: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    unchanged: list[dict] = field(default_factory=list)

    def note(self, outcome: str, kind: str, name: str) -> None:
        """Record for the report: outcome is created, updated or unchanged."""
        getattr(self, outcome).append({"kind": kind, "name": name})

    @property
    def changes_windows(self) -> bool:
        return bool(self.new_windows or self.window_changes)

    def report(self, dry_run: bool) -> dict:
        return {"dry_run": dry_run, "created": self.created, "updated": self.updated, "unchanged": self.unchanged}
