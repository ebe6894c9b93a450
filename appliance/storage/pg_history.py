"""PostgresHistoryStore: the check results in PostgreSQL (STATUSCORE_DATABASE_URL), behind the same
contract as the DuckDB store (history.py) and run through the same tests.

- `results` is range-partitioned by `checked_at`, one partition per UTC day (results_pYYYYMMDD),
  created ahead (today and tomorrow at start and at every upkeep) and on demand for any day a
  batch has rows for (late probe results). Retention drops whole partitions: no DELETE, no bloat,
  no VACUUM debt.
- Indexes: BRIN on `checked_at` (a few pages per partition; rows arrive in time order) for time
  scans, and a B-tree on (monitor_id, checked_at) for one monitor's history, which is what the
  API reads most.
- Batches go in with COPY on the writer thread's own connection; readers each have a connection
  of their own (psycopg connections are not shared between threads here).
- Upkeep (pg_rollups.py) rolls up hours and days as the DuckDB store does; no compaction (the
  B-tree finds one monitor's rows; CLUSTER would block readers of the day it rewrites).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Sequence

import psycopg

from appliance.storage import HistoryUnavailable, pg_rollups
from appliance.storage.pg_partitions import Partitions
from appliance.storage.database import libpq_url, redacted
from appliance.storage.history import QueuedHistory
from appliance.timeutil import as_utc, naive_utc, utcnow

log = logging.getLogger("statuscore.history")

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    monitor_id    integer   NOT NULL,
    checked_at    timestamp NOT NULL,
    location      text      NOT NULL,
    up            boolean   NOT NULL,
    response_time real,
    error         text,
    anomaly_score real
) PARTITION BY RANGE (checked_at);
ALTER TABLE results ADD COLUMN IF NOT EXISTS anomaly_score real;
CREATE INDEX IF NOT EXISTS results_checked_at_brin ON results USING brin (checked_at);
CREATE INDEX IF NOT EXISTS results_monitor_time ON results (monitor_id, checked_at);
"""
COLUMNS = "monitor_id, checked_at, location, up, response_time, error, anomaly_score"


def connect(url: str, autocommit: bool = True) -> psycopg.Connection:
    # Naive UTC timestamps in, naive UTC out: the session's zone must not shift them.
    return psycopg.connect(libpq_url(url), autocommit=autocommit, connect_timeout=10, options="-c timezone=UTC")


class PostgresHistoryStore(QueuedHistory):
    API_ROW = ("to_char(checked_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), CASE WHEN up THEN 'up' ELSE 'down' END, "
               "round(response_time::numeric)::integer, location, round(anomaly_score::numeric, 3)::double precision, "
               "response_time, "
               "(extract(epoch FROM checked_at) * 1000000)::bigint")
    QUANTILES = ("percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY response_time) "
                 "FILTER (WHERE up)")
    RT_SUM = "sum(response_time::double precision)"  # sum(real) would be a real: 7 digits
    WRITE_ADVICE = "check that the PostgreSQL server is running and has disk space"

    def __init__(self, url: str, flush_interval: float = 0.5, memory_limit: str | None = None):
        self.url = url
        self.path = redacted(url)  # what messages name
        self._connections: list[psycopg.Connection] = []
        self._connections_lock = threading.Lock()
        self.partitions = Partitions()
        try:
            with connect(url) as conn:
                # Several appliances may start at once: one creates the schema, the others wait.
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext('statuscore.history.schema'))")
                    conn.execute(SCHEMA)
                    pg_rollups.create(conn)
                self.partitions.existing(conn)
                self.partitions.ahead(conn, naive_utc(utcnow()))
                self._meta = pg_rollups.meta(conn)
        except psycopg.OperationalError as exc:
            raise HistoryUnavailable(f"cannot reach the PostgreSQL history at {self.path} "
                                     f"({' '.join(str(exc).split())[:300]}): check STATUSCORE_DATABASE_URL "
                                     "and that the server is running") from None
        super().__init__(flush_interval)

    # ---- writing -----------------------------------------------------------------------------
    def _new_writer(self) -> "_PostgresWriter":
        return _PostgresWriter(self)

    def _upkeep(self, conn, now: datetime, retention_days: int, late: datetime | None) -> dict[str, datetime]:
        self.partitions.ahead(conn, now)
        return pg_rollups.maintain(conn, now, retention_days, late, self.partitions)

    def copy_to(self, path) -> None:
        raise HistoryUnavailable("the history is on PostgreSQL: back it up with pg_dump, not statuscore backup")

    def _close_connections(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                try:
                    conn.close()
                except Exception:  # closing is best effort
                    pass
            self._connections.clear()

    def _connect(self) -> psycopg.Connection:
        conn = connect(self.url)
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    # ---- reading -----------------------------------------------------------------------------
    def _cursor(self) -> psycopg.Connection:
        """This thread's connection (a new one after the server dropped it)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = self._local.conn = self._connect()
        return conn

    def _execute(self, sql: str, params: Sequence = ()):
        # The shared SQL is written with ?; psycopg takes %s (none of it has a literal ? or %).
        return self._cursor().execute(sql.replace("?", "%s"), list(params) or None)

    def latest(self, since: datetime) -> dict[tuple[int, str], tuple[datetime, bool, float | None, str | None]]:
        rows = self._execute(
            "SELECT DISTINCT ON (monitor_id, location) monitor_id, location, checked_at, up, response_time, error "
            "FROM results WHERE checked_at >= ? ORDER BY monitor_id, location, checked_at DESC",
            [naive_utc(since)]).fetchall()
        return {(m, loc): (as_utc(t), up, rt, err) for m, loc, t, up, rt, err in rows}


class _PostgresWriter:
    """The writer thread's connection: each batch is one COPY in one transaction, into the day
    partitions it needs (made first)."""

    def __init__(self, store: PostgresHistoryStore):
        self.store = store
        self._conn: psycopg.Connection | None = None

    @property
    def cursor(self) -> psycopg.Connection:
        """The connection commands (deletes, upkeep) run on, autocommit (a new one after a drop)."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self.store._connect()
        return self._conn

    def write(self, rows: list[tuple]) -> None:
        conn = self.cursor
        try:
            self.store.partitions.ensure(conn, {r[1].date() for r in rows})
            with conn.transaction():
                with conn.cursor() as cur, cur.copy(f"COPY results ({COLUMNS}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
        except Exception:
            # The partitions we know of may be gone (a database restored or recreated meanwhile):
            # look again before the retry.
            self.store.partitions.known.clear()
            raise

    def discard(self) -> None:
        pass  # the failed transaction was rolled back whole

    def settle(self) -> None:
        pass  # autocommit: nothing stays open between commands

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def open_history(target, flush_interval: float = 0.5, memory_limit: str = "256MB"):
    """The history store for a data dir's DuckDB file or a PostgreSQL URL."""
    from appliance.storage.database import is_postgres
    from appliance.storage.history import HistoryStore

    if is_postgres(target):
        return PostgresHistoryStore(str(target), flush_interval=flush_interval)
    return HistoryStore(target, flush_interval=flush_interval, memory_limit=memory_limit)

