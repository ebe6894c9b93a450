"""ResponseChart: response times over a time range as a bar chart of Unicode eighth blocks.

The time axis is cut into one bucket per column; each bucket shows the highest response time of
its successful checks (green, or yellow above twice the typical column), a red ░ bar when a check
in it failed, and a dim · when it has no check at all. Bars are per-column maxima, not averages,
so the chart's "max" is the same number as the stats' max and a spike is never averaged away.

When the checks cover much less than the range (a new monitor in a 24 h chart), the axis spans
only the time the data covers, and the title says so: squeezing a few minutes of checks into one
column of a day-wide axis would show nothing. Pure rendering: no timers, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from rich.text import Text
from textual.widget import Widget

from console.widgets.status import duration, parse_time

BLOCKS = " ▁▂▃▄▅▆▇█"
GUTTER = 9  # "1234 ms ┤"
SHORT_DATA = 0.1  # data starting later than this share of the range into it: draw the data's span only
MIN_SPAN = timedelta(seconds=10)  # the shortest interval: one check alone still gets an axis


class ResponseChart(Widget):
    DEFAULT_CSS = """
    ResponseChart {
        height: 10;
        width: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, title: str = "Response time", **kwargs):
        super().__init__(**kwargs)
        self.title = title
        self.points: tuple = ()
        self.since: datetime | None = None  # the requested range
        self.until: datetime | None = None
        self.axis_since: datetime | None = None  # where the time axis starts (later when data is short)

    def set_data(self, history: list[dict], since: datetime, until: datetime) -> None:
        """`history` as the API gives it: [{checked_at, status, response_time, location}].
        Always repaints: a new range with the same points is still a new picture."""
        parsed = []
        for point in history:
            at = parse_time(point.get("checked_at"))
            if at is not None:
                parsed.append((at, point.get("status"), point.get("response_time")))
        parsed.sort(key=lambda point: point[0])
        self.since, self.until = since, until
        self.points = tuple(parsed)
        self.axis_since = since
        if parsed and until > since:
            first = max(parsed[0][0], since)
            if (first - since) > (until - since) * SHORT_DATA:
                self.axis_since = min(first, until - MIN_SPAN)
        self.refresh()

    @property
    def hours(self) -> int | None:
        if self.since is None or self.until is None:
            return None
        return round((self.until - self.since) / timedelta(hours=1))

    @property
    def shortened(self) -> bool:
        """The axis covers only the span the data covers, not the whole range."""
        return self.axis_since is not None and self.since is not None and self.axis_since > self.since

    @property
    def bucket_count(self) -> int:
        return max(1, self.size.width - GUTTER)

    def buckets(self, count: int) -> list[tuple[float | None, bool, bool]]:
        """Per column: (highest ms of its up checks or None, any down, any check)."""
        since, until = self.axis_since, self.until
        if since is None or until is None or until <= since:
            return [(None, False, False)] * count
        span = (until - since).total_seconds()
        highest: list[float | None] = [None] * count
        downs = [False] * count
        seen = [False] * count
        for at, status, response in self.points:
            offset = (at - since).total_seconds()
            if offset < 0 or offset > span:
                continue
            index = min(count - 1, int(offset / span * count))
            seen[index] = True
            if status == "down":
                downs[index] = True
            elif response is not None and (highest[index] is None or response > highest[index]):
                highest[index] = response
        return [(highest[i], downs[i], seen[i]) for i in range(count)]

    def _up_times(self) -> list[float]:
        start = self.axis_since
        return [response for at, status, response in self.points
                if status != "down" and response is not None and (start is None or at >= start)]

    def title_text(self) -> Text:
        text = Text()
        text.append(f"{self.title}", style="bold")
        if self.hours is not None:
            text.append(f"  last {self.hours} h", style="dim")
            if self.shortened:
                covered = (self.until - self.axis_since).total_seconds()  # type: ignore[operator]
                text.append(f", drawn over the {duration(covered)} with data", style="yellow")
        up_times = self._up_times()
        if up_times:
            text.append(f"  avg {round(sum(up_times) / len(up_times))} ms  max {round(max(up_times))} ms"
                        "  (bars: max per column)", style="dim")
        elif not self.points:
            text.append("  no checks in this range yet", style="dim")
        return text

    def render(self) -> Text:
        rows = max(2, self.size.height - 3)  # title, axis and time labels take three rows
        count = self.bucket_count
        buckets = self.buckets(count)
        values = [value for value, _, _ in buckets if value is not None]
        top = max(values) if values else 0.0
        scale = _nice_ceiling(top) if top > 0 else 1.0
        typical = median(values) if values else 0.0
        text = self.title_text()
        text.truncate(max(1, self.size.width), overflow="ellipsis")  # one line, whatever the width
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
        if self.axis_since and self.until:
            fmt = "%H:%M" if self.until - self.axis_since < timedelta(hours=24) else "%b %d %H:%M"
            left = self.axis_since.strftime(fmt)
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
