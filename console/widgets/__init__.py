"""Widgets of the console: each carries its own DEFAULT_CSS."""

from console.widgets.banner import ConnectionBanner
from console.widgets.chart import ResponseChart
from console.widgets.deliveries import DeliveriesTable
from console.widgets.fill_table import FillTable, clipped_cell
from console.widgets.footer import ConsoleFooter
from console.widgets.title_bar import TitleBar
from console.widgets.status import StatusTable, status_text

__all__ = ["ConnectionBanner", "ConsoleFooter", "DeliveriesTable", "FillTable", "ResponseChart", "StatusTable", "TitleBar", "clipped_cell",
           "status_text"]
