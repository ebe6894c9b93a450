"""Create or edit a monitor. The server validates; its `details` appear under each field."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Input, Select, Static

from console.screens.form import FormPage, form_buttons, form_field, page_bindings
from console.widgets import ConsoleFooter, TitleBar

# The types, their target hints and which per-type fields each takes all come from the server
# (GET /api/monitors/types, its monitor-type registry): the console knows no type by itself.
INT_FIELDS = ("port", "interval", "timeout", "retries", "recovery_checks", "reminder_minutes", "grace",
              "expected_status")
TEXT_FIELDS = ("name", "target", "keyword")
CLEARABLE = {"target", "port", "grace", "keyword", "expected_status", "reminder_minutes"}  # null clears them on PUT
DEFAULTS = {"interval": "60", "timeout": "10", "retries": "1", "recovery_checks": "1", "check_locations": "all"}
# What an older server's monitor without the field means (so an unchanged form sends nothing).
IMPLIED = {"recovery_checks": 1}
FIELD_LABELS = {
    "name": "Name",
    "type": "Type",
    "target": "Target",
    "port": "Port (1–65535)",
    "interval": "Interval (seconds, ≥ 10)",
    "timeout": "Timeout (seconds)",
    "retries": "Retries before down",
    "recovery_checks": "Recovery checks (successes in a row before up again, 1–10)",
    "reminder_minutes": "Reminder: send the down alert again every N minutes while down (blank: off, ≥ 5)",
    "check_locations": "Locations (comma-separated, or all)",
    "ssl_check": "Check the TLS certificate",
    "keyword": "Keyword the body must contain (optional)",
    "expected_status": "Expected HTTP status (optional)",
    "grace": "Grace (seconds after the interval)",
}


class MonitorFormScreen(FormPage):
    """Dismisses with the saved monitor, or None when cancelled."""

    PALETTE_GROUP = "Monitor form"
    BINDINGS = page_bindings("the monitor")
    GONE = "This monitor no longer exists."

    def __init__(self, types: list[dict], monitor: dict | None = None):
        super().__init__()
        self.monitor = monitor
        self.types = [t["name"] for t in types]
        self.target_hints = {t["name"]: t.get("target_hint") or "" for t in types}
        # Which optional fields each type takes (the server refuses the others).
        self.only_for: dict[str, set[str]] = {"target": {t["name"] for t in types if t.get("has_target")}}
        for kind in types:
            for option in kind.get("options", []):
                self.only_for.setdefault(option, set()).add(kind["name"])

    @property
    def editing(self) -> bool:
        return self.monitor is not None

    def _value(self, name: str, default=""):
        if not self.monitor:
            return default
        value = self.monitor.get(name, IMPLIED.get(name))
        if name == "check_locations":
            return ", ".join(value or ["all"])
        return "" if value is None else str(value)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        title = f"Edit monitor “{self.monitor['name']}”" if self.monitor else "New monitor"
        with VerticalScroll(id="form"):
            yield Static(title, classes="panel-title")
            yield self.form_error()
            kind = (self.monitor or {}).get("type", "https")
            for name in ("name", "type", "target", "port", "interval", "timeout", "retries", "recovery_checks",
                         "reminder_minutes", "check_locations", "ssl_check", "keyword", "expected_status", "grace"):
                if name == "ssl_check":
                    yield form_field(name, None, Checkbox(FIELD_LABELS[name],
                                                          bool((self.monitor or {}).get("ssl_check", True)),
                                                          id="ssl_check"))
                elif name == "type":
                    yield form_field(name, FIELD_LABELS[name], Select(
                        [(t, t) for t in self.types], value=kind, allow_blank=False, id="type",
                        disabled=self.editing))
                else:
                    yield form_field(name, FIELD_LABELS[name], Input(
                        self._value(name, DEFAULTS.get(name, "")), id=name,
                        placeholder=self.target_hints.get(kind, "") if name == "target" else "", type="text"))
            yield form_buttons()
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self._show_fields(self.kind)
        self.query_one("#name", Input).focus()

    @property
    def kind(self) -> str:
        value = self.query_one("#type", Select).value
        return value if isinstance(value, str) else "https"

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "type":
            self._show_fields(self.kind)

    def _show_fields(self, kind: str) -> None:
        for name, kinds in self.only_for.items():
            self.query_one(f"#field-{name}").display = kind in kinds
        self.query_one("#target", Input).placeholder = self.target_hints.get(kind, "")

    # ---- saving ------------------------------------------------------------------------------
    def collect(self) -> tuple[dict, dict[str, str]]:
        """The request body, and problems found before asking the server (not whole numbers)."""
        kind = self.kind
        values: dict = {}
        problems: dict[str, str] = {}
        for name in TEXT_FIELDS + INT_FIELDS + ("check_locations", "ssl_check"):
            if name in self.only_for and kind not in self.only_for[name]:
                continue
            if name == "ssl_check":
                values[name] = self.query_one("#ssl_check", Checkbox).value
                continue
            text = self.query_one(f"#{name}", Input).value.strip()
            if name == "check_locations":
                values[name] = [part.strip() for part in text.split(",") if part.strip()] or ["all"]
            elif name in INT_FIELDS:
                if not text:
                    values[name] = None
                elif text.lstrip("-").isdigit():
                    values[name] = int(text)
                else:
                    problems[name] = "must be a whole number"
            else:
                values[name] = text or None
        if self.editing:
            body = {}
            for name, value in values.items():
                before = self.monitor.get(name, IMPLIED.get(name))
                if name == "check_locations":
                    before = list(before or ["all"])
                if value == before:
                    continue
                if value is None and name not in CLEARABLE:
                    continue
                body[name] = value
        else:
            body = {"type": kind, **{k: v for k, v in values.items()
                                     if v is not None and not (k in IMPLIED and v == IMPLIED[k])}}
        return body, problems

    def error_field(self, key: str) -> str | None:
        """A problem with a field this type of monitor hides goes with the message."""
        name = key.split(".")[0]
        fields = self.query(f"#field-{name}")
        return None if fields and not fields.first().display else name

    def send(self, body: dict) -> None:
        if not self.editing:
            self.submit(self.client.create_monitor, body)
        elif body:
            self.submit(self.client.update_monitor, self.monitor["id"], body)
        else:
            self.dismiss(self.monitor)

    def saved(self, monitor: dict) -> None:
        verb = "Saved" if self.editing else "Created"
        self.notify(f"{verb} monitor “{monitor['name']}”.")
        self.dismiss(monitor)
