"""What the list screens share: a DataTable refilled without losing its cursor, and the item
under the cursor."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from textual.widgets import DataTable


@contextmanager
def refilling(table: DataTable) -> Iterator[DataTable]:
    """Clear the table for its new rows; then put the cursor back on the same row number (or the last)."""
    row = table.cursor_row
    table.clear()
    yield table
    if table.row_count:
        table.move_cursor(row=min(max(row, 0), table.row_count - 1))


def selected_item(node, table_id: str, items: list, warning: str = "") -> Any | None:
    """The item under the cursor of the table #<table_id>, which shows `items` in order; None
    (after `warning` as a notification, if given) when there is none."""
    table = node.query_one(f"#{table_id}", DataTable)
    if items and 0 <= table.cursor_row < len(items):
        return items[table.cursor_row]
    if warning:
        node.notify(warning, severity="warning")
    return None
