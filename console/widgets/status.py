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
COLUMNS = (  # key, label (in the order they are shown)
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
# Narrow terminals: shorter headers, and columns dropped from the end of this list first. The
# status is never dropped; a name or target too long for its column ends with an ellipsis.
SHORT_LABELS = {"response": "Resp.", "uptime": "Up 24h", "last_check": "Checked", "locations": "Loc."}
PRIORITY = ("status", "name", "response", "uptime", "last_check", "target", "type", "locations")
MAX_WIDTH = {"name": 28, "target": 40, "locations": 30}
NARROW_MAX_WIDTH = {**MAX_WIDTH, "name": 20}  # a long name gives way to the target's first part
MIN_WIDTH = {"name": 8, "target": 12}
NARROW = 110  # below this many columns, the short headers and NARROW_MAX_WIDTH


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


def _cell_width(cell: Any) -> int:
    return cell.cell_len if isinstance(cell, Text) else Text(str(cell)).cell_len


def fit_columns(needed: dict[str, int], available: int, padding: int = 1) -> dict[str, int]:
    """Which columns fit in `available` cells and how wide each is: by PRIORITY, each whole (or,
    for the name and target, cut down to its minimum)."""
    widths: dict[str, int] = {}
    room = available
    caps = NARROW_MAX_WIDTH if available < NARROW else MAX_WIDTH
    for key in PRIORITY:
        want = min(needed.get(key, 0), caps.get(key, 10_000))
        least = min(want, MIN_WIDTH.get(key, want))
        if key == "status" or want + 2 * padding <= room:
            widths[key] = want
        elif least + 2 * padding <= room:
            widths[key] = room - 2 * padding
        else:
            continue
        room -= widths[key] + 2 * padding
    return {key: widths[key] for key, _ in COLUMNS if key in widths}


class StatusTable(DataTable):
    """Monitors, one row each (row key = monitor id). `show()` applies the filter and sort and
    keeps the cursor on the same monitor across refreshes. Click a header to sort by it (again:
    reverse). The columns fit the width: narrow terminals get short headers and lose the
    lower-priority columns (PRIORITY), never the status."""

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
        self.widths: dict[str, int] = {}  # the columns shown now, and their widths

    def on_mount(self) -> None:
        self._layout()

    def on_resize(self) -> None:
        if self.is_mounted:
            self.show()

    @property
    def visible_keys(self) -> tuple[str, ...]:
        return tuple(self.widths)

    def _label(self, key: str) -> Text:
        label = dict(COLUMNS)[key]
        if self.size.width and self.size.width < NARROW:
            label = SHORT_LABELS.get(key, label)
        if key == self.sort_key:
            return Text(f"{label} {'↓' if not self.sort_reverse else '↑'}")
        return Text(label)

    def _layout(self, rows: list[list[Any]] | None = None) -> bool:
        """Choose the columns for this width and these rows; True when they changed (the table
        was rebuilt empty)."""
        needed = {key: self._label(key).cell_len for key, _ in COLUMNS}
        for cells in rows or []:
            for (key, _), cell in zip(COLUMNS, cells):
                needed[key] = max(needed[key], _cell_width(cell))
        available = self.size.width or self.app.size.width
        if len(rows or []) + 1 > self.size.height:
            available -= 2  # the vertical scrollbar's room
        widths = fit_columns(needed, available, self.cell_padding)
        if widths == self.widths and self.columns:
            return False
        self.widths = widths
        self.clear(columns=True)
        for key, width in widths.items():
            self.add_column(self._label(key), width=width, key=key)
        return True

    # ---- data -------------------------------------------------------------------------------
    def show(self, monitors: list[dict] | None = None, now: datetime | None = None) -> None:
        if monitors is not None:
            self.monitors = list(monitors)
        if now is not None:
            self.now = now
        visible = [m for m in self.monitors if matches(m, self.filter_text)]
        visible.sort(key=SORTERS.get(self.sort_key, SORTERS["status"]), reverse=self.sort_reverse)
        current = self.current_id()
        rows = [self._cells(monitor) for monitor in visible]
        rebuilt = self._layout(rows)
        same_rows = not rebuilt and [m["id"] for m in visible] == [m["id"] for m in self.shown] \
            and self.row_count == len(visible)
        self.shown = visible
        keys = [key for key, _ in COLUMNS]
        if same_rows:
            for monitor, cells in zip(visible, rows):
                for key, value in zip(keys, cells):
                    if key in self.widths:
                        self.update_cell(str(monitor["id"]), key, value)
        else:
            self.clear()
            for monitor, cells in zip(visible, rows):
                self.add_row(*(value for key, value in zip(keys, cells) if key in self.widths),
                             key=str(monitor["id"]))
            if current is not None:
                self.select_id(current)
        for column_key in self.widths:
            column = self.columns.get(column_key)  # type: ignore[call-overload]
            if column is not None:
                column.label = self._label(column_key)
        self.refresh()

    def _cells(self, monitor: dict) -> list[Any]:
        """One monitor's cells, in COLUMNS order."""
        response = monitor.get("response_time")
        uptime = monitor.get("uptime_percentage")
        target = monitor.get("target") or (monitor.get("heartbeat_url") and "heartbeat") or "—"
        if monitor.get("port") and monitor.get("type") == "tcp":
            target = f"{target}:{monitor['port']}"
        name = Text(monitor.get("name") or "", overflow="ellipsis", no_wrap=True)
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
        """Sort by the next column shown."""
        keys = self.visible_keys or SORT_KEYS
        index = (keys.index(self.sort_key) + 1) % len(keys) if self.sort_key in keys else 0
        self.sort_by(keys[index], reverse=False)
        return keys[index]

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
