"""Create or edit a maintenance window: its name, its monitors (a selection list of yours), and
either a one-off range (ISO 8601 start and end) or a weekly schedule (days, a start time, a
duration and a time zone), and an optional notice for the public status page. The server
validates; its `details` appear under each field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, RadioButton, RadioSet, SelectionList, Static

from console.screens.form import FormPage, field_error, form_buttons, form_field, page_bindings
from console.screens.maintenance import WEEKDAYS
from console.widgets import ConsoleFooter, TitleBar

ONCE, WEEKLY = "kind-once", "kind-weekly"
# Where a `details` key of the server's answer is shown: "recurring.start" under #start, ...
FIELD_OF = {"recurring.weekdays": "weekdays", "recurring.start": "start",
            "recurring.duration_minutes": "duration_minutes", "recurring.timezone": "timezone"}
FIELD_GROUP = {"starts_at": ONCE, "ends_at": ONCE, "weekdays": WEEKLY, "start": WEEKLY,
               "duration_minutes": WEEKLY, "timezone": WEEKLY}


def iso_minute(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:00Z")


def with_zone(text: str) -> str:
    """An ISO 8601 time typed without an offset is taken as UTC (the label says so); anything
    else goes to the server as typed, which explains what is wrong with it."""
    text = text.strip()
    if not text:
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


class MaintenanceFormScreen(FormPage):
    """Dismisses with the saved window, or None when cancelled."""

    PALETTE_GROUP = "Maintenance window"
    BINDINGS = page_bindings("the maintenance window")
    GONE = "This maintenance window no longer exists."
    FOCUS_OF = {"weekdays": "day-mon", "recurring": "kind"}

    def __init__(self, window: dict | None = None, monitors: list[dict] | None = None):
        super().__init__()
        self.window = window
        self.monitors = monitors

    @property
    def editing(self) -> bool:
        return self.window is not None

    def compose(self) -> ComposeResult:
        window = self.window or {}
        recurring = window.get("recurring") or {}
        now = self.console_app.clock().replace(second=0, microsecond=0)
        title = f"Edit maintenance window “{window.get('name')}”" if self.window else "New maintenance window"
        yield TitleBar()
        with VerticalScroll(id="form"):
            yield Static(title, markup=False, classes="panel-title")
            yield self.form_error()
            yield form_field("name", "Name", Input(window.get("name", ""), id="name", placeholder="Database upgrade"))
            yield form_field("monitor_ids", "Monitors (space ticks one)", SelectionList[int](id="monitor_ids"))
            with Vertical(id="field-kind", classes="field"):
                yield Label("Schedule", classes="field-label")
                with RadioSet(id="kind"):
                    yield RadioButton("One-off: from a start to an end", not recurring, id=ONCE)
                    yield RadioButton("Weekly: on some days, at a time in a time zone", bool(recurring), id=WEEKLY)
                yield field_error("recurring")
            with Vertical(id=f"group-{ONCE}", classes="schedule"):
                yield form_field("starts_at", "Starts at (ISO 8601, e.g. 2024-01-15T22:00:00Z; UTC unless an "
                                              "offset is given)",
                                 Input(window.get("starts_at") or iso_minute(now), id="starts_at"))
                yield form_field("ends_at", "Ends at",
                                 Input(window.get("ends_at") or iso_minute(now + timedelta(hours=1)), id="ends_at"))
            with Vertical(id=f"group-{WEEKLY}", classes="schedule"):
                chosen = set(recurring.get("weekdays") or ())
                yield form_field("weekdays", "Days", Horizontal(
                    *(Checkbox(day.capitalize(), day in chosen, name=day, id=f"day-{day}", classes="weekday")
                      for day in WEEKDAYS), id="weekdays", classes="weekday-row"))
                yield form_field("start", "Starts at (HH:MM, wall-clock time in the time zone below)",
                                 Input(recurring.get("start", "02:00"), id="start", placeholder="02:00"))
                yield form_field("duration_minutes", "Duration (minutes)",
                                 Input(str(recurring.get("duration_minutes", 60)), id="duration_minutes"))
                yield form_field("timezone", "Time zone (e.g. Europe/Berlin, America/New_York or UTC)",
                                 Input(recurring.get("timezone", "UTC"), id="timezone"))
            yield form_field("notice", "Notice on the public status page (optional; shown while on or due "
                                       "within 30 days)",
                             Input(window.get("notice") or "", id="notice",
                                   placeholder="The shop is read-only for up to an hour."))
            yield form_buttons()
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self._show_kind()
        if self.monitors is not None:
            self.offer_monitors(self.monitors)
        else:
            self.call_api("monitors", self.client.list_monitors, on_done=self.offer_monitors)
        self.query_one("#name", Input).focus()

    def offer_monitors(self, monitors: list[dict]) -> None:
        self.monitors = list(monitors)
        chosen = set((self.window or {}).get("monitor_ids") or ())
        listing = self.query_one("#monitor_ids", SelectionList)
        listing.clear_options()
        listing.add_options([(Text.assemble(m.get("name") or f"#{m['id']}", (f"  {m.get('type', '')}", "dim")),
                              m["id"], m["id"] in chosen) for m in self.monitors])

    # ---- the kind of schedule -----------------------------------------------------------------
    @property
    def kind(self) -> str:
        return WEEKLY if self.query_one(f"#{WEEKLY}", RadioButton).value else ONCE

    def on_radio_set_changed(self, _event: RadioSet.Changed) -> None:
        self._show_kind()

    def _show_kind(self) -> None:
        kind = self.kind
        for group in (ONCE, WEEKLY):
            self.query_one(f"#group-{group}").display = group == kind

    # ---- saving -------------------------------------------------------------------------------
    def collect(self) -> tuple[dict, dict[str, str]]:
        """The request body (the whole window), and problems found before asking the server."""
        problems: dict[str, str] = {}
        body: dict = {"name": self.query_one("#name", Input).value.strip(),
                      "monitor_ids": list(self.query_one("#monitor_ids", SelectionList).selected),
                      "notice": self.query_one("#notice", Input).value.strip() or None}
        if self.kind == ONCE:
            body["starts_at"] = with_zone(self.query_one("#starts_at", Input).value) or None
            body["ends_at"] = with_zone(self.query_one("#ends_at", Input).value) or None
        else:
            duration = self.query_one("#duration_minutes", Input).value.strip()
            if not duration.isdigit():
                problems["duration_minutes"] = "must be a whole number of minutes"
            body["recurring"] = {
                "weekdays": [box.name for box in self.query("Checkbox.weekday") if box.value],
                "start": self.query_one("#start", Input).value.strip(),
                "duration_minutes": int(duration) if duration.isdigit() else 0,
                "timezone": self.query_one("#timezone", Input).value.strip(),
            }
        return body, problems

    def error_field(self, key: str) -> str | None:
        """A problem with a field of the other kind of schedule (hidden) goes with the message."""
        name = FIELD_OF.get(key, key.split(".")[0])
        return name if FIELD_GROUP.get(name, self.kind) == self.kind else None

    def send(self, body: dict) -> None:
        if self.editing:
            self.submit(self.client.update_maintenance, self.window["id"], body)
        else:
            self.submit(self.client.create_maintenance, body)

    def saved(self, window: dict) -> None:
        verb = "Saved" if self.editing else "Created"
        state = " It is on now." if window.get("active") else ""
        self.notify(f"{verb} the maintenance window “{window.get('name')}”.{state}")
        self.dismiss(window)
