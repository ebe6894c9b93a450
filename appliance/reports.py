"""Statistics of one monitor over a window: check counts and response times from the history,
availability by time from its incidents (availability.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from appliance.availability import Interval, availability, daily_availability, watched_span
from appliance.storage.entities import EntityStore
from appliance.storage.history import HistoryStore, Summary


# The window's summary (one scan of its raw response times, for the percentiles) runs here while
# the request thread reads the daily rollups and incidents: DuckDB releases the GIL, so on two
# cores a 365-day report takes ~16 ms instead of ~22. Threads start only when first needed.
_SUMMARIES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="stats-summary")


@dataclass(frozen=True)
class DayFigures:
    day: date
    uptime: float | None
    avg: float | None
    checks: int


@dataclass(frozen=True)
class Report:
    summary: Summary
    uptime: float | None
    incidents: int
    mttr_seconds: float | None
    daily: list[DayFigures]


def watched_since(summary: Summary, created_at: datetime | None, since: datetime,
                  intervals: list[Interval] = ()) -> datetime | None:
    """Where the watched part of a window starts: the window start for a monitor that already
    existed then; otherwise its first verdict (its first successful check or the start of its
    first incident, whichever came first), not before its first result. Failed checks before any
    verdict are not uptime (nor downtime): a monitor whose only check failed has no uptime yet (None)."""
    if not summary.checks or summary.first_at is None:
        return None
    if created_at is not None and created_at <= since:
        return since
    known = [t for t in (summary.first_up_at, *(start for start, _ in intervals)) if t is not None]
    return max(since, summary.first_at, min(known)) if known else None


def window_uptime(history: HistoryStore, entities: EntityStore, monitor_id: int, since: datetime,
                  now: datetime, summary: Summary | None = None, created_at: datetime | None = None) -> float | None:
    summary = summary or history.summary(monitor_id, since)
    intervals = [(a, b) for _, a, b in entities.down_intervals(since, [monitor_id])]
    span = watched_span(since, watched_since(summary, created_at, since, intervals), now)
    if span is None:
        return None
    return availability(intervals, *span)


def monitor_report(history: HistoryStore, entities: EntityStore, monitor_id: int, days: int,
                   now: datetime, created_at: datetime | None = None) -> Report:
    since = now - timedelta(days=days)
    pending = _SUMMARIES.submit(history.summary, monitor_id, since, None, True)
    rows = history.daily(monitor_id, since)
    # The incidents overlapping the window, oldest first: their count, MTTR and downtime.
    intervals = [(a, b) for _, a, b in entities.down_intervals(since, [monitor_id])]
    durations = [(b - a).total_seconds() for a, b in intervals if b is not None]
    summary = pending.result()
    first = watched_since(summary, created_at, since, intervals)
    span = watched_span(since, first, now)
    per_day = daily_availability(intervals, [row[0] for row in rows], first, now)
    return Report(
        summary=summary,
        uptime=availability(intervals, *span) if span else None,
        incidents=len(intervals),
        mttr_seconds=sum(durations) / len(durations) if durations else None,
        daily=[DayFigures(day, per_day.get(day), avg, checks) for day, checks, _failures, avg in rows],
    )


def daily_uptimes(history: HistoryStore, entities: EntityStore, monitor_ids: list[int], days: list[date],
                  now: datetime) -> dict[int, dict[date, float | None]]:
    """Per monitor, the availability of each of the given UTC days that has results."""
    figures = daily_figures(history, entities, monitor_ids, days, now)
    return {mid: {day: uptime for day, (uptime, _avg) in per_day.items()} for mid, per_day in figures.items()}


def daily_figures(history: HistoryStore, entities: EntityStore, monitor_ids: list[int], days: list[date],
                  now: datetime) -> dict[int, dict[date, tuple[float | None, float | None]]]:
    """Per monitor, (availability, average response time of successful checks in ms) of each of the
    given UTC days that has results: the same one query of the daily rollups for both."""
    if not monitor_ids or not days:
        return {}
    since = datetime(days[0].year, days[0].month, days[0].day, tzinfo=now.tzinfo)
    rows = history.daily_by_monitor(monitor_ids, since)
    first = history.first_seen(since)
    down: dict[int, list] = {}
    for monitor_id, a, b in entities.down_intervals(since, monitor_ids):
        down.setdefault(monitor_id, []).append((a, b))
    out = {}
    for monitor_id in monitor_ids:
        seen = rows.get(monitor_id, [])
        intervals = down.get(monitor_id, [])
        # Watched from its first verdict: the first successful check or the first incident's start.
        known = [t for t in (first.get(monitor_id), *(a for a, _ in intervals)) if t is not None]
        uptimes = daily_availability(intervals, [row[0] for row in seen], max(since, min(known)) if known else None,
                                     now)
        out[monitor_id] = {row[0]: (uptimes.get(row[0]), row[3]) for row in seen}
    return out
