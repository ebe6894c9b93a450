"""FillTable: a DataTable whose one free-text column (a cause, a message) takes the width the
other columns leave, and cuts its text with an ellipsis instead of running off the edge."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


def clipped_cell(value: str | None) -> Text:
    """A cell for the fill column: one line, an ellipsis where the column cuts it."""
    return Text(" ".join((value or "").split()), no_wrap=True, overflow="ellipsis")


class FillTable(DataTable):
    MIN_FILL = 8

    def __init__(self, *, fill: str, **kwargs):
        super().__init__(**kwargs)
        self.fill = fill  # the key of the column that takes the rest of the width

    def on_resize(self) -> None:
        self.refit()

    def refit(self) -> None:
        """Give the fill column what is left (call after adding rows: other columns may have grown)."""
        column = self.columns.get(self.fill)  # type: ignore[call-overload]
        if column is None:
            return
        others = sum(c.get_render_width(self) for key, c in self.columns.items() if key != self.fill)
        width = max(self.MIN_FILL, self.scrollable_content_region.width - others - 2 * self.cell_padding)
        if column.width != width or column.auto_width:
            column.auto_width = False
            column.width = width
            self._update_count += 1  # DataTable's render caches key on it (as after a resize)
            self._require_update_dimensions = True
            self.refresh()
