"""DeliveriesTable: a webhook's recent deliveries, with the columns the server's answer has.
Pure rendering: no API calls."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from console.widgets.status import short_time

# Shown in this order where any delivery has them (servers have named some of them differently).
COLUMNS = ("id", "event", "monitor", "state", "status", "attempt_count", "last_status_code", "status_code",
           "created_at", "finished_at", "next_attempt_at", "last_error", "error")
MAX_OTHER_COLUMNS = 7  # an answer with none of COLUMNS: its first few plain fields


def as_deliveries(answer: Any) -> list[dict]:
    """The deliveries in an answer: a list, or one wrapped as {"deliveries": [...]} or {"items": [...]}."""
    if isinstance(answer, dict):
        answer = answer.get("deliveries") or answer.get("items") or []
    return list(answer or [])


def _cell(column: str, value: Any) -> str:
    if column == "monitor" and isinstance(value, dict):  # {id, name}: the monitor the event is about
        return f"{value.get('name')} (#{value.get('id')})"
    if column.endswith("_at") and value:
        return short_time(value)
    return "—" if value is None else str(value)


class DeliveriesTable(DataTable):
    DEFAULT_CSS = """
    DeliveriesTable {
        height: 1fr;
    }
    """

    def show(self, deliveries: list[dict]) -> None:
        self.clear(columns=True)
        present = [c for c in COLUMNS if any(c in d for d in deliveries)]
        if not present and deliveries:
            first = deliveries[0]
            present = [k for k in first if not isinstance(first[k], (dict, list))][:MAX_OTHER_COLUMNS]
        for column in present:
            self.add_column(column.replace("_", " ").capitalize(), key=column)
        for delivery in deliveries:
            self.add_row(*(_cell(column, delivery.get(column)) for column in present))
