"""ResponseChart: response times over a time range as a bar chart of Unicode eighth blocks.

The range is cut into one bucket per column; each bucket shows the average response time of its
successful checks (green, or yellow above twice the median), a red ░ bar when a check in it
failed, and a dim · when it has no check at all. Pure rendering: no timers, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from console.widgets.status import parse_time

BLOCKS = " ▁▂▃▄▅▆▇█"
GUTTER = 9  # "1234 ms ┤"


class ResponseChart(Widget):
    DEFAULT_CSS = """
    ResponseChart {
        height: 10;
        width: 1fr;
        padding: 0 1;
    }
    """

    points: reactive[tuple] = reactive(tuple, layout=False)

    def __init__(self, *, title: str = "Response time", **kwargs):
        super().__init__(**kwargs)
        self.title = title
        self.since: datetime | None = None
        self.until: datetime | None = None

    def set_data(self, history: list[dict], since: datetime, until: datetime) -> None:
        """`history` as the API gives it: [{checked_at, status, response_time, location}]."""
        parsed = []
        for point in history:
            at = parse_time(point.get("checked_at"))
            if at is not None:
                parsed.append((at, point.get("status"), point.get("response_time")))
        self.since, self.until = since, until
        self.points = tuple(parsed)

    @property
    def bucket_count(self) -> int:
        return max(1, self.size.width - 2 - GUTTER)

    def buckets(self, count: int) -> list[tuple[float | None, bool, bool]]:
        """Per column: (average ms of up checks or None, any down, any check)."""
        if self.since is None or self.until is None or self.until <= self.since:
            return [(None, False, False)] * count
        span = (self.until - self.since).total_seconds()
        sums = [0.0] * count
        ups = [0] * count
        downs = [False] * count
        seen = [False] * count
        for at, status, response in self.points:
            offset = (at - self.since).total_seconds()
            if offset < 0 or offset > span:
                continue
            index = min(count - 1, int(offset / span * count))
            seen[index] = True
            if status == "down":
                downs[index] = True
            elif response is not None:
                sums[index] += response
                ups[index] += 1
        return [(sums[i] / ups[i] if ups[i] else None, downs[i], seen[i]) for i in range(count)]

    def render(self) -> Text:
        rows = max(2, self.size.height - 3)  # title, axis and time labels take three rows
        count = self.bucket_count
        buckets = self.buckets(count)
        values = [value for value, _, _ in buckets if value is not None]
        top = max(values) if values else 0.0
        scale = _nice_ceiling(top) if top > 0 else 1.0
        typical = median(values) if values else 0.0
        text = Text()
        text.append(f"{self.title}", style="bold")
        if self.since and self.until:
            hours = round((self.until - self.since) / timedelta(hours=1))
            text.append(f"  last {hours} h", style="dim")
        if values:
            text.append(f"  avg {round(sum(values) / len(values))} ms  max {round(top)} ms", style="dim")
        elif not self.points:
            text.append("  no checks in this range yet", style="dim")
        text.append("\n")
        for row in range(rows):
            level_top = rows - row  # this row covers eighths (level_top-1)*8 .. level_top*8
            if row == 0:
                label = f"{_short_ms(scale):>7} ┤"
            elif row == rows - 1:
                label = f"{'0 ms':>7} ┤"
            else:
                label = f"{'':>7} │"
            text.append(label, style="dim")
            for value, down, seen in buckets:
                if value is None:
                    if down:
                        text.append("░", style="red")
                    elif row == rows - 1 and not seen:
                        text.append("·", style="dim")
                    else:
                        text.append(" ")
                    continue
                eighths = max(1, round(value / scale * rows * 8))
                filled = eighths - (level_top - 1) * 8
                char = BLOCKS[max(0, min(8, filled))]
                style = "red" if down else ("yellow" if value > 2 * typical and typical else "green")
                text.append(char, style=style)
            text.append("\n")
        text.append(f"{'':>7} └" + "─" * count + "\n", style="dim")
        if self.since and self.until:
            fmt = "%H:%M" if self.until - self.since < timedelta(hours=24) else "%b %d %H:%M"
            left = self.since.strftime(fmt)
            right = self.until.strftime(fmt) + " UTC"
            gap = max(1, count - len(left) - len(right))
            text.append(" " * GUTTER + left + " " * gap + right, style="dim")
        return text


def _nice_ceiling(value: float) -> float:
    """The next 'round' number at or above value (1, 2, 2.5, 5 × 10^n)."""
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _short_ms(value: float) -> str:
    if value >= 10000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms"
