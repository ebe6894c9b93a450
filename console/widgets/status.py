"""How a status looks (colour AND symbol, so it reads without colour too), time helpers, and the
StatusTable: the dashboard's sortable, filterable table of monitors."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Callable

from rich.text import Text
from textual.widgets import DataTable

STATUS_LOOK = {
    "up": ("▲", "up", "bold green"),
    "down": ("▼", "down", "bold red"),
    "pending": ("●", "pending", "bold yellow"),
    "paused": ("❚❚", "paused", "dim"),
}
LOCATION_LOOK = {"up": ("▲", "green"), "down": ("▼", "red"), "pending": ("●", "yellow")}
# Inside a maintenance window (checks go on, no incidents or down alerts): shown next to the status.
MAINTENANCE_LOOK = ("⚒", "maint", "bold dodger_blue1")


def status_text(status: str | None, word: bool = True) -> Text:
    symbol, label, style = STATUS_LOOK.get(status or "", ("?", status or "unknown", "magenta"))
    return Text(f"{symbol} {label}" if word else symbol, style=style)


def maintenance_text(long: bool = False) -> Text:
    symbol, label, style = MAINTENANCE_LOOK
    return Text(f"{symbol} {'in maintenance' if long else label}", style=style)


def monitor_status_text(monitor: dict) -> Text:
    """The status, plus "⚒ maint" while the monitor is inside a maintenance window."""
    text = status_text(monitor.get("status"))
    if monitor.get("in_maintenance"):
        text.append(" ")
        text.append_text(maintenance_text())
    return text


def locations_text(location_status: dict[str, str] | None) -> Text:
    text = Text()
    for index, (name, state) in enumerate(sorted((location_status or {}).items())):
        symbol, style = LOCATION_LOOK.get(state, ("?", "magenta"))
        if index:
            text.append(" ")
        text.append(f"{name} ")
        text.append(symbol, style=style)
    return text if text.plain else Text("—", style="dim")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def ago(value: str | None, now: datetime) -> str:
    """'12s ago', '5m ago', '3h ago', '2d ago' ('—' when never)."""
    moment = parse_time(value)
    if moment is None:
        return "—"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m ago"
    if seconds < 86400:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def duration(seconds: int | float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def short_time(value: str | None) -> str:
    """'2024-01-15 10:30' (UTC) for tables."""
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"


def millis(value: int | float | None) -> str:
    return "—" if value is None else f"{round(value)} ms"


def percent(value: str | float | None) -> str:
    """Uptime with two decimals everywhere ("99.9" and "99.90" from two endpoints look the same).
    Cut, not rounded: 99.996 % is not 100 %."""
    if value in (None, ""):
        return "—"
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    except InvalidOperation:
        return f"{value} %"
    return f"{number} %"


def clipped(value: str, width: int) -> str:
    """`value` in at most `width` characters, with an ellipsis when it was cut."""
    value = " ".join(value.split())  # one line: causes and messages may carry newlines
    if len(value) <= width:
        return value
    return value[:max(0, width - 1)] + "…"


def uptime_style(value: str | None) -> str:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return ""
    if number is None:
        return "dim"
    if number >= 99.9:
        return "green"
    if number >= 99:
        return "yellow"
    return "red"


# ---- the table ------------------------------------------------------------------------------

STATUS_ORDER = {"down": 0, "pending": 1, "up": 2, "paused": 3}
COLUMNS = (  # key, label
    ("status", "Status"),
    ("name", "Name"),
    ("type", "Type"),
    ("target", "Target"),
    ("response", "Response"),
    ("uptime", "Uptime 24h"),
    ("locations", "Locations"),
    ("last_check", "Last check"),
)
SORT_KEYS = tuple(key for key, _ in COLUMNS)


def _last(value: Any) -> tuple[int, Any]:
    """Sort key with missing values after every real one."""
    return (1, 0) if value is None else (0, value)


def _uptime_number(monitor: dict) -> float | None:
    try:
        return float(monitor.get("uptime_percentage")) if monitor.get("uptime_percentage") is not None else None
    except (TypeError, ValueError):
        return None


SORTERS: dict[str, Callable[[dict], Any]] = {
    "status": lambda m: (STATUS_ORDER.get(m.get("status"), 9), (m.get("name") or "").casefold()),
    "name": lambda m: (m.get("name") or "").casefold(),
    "type": lambda m: (m.get("type") or "", (m.get("name") or "").casefold()),
    "target": lambda m: (m.get("target") or "").casefold(),
    "response": lambda m: _last(m.get("response_time")),
    "uptime": lambda m: _last(_uptime_number(m)),
    "locations": lambda m: sorted((m.get("location_status") or {}).items()),
    "last_check": lambda m: _last(m.get("last_check")),
}


def matches(monitor: dict, text: str) -> bool:
    """Every word of the filter appears in the name, type, target or status ("maintenance" too)."""
    haystack = " ".join(str(monitor.get(key) or "") for key in ("name", "type", "target", "status")).casefold()
    if monitor.get("in_maintenance"):
        haystack += " maintenance"
    return all(word in haystack for word in text.casefold().split())


class StatusTable(DataTable):
    """Monitors, one row each (row key = monitor id). `show()` applies the filter and sort and
    keeps the cursor on the same monitor across refreshes. Click a header to sort by it (again:
    reverse)."""

    DEFAULT_CSS = """
    StatusTable {
        height: 1fr;
        border: none;
    }
    StatusTable > .datatable--header {
        text-style: bold;
    }
    """

    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.monitors: list[dict] = []
        self.shown: list[dict] = []
        self.filter_text = ""
        self.sort_key = "status"
        self.sort_reverse = False
        self.now: datetime = datetime.now(timezone.utc)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(self._label(key, label), key=key)

    def _label(self, key: str, label: str) -> Text:
        if key == self.sort_key:
            return Text(f"{label} {'↓' if not self.sort_reverse else '↑'}")
        return Text(label)

    # ---- data -------------------------------------------------------------------------------
    def show(self, monitors: list[dict] | None = None, now: datetime | None = None) -> None:
        if monitors is not None:
            self.monitors = list(monitors)
        if now is not None:
            self.now = now
        visible = [m for m in self.monitors if matches(m, self.filter_text)]
        visible.sort(key=SORTERS.get(self.sort_key, SORTERS["status"]), reverse=self.sort_reverse)
        current = self.current_id()
        same_rows = [m["id"] for m in visible] == [m["id"] for m in self.shown] and self.row_count == len(visible)
        self.shown = visible
        if same_rows:
            for monitor in visible:
                for key, value in zip(SORT_KEYS, self._cells(monitor)):
                    self.update_cell(str(monitor["id"]), key, value)
        else:
            self.clear()
            for monitor in visible:
                self.add_row(*self._cells(monitor), key=str(monitor["id"]))
            if current is not None and self.select_id(current):
                pass
        for column_key, label in COLUMNS:
            column = self.columns.get(column_key)  # type: ignore[call-overload]
            if column is not None:
                column.label = self._label(column_key, label)
        self.refresh()

    def _cells(self, monitor: dict) -> list[Any]:
        response = monitor.get("response_time")
        uptime = monitor.get("uptime_percentage")
        target = monitor.get("target") or (monitor.get("heartbeat_url") and "heartbeat") or "—"
        if monitor.get("port") and monitor.get("type") == "tcp":
            target = f"{target}:{monitor['port']}"
        name = Text(monitor.get("name") or "")
        if monitor.get("public_status"):
            name.append(" ◉", style="cyan")
        return [
            monitor_status_text(monitor),
            name,
            monitor.get("type") or "",
            Text(str(target), overflow="ellipsis", no_wrap=True),
            Text(millis(response), justify="right"),
            Text(percent(uptime), style=uptime_style(uptime), justify="right"),
            locations_text(monitor.get("location_status")),
            ago(monitor.get("last_check"), self.now),
        ]

    # ---- sort and filter --------------------------------------------------------------------
    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = (not self.sort_reverse) if key == self.sort_key else False
        self.sort_key, self.sort_reverse = key, reverse
        self.show()

    def cycle_sort(self) -> str:
        index = (SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS) if self.sort_key in SORT_KEYS else 0
        self.sort_by(SORT_KEYS[index], reverse=False)
        return SORT_KEYS[index]

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self.show()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        # Not stopped: the screen hears it too (after the sort) and can say how rows are sorted.
        if event.column_key.value:
            self.sort_by(event.column_key.value)

    # ---- cursor -----------------------------------------------------------------------------
    def current_id(self) -> int | None:
        if not self.shown or self.row_count == 0:
            return None
        row = self.cursor_row
        if 0 <= row < len(self.shown):
            return self.shown[row]["id"]
        return None

    def current(self) -> dict | None:
        monitor_id = self.current_id()
        return next((m for m in self.shown if m["id"] == monitor_id), None)

    def select_id(self, monitor_id: int) -> bool:
        for index, monitor in enumerate(self.shown):
            if monitor["id"] == monitor_id:
                self.move_cursor(row=index)
                return True
        return False
