"""HistoryStore: every check result as a row in DuckDB.

One writer thread owns all writes and feeds DuckDB's appender in batches (DuckDB manages
~1 M rows/s that way against ~1.5 k/s for single INSERTs). Rows are flushed at least every
`flush_interval` seconds and on stop. Readers each use their own cursor, as DuckDB requires.
No index on the table: rows arrive in time order and DuckDB's min-max zone maps prune by time.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Sequence

import duckdb

from appliance.storage import HistoryUnavailable, rollups, storage_error
from appliance.timeutil import as_utc, naive_utc

log = logging.getLogger("statuscore.history")

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    monitor_id    INTEGER   NOT NULL,
    checked_at    TIMESTAMP NOT NULL,
    location      VARCHAR   NOT NULL,
    up            BOOLEAN   NOT NULL,
    response_time FLOAT,
    error         VARCHAR,
    anomaly_score FLOAT
)
"""
# Files from before the anomaly score: the column is added (NULL for their rows).
MIGRATIONS = ("ALTER TABLE results ADD COLUMN IF NOT EXISTS anomaly_score FLOAT",)

MAX_BATCH = 50_000
MAX_PENDING = 2_000_000  # rows held in memory while the disk refuses writes


@dataclass(frozen=True)
class ResultRow:
    monitor_id: int
    checked_at: datetime
    location: str
    up: bool
    response_time: float | None
    error: str | None = None
    anomaly_score: float | None = None  # the detector's score of this check, 0..1

    def as_tuple(self) -> tuple:
        rt = None if self.response_time is None else round(float(self.response_time), 2)
        score = None if self.anomaly_score is None else round(float(self.anomaly_score), 4)
        return (self.monitor_id, naive_utc(self.checked_at), self.location, self.up, rt, self.error, score)


@dataclass(frozen=True)
class Summary:
    checks: int
    failures: int
    avg: float | None
    min: float | None
    max: float | None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    rt_count: int = 0  # successful checks with a response time
    first_at: datetime | None = None  # the first result in the range
    # The first successful one (rolled-up days: the day's start): with the first incident, where
    # the watched time begins for uptime (failed checks before any verdict say nothing yet).
    first_up_at: datetime | None = None

    @property
    def uptime(self) -> float | None:
        """Percentage of successful checks, None with no checks."""
        return None if self.checks == 0 else 100.0 * (self.checks - self.failures) / self.checks


@dataclass(frozen=True)
class LocationFailures:
    """One location's checks over a span (an incident's): how many failed, when, and why."""

    location: str
    checks: int
    failures: int
    first_failure_at: datetime | None
    last_failure_at: datetime | None
    errors: tuple[tuple[str, int], ...]  # (error, how many times), most frequent first


class HistoryWriteError(OSError):
    """The history file refuses writes (disk full, I/O error); queued rows are kept and retried."""


class _Command:
    """Work that must run on the writer thread after the rows queued before it."""

    def __init__(self, action=None):
        self.action = action
        self.done = threading.Event()
        self.error: BaseException | None = None


class QueuedHistory:
    """What every history store shares: results queued in memory and written in batches by one
    writer thread, commands (deletes, upkeep) run on that thread in order with the rows, and the
    bookkeeping of late rows for the rollups. A backend gives `_new_writer` (how a batch is
    written) and `_upkeep` (one round of rollups, retention, compaction), and its reads."""

    WRITE_ADVICE = "free disk space there"  # what to do when writes fail, for the log line

    def __init__(self, flush_interval: float):
        self.flush_interval = flush_interval
        self._late_since: datetime | None = None  # oldest row written into an already rolled hour
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._local = threading.local()
        self._deleted: set[int] = set()
        self._stopping = False
        self.last_write_error: str | None = None
        self.rows_written = 0
        self._thread = threading.Thread(target=self._writer_loop, name="history-writer", daemon=True)
        self._thread.start()

    # ---- writing -----------------------------------------------------------------------------
    def append(self, row: ResultRow) -> None:
        """Queue one result; never blocks the caller on disk."""
        self._queue.put(row)

    def append_many(self, rows: Iterable[ResultRow]) -> None:
        for row in rows:
            self._queue.put(row)

    def flush(self, timeout: float = 30.0) -> None:
        """Block until every row queued before this call is written (tests, shutdown, backups)."""
        self._run_on_writer(None, timeout)

    def delete_monitor(self, monitor_id: int) -> None:
        """Delete a monitor's history, including rows still queued for it."""
        self.delete_monitors([monitor_id])

    def delete_monitors(self, monitor_ids: Sequence[int]) -> None:
        ids = list(monitor_ids)
        if not ids:
            return
        self._deleted.update(ids)
        self._run_on_writer(lambda cur: cur.execute(
            f"DELETE FROM results WHERE {_ids_filter(ids)}"))

    def maintain(self, now: datetime, retention_days: int) -> None:
        """Rollups, retention and compaction (see rollups.py), in order with the writes."""
        def run(cursor):
            late, self._late_since = self._late_since, None
            try:
                self._meta = self._upkeep(cursor, naive_utc(now), retention_days, late)
            except Exception:
                self._late_since = late
                raise
        self._run_on_writer(run, timeout=600)

    def close(self) -> None:
        if self._stopping:
            return
        self.flush()
        self._stopping = True
        self._queue.put(None)
        self._thread.join(timeout=30)
        self._close_connections()

    def _run_on_writer(self, action, timeout: float = 30.0) -> None:
        command = _Command(action)
        self._queue.put(command)
        if not command.done.wait(timeout):
            raise TimeoutError("the history writer did not answer in time")
        if command.error is not None:
            raise command.error

    def _writer_loop(self) -> None:
        writer = self._new_writer()
        pending: list[tuple] = []
        last_flush = time.monotonic()

        def write() -> bool:
            nonlocal pending, last_flush
            last_flush = time.monotonic()
            if not pending:
                return True
            rows = [r for r in pending if r[0] not in self._deleted] if self._deleted else pending
            rolled = self._meta.get(rollups.HOURS_ROLLED)
            if rolled is not None:
                late = min((r[1] for r in rows if r[1] < rolled), default=None)
                if late is not None and (self._late_since is None or late < self._late_since):
                    self._late_since = late
            try:
                writer.write(rows)
            except Exception as exc:  # disk full, I/O error: keep the rows and try again later
                writer.discard()
                text = storage_error(exc)
                if self.last_write_error is None:
                    log.error("cannot write check results to %s (%s); keeping them in memory and retrying: "
                              "%s", self.path, text, self.WRITE_ADVICE)
                self.last_write_error = text
                if len(pending) > MAX_PENDING:
                    dropped = len(pending) - MAX_PENDING
                    del pending[:dropped]
                    log.error("dropped the %d oldest unwritten results (%s): %s",
                              dropped, self.path, self.WRITE_ADVICE)
                return False
            if self.last_write_error is not None:
                log.info("writing check results again after an earlier error")
                self.last_write_error = None
            self.rows_written += len(rows)
            pending = []
            return True

        carry = None  # a command met while draining rows: handled next, in queue order
        while True:
            if carry is not None:
                item, carry = carry, None
            else:
                wait = max(0.0, self.flush_interval - (time.monotonic() - last_flush))
                try:
                    item = self._queue.get(timeout=wait if pending else self.flush_interval)
                except queue.Empty:
                    item = _IDLE
            if item is None:
                write()
                writer.close()
                return
            if isinstance(item, ResultRow):
                pending.append(item.as_tuple())
                # Drain whatever else is queued now without sleeping between rows.
                while len(pending) < MAX_BATCH:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(nxt, ResultRow):
                        pending.append(nxt.as_tuple())
                    else:
                        carry = nxt
                        break
                if len(pending) >= MAX_BATCH or time.monotonic() - last_flush >= self.flush_interval:
                    write()
                continue
            if isinstance(item, _Command):
                ok = write()
                try:
                    if not ok:
                        raise HistoryWriteError(f"cannot write to {self.path}: {self.last_write_error}")
                    if item.action is not None:
                        item.action(writer.cursor)
                except BaseException as exc:  # reported to the waiting caller
                    item.error = exc
                finally:
                    writer.settle()
                item.done.set()
                continue
            if time.monotonic() - last_flush >= self.flush_interval:
                write()

    # ---- reading -----------------------------------------------------------------------------
    # The SQL is written once with ? placeholders, in what DuckDB and PostgreSQL both read; where
    # they differ, a backend gives its own of these.
    API_ROW = ("strftime(checked_at, '%Y-%m-%dT%H:%M:%SZ'), CASE WHEN up THEN 'up' ELSE 'down' END, "
               "CAST(round(response_time) AS INTEGER), location, round(CAST(anomaly_score AS DOUBLE), 3), "
               "response_time, epoch_us(checked_at)")
    QUANTILES = "quantile_cont(response_time, [0.5, 0.95, 0.99]) FILTER (WHERE up)"
    RT_SUM = "sum(response_time)"

    def _execute(self, sql: str, params: Sequence = ()):
        """Run one read on this thread's connection; returns its cursor (fetchone, fetchall)."""
        raise NotImplementedError

    def latest(self, since: datetime) -> dict[tuple[int, str], tuple[datetime, bool, float | None, str | None]]:
        """The newest result per (monitor, location) since a time: live state after a restart."""
        raise NotImplementedError

    def history(self, monitor_id: int, since: datetime, until: datetime | None = None,
                limit: int | None = None) -> list[tuple[datetime, bool, float | None, str]]:
        sql = "SELECT checked_at, up, response_time, location FROM results WHERE monitor_id = ? AND checked_at >= ?"
        params: list = [monitor_id, naive_utc(since)]
        if until is not None:
            sql += " AND checked_at < ?"
            params.append(naive_utc(until))
        sql += " ORDER BY checked_at"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [(as_utc(t), up, rt, loc) for t, up, rt, loc in self._execute(sql, params).fetchall()]

    def history_with_summary(self, monitor_id: int, since: datetime) -> tuple[list[dict], Summary]:
        """The results since a time as the API shows them (formatted by DuckDB: a day at 10 s is
        8,640 rows, and per-row Python formatting would cost more than the query) and their
        summary without percentiles, from one read: today's rows are not sorted by monitor yet,
        so every read of them is a scan."""
        raw_from = self._meta.get(rollups.RAW_FROM)
        if raw_from is not None and naive_utc(since) < raw_from:  # partly rolled up only
            return self._history_rows(monitor_id, since)[0], self.summary(monitor_id, since)
        rows, times, epoch_us = self._history_rows(monitor_id, since)
        if not rows:
            return [], Summary(checks=0, failures=0, avg=None, min=None, max=None)
        up_times = [t for row, t in zip(rows, times) if row["status"] == "up" and t is not None]
        first_up = next((us for row, us in zip(rows, epoch_us) if row["status"] == "up"), None)
        return rows, Summary(
            checks=len(rows), failures=sum(1 for row in rows if row["status"] == "down"),
            avg=sum(up_times) / len(up_times) if up_times else None,
            min=min(up_times) if up_times else None, max=max(up_times) if up_times else None,
            rt_count=len(up_times), first_at=_from_epoch_us(epoch_us[0]),
            first_up_at=None if first_up is None else _from_epoch_us(first_up))

    def _history_rows(self, monitor_id: int, since: datetime) -> tuple[list[dict], list[float | None], list[int]]:
        """(the API's rows, their exact response times, their times in epoch us)."""
        sql = (f"SELECT {self.API_ROW} FROM results WHERE monitor_id = ? AND checked_at >= ? ORDER BY checked_at")
        found = self._execute(sql, [monitor_id, naive_utc(since)]).fetchall()
        keys = ("checked_at", "status", "response_time", "location", "anomaly_score")
        return [dict(zip(keys, row)) for row in found], [row[5] for row in found], [row[6] for row in found]

    def summary(self, monitor_id: int, since: datetime, until: datetime | None = None,
                percentiles: bool = False) -> Summary:
        """Counts and response times over [since, until). The part older than the raw results
        kept comes from the daily rollups (percentiles only from the raw part)."""
        raw = self._raw_summary(monitor_id, since, until, percentiles)
        raw_from = self._meta.get(rollups.RAW_FROM)
        if raw_from is None or naive_utc(since) >= raw_from:
            return raw
        row = self._execute(
            "SELECT sum(checks), sum(failures), sum(rt_count), sum(rt_sum), min(rt_min), max(rt_max), "
            "min(bucket), min(bucket) FILTER (WHERE checks > failures) FROM rollup_day WHERE monitor_id = ? AND bucket >= CAST(? AS DATE) AND bucket < CAST(? AS DATE)",
            [monitor_id, naive_utc(since), raw_from]).fetchone()
        checks, failures, rt_count, rt_sum, rt_min, rt_max, first_day, first_up_day = row
        if not checks:
            return raw
        raw_rt = raw.avg * raw.rt_count if raw.avg is not None else 0.0
        count = (rt_count or 0) + raw.rt_count
        mins = [v for v in (rt_min, raw.min) if v is not None]
        maxs = [v for v in (rt_max, raw.max) if v is not None]
        first = as_utc(datetime(first_day.year, first_day.month, first_day.day))
        first_up = as_utc(datetime(first_up_day.year, first_up_day.month, first_up_day.day)) if first_up_day else None
        return Summary(checks=checks + raw.checks, failures=failures + raw.failures,
                       avg=((rt_sum or 0.0) + raw_rt) / count if count else None,
                       min=min(mins) if mins else None, max=max(maxs) if maxs else None,
                       p50=raw.p50, p95=raw.p95, p99=raw.p99, rt_count=count,
                       first_at=first if raw.first_at is None else min(first, raw.first_at),
                       first_up_at=min(t for t in (first_up, raw.first_up_at) if t is not None)
                       if first_up or raw.first_up_at else None)

    def _raw_summary(self, monitor_id: int, since: datetime, until: datetime | None,
                     percentiles: bool) -> Summary:
        extra = ", " + self.QUANTILES if percentiles else ""
        sql = (
            "SELECT count(*), count(*) FILTER (WHERE NOT up), avg(response_time) FILTER (WHERE up), "
            "min(response_time) FILTER (WHERE up), max(response_time) FILTER (WHERE up), "
            "count(response_time) FILTER (WHERE up), min(checked_at), min(checked_at) FILTER (WHERE up)" + extra +
            " FROM results WHERE monitor_id = ? AND checked_at >= ?"
        )
        params: list = [monitor_id, naive_utc(since)]
        if until is not None:
            sql += " AND checked_at < ?"
            params.append(naive_utc(until))
        row = self._execute(sql, params).fetchone()
        quantiles = (row[8] or [None, None, None]) if percentiles else [None, None, None]
        return Summary(checks=row[0], failures=row[1], avg=row[2], min=row[3], max=row[4],
                       p50=quantiles[0], p95=quantiles[1], p99=quantiles[2], rt_count=row[5],
                       first_at=as_utc(row[6]) if row[6] is not None else None,
                       first_up_at=as_utc(row[7]) if row[7] is not None else None)

    def daily(self, monitor_id: int, since: datetime) -> list[tuple]:
        """Per UTC day: (date, checks, failures, avg response time of successful checks)."""
        return self.daily_by_monitor([monitor_id], since).get(monitor_id, [])

    def daily_by_monitor(self, monitor_ids: Sequence[int], since: datetime) -> dict[int, list[tuple]]:
        """monitor_id -> [(UTC date, checks, failures, avg response time)] oldest first, in one
        query: rolled days from the daily rollups, today's rolled hours from the hourly ones, and
        only the rest (the current hour) from the raw results, which are not yet sorted by
        monitor: reading a whole day of them raw costs more than everything else together."""
        if not monitor_ids:
            return {}
        days, hours = self._rolled_until()
        start = naive_utc(since)
        raw_from = max(start, days)
        hours_from = min(max(_next_hour(raw_from), days), hours)  # whole hours in [raw_from, hours)
        ids = _ids_filter(monitor_ids)
        raw = ("SELECT monitor_id, CAST(checked_at AS DATE) AS day, count(*) AS checks, "
               f"count(*) FILTER (WHERE NOT up) AS failures, {self.RT_SUM} FILTER (WHERE up) AS rt_sum, "
               f"count(response_time) FILTER (WHERE up) AS rt_count FROM results WHERE {ids} ")
        sql = (
            # CAST: PostgreSQL's sum of bigints is a numeric (a Decimal in Python, a string in JSON)
            "SELECT monitor_id, day, CAST(sum(checks) AS BIGINT), CAST(sum(failures) AS BIGINT), "
            "sum(rt_sum) / nullif(sum(rt_count), 0) FROM ("
            "SELECT monitor_id, bucket AS day, checks, failures, rt_sum, rt_count FROM rollup_day "
            f"WHERE {ids} AND bucket >= CAST(? AS DATE) AND bucket < CAST(? AS DATE) "
            "UNION ALL "
            "SELECT monitor_id, CAST(bucket AS DATE), checks, failures, rt_sum, rt_count FROM rollup_hour "
            f"WHERE {ids} AND bucket >= ? AND bucket < ? "
            f"UNION ALL {raw} AND checked_at >= ? AND checked_at < ? GROUP BY 1, 2 "
            f"UNION ALL {raw} AND checked_at >= ? GROUP BY 1, 2"
            ") AS parts GROUP BY monitor_id, day ORDER BY 1, 2"
        )
        params = [start, days, hours_from, hours, raw_from, hours_from, max(raw_from, hours)]
        out: dict[int, list[tuple]] = {}
        for mid, day, checks, failures, avg in self._execute(sql, params).fetchall():
            out.setdefault(mid, []).append((day, checks, failures, avg))
        return out

    def _rolled_until(self) -> tuple[datetime, datetime]:
        """(days, hours): the daily and hourly rollups are complete before these (naive UTC);
        a late row in a rolled bucket, not rolled again yet, moves both back to its day."""
        days = self._meta.get(rollups.DAYS_ROLLED) or datetime(1970, 1, 1)
        hours = max(self._meta.get(rollups.HOURS_ROLLED) or days, days)
        late = self._late_since
        if late is not None and late < hours:
            cut = datetime(late.year, late.month, late.day)
            days, hours = min(days, cut), min(hours, cut)
        return days, hours

    def uptime_by_monitor(self, monitor_ids: Sequence[int], since: datetime) -> dict[int, tuple[int, int]]:
        """monitor_id -> (checks, failures) since the given time."""
        if not monitor_ids:
            return {}
        sql = (
            "SELECT monitor_id, count(*), count(*) FILTER (WHERE NOT up) FROM results "
            f"WHERE checked_at >= ? AND {_ids_filter(monitor_ids)} GROUP BY monitor_id"
        )
        rows = self._execute(sql, [naive_utc(since)]).fetchall()
        return {mid: (checks, failures) for mid, checks, failures in rows}

    def failures_by_location(self, monitor_id: int, since: datetime, until: datetime,
                             most_errors: int = 3) -> list[LocationFailures]:
        """Per location, the checks in [since, until] (raw results only): counts, the first and
        last failed check, and the most frequent errors."""
        params = [monitor_id, naive_utc(since), naive_utc(until)]
        where = "monitor_id = ? AND checked_at >= ? AND checked_at <= ?"
        counts = self._execute(
            "SELECT location, count(*), count(*) FILTER (WHERE NOT up), min(checked_at) FILTER (WHERE NOT up), "
            f"max(checked_at) FILTER (WHERE NOT up) FROM results WHERE {where} GROUP BY location ORDER BY location",
            params).fetchall()
        errors: dict[str, list[tuple[str, int]]] = {}
        for location, error, times in self._execute(
                f"SELECT location, coalesce(error, 'failed'), count(*) AS n FROM results WHERE {where} AND NOT up "
                "GROUP BY 1, 2 ORDER BY location, n DESC, 2", params).fetchall():
            found = errors.setdefault(location, [])
            if len(found) < most_errors:
                found.append((error, times))
        return [LocationFailures(location, checks, failures, as_utc(first) if first else None,
                                 as_utc(last) if last else None, tuple(errors.get(location, ())))
                for location, checks, failures, first, last in counts]

    def first_seen(self, since: datetime) -> dict[int, datetime]:
        """monitor_id -> its first successful result since a time: when it was first known up
        (with the incidents' starts, when it started being watched; failed checks before any
        verdict say nothing yet)."""
        sql = "SELECT monitor_id, min(checked_at) FROM results WHERE checked_at >= ? AND up GROUP BY monitor_id"
        return {m: as_utc(t) for m, t in self._execute(sql, [naive_utc(since)]).fetchall()}

    def count(self, monitor_id: int | None = None) -> int:
        if monitor_id is None:
            return self._execute("SELECT count(*) FROM results").fetchone()[0]
        return self._execute("SELECT count(*) FROM results WHERE monitor_id = ?", [monitor_id]).fetchone()[0]


class HistoryStore(QueuedHistory):
    """Check results in a DuckDB file: the embedded default."""

    def __init__(self, path: Path | str, flush_interval: float = 0.5, memory_limit: str = "256MB"):
        self.path = str(path)
        # A bounded buffer pool: by default DuckDB may cache up to 80 % of RAM, which is not what
        # a small monitoring box wants; big queries spill to a temp folder beside the file.
        try:
            self._con = duckdb.connect(self.path, config={"memory_limit": memory_limit, "threads": 2,
                                                          "temp_directory": self.path + ".tmp"})
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise HistoryUnavailable(
                    f"{self.path} is in use by another process: is StatusCore already running with this "
                    "data dir? (Backups go through the running appliance: statuscore backup)") from None
            raise HistoryUnavailable(f"cannot open {self.path} ({str(exc).splitlines()[0]})") from None
        self._con.execute(SCHEMA)
        for statement in MIGRATIONS:
            self._con.execute(statement)
        rollups.create(self._con)
        self._meta = rollups.meta(self._con)
        super().__init__(flush_interval)

    def _new_writer(self) -> "_DuckWriter":
        return _DuckWriter(self._con)

    def _upkeep(self, cursor, now: datetime, retention_days: int, late: datetime | None) -> dict[str, datetime]:
        return rollups.maintain(cursor, now, retention_days, late)

    def _close_connections(self) -> None:
        self._con.close()

    def copy_to(self, path: Path | str) -> None:
        """A consistent copy of the whole history into a new DuckDB file (for backups), taken on
        the writer thread after every row queued before the call."""
        target = str(path).replace("'", "''")

        def run(cursor):
            name = cursor.execute("SELECT current_database()").fetchall()[0][0]
            cursor.execute(f"ATTACH '{target}' AS backup_copy")
            try:
                cursor.execute(f'COPY FROM DATABASE "{name}" TO backup_copy')
            finally:
                cursor.execute("DETACH backup_copy")
        self._run_on_writer(run, timeout=600)

    # ---- reading -----------------------------------------------------------------------------
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._con.cursor()
        return cur

    def _execute(self, sql: str, params: Sequence = ()):
        return self._cursor().execute(sql, params)

    def latest(self, since: datetime) -> dict[tuple[int, str], tuple[datetime, bool, float | None, str | None]]:
        """The newest result per (monitor, location) since a time: live state after a restart."""
        # arg_max skips rows whose value is NULL (it would return an older row's error or
        # response time); arg_max_null takes the newest row's value, NULL included.
        sql = (
            "SELECT monitor_id, location, max(checked_at), arg_max_null(up, checked_at), "
            "arg_max_null(response_time, checked_at), arg_max_null(error, checked_at) FROM results "
            "WHERE checked_at >= ? GROUP BY monitor_id, location"
        )
        rows = self._cursor().execute(sql, [naive_utc(since)]).fetchall()
        return {(m, loc): (as_utc(t), up, rt, err) for m, loc, t, up, rt, err in rows}


class _DuckWriter:
    """The writer thread's side of DuckDB: its own cursor and an appender on it."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.cursor = con.cursor()
        self._appender = self.cursor.appender("results")

    def write(self, rows: list[tuple]) -> None:
        self._appender.append_rows(rows)
        self._appender.flush()

    def discard(self) -> None:
        self._appender.clear()

    def settle(self) -> None:
        _settle_cursor(self.cursor)

    def close(self) -> None:
        self.cursor.close()


class _Idle:
    pass


_IDLE = _Idle()


def _settle_cursor(cursor) -> None:
    """Leave no result pending on the writer's cursor: DuckDB refuses the appender's next flush
    ("unfinished result from execute()") while a statement's result is still open."""
    try:
        cursor.execute("SELECT 1").fetchall()
    except Exception:  # a failed transaction: roll it back so writing can go on
        try:
            cursor.execute("ROLLBACK")
        except Exception:
            pass


def _next_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


def _from_epoch_us(value: int) -> datetime:
    return as_utc(datetime(1970, 1, 1) + timedelta(microseconds=value))


def _ids_filter(monitor_ids: Sequence[int]) -> str:
    """`monitor_id = 7` or `monitor_id IN (1, 2, 3)`: literal integers, so DuckDB pushes the filter
    into the scan and skips row groups by their min/max (an IN-subquery would scan everything)."""
    ids = sorted({int(i) for i in monitor_ids})
    if len(ids) == 1:
        return f"monitor_id = {ids[0]}"
    return f"monitor_id IN ({', '.join(map(str, ids))})"
