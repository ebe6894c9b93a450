"""History upkeep on PostgreSQL, the same rounds as rollups.py does on DuckDB (same tables, same
meta keys, same answers): hourly and daily rollups (late rows roll their buckets again) and
retention, which drops whole day partitions. No compaction: one monitor's rows are found through
the (monitor_id, checked_at) B-tree, and rewriting a day sorted (CLUSTER) would lock that day's
partition against every reader for seconds.

Runs on the history writer's connection (autocommit); each step that must be all-or-nothing is
one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import psycopg

from appliance.storage.pg_partitions import partition_name
from appliance.storage.rollups import DAYS_ROLLED, HOURS_ROLLED, RAW_FROM, roll_plan

log = logging.getLogger("statuscore.history")

SCHEMA = """
CREATE TABLE IF NOT EXISTS rollup_hour (
    monitor_id integer NOT NULL, bucket timestamp NOT NULL, location text NOT NULL,
    checks integer NOT NULL, failures integer NOT NULL,
    rt_count integer NOT NULL, rt_sum double precision, rt_min real, rt_max real
);
CREATE INDEX IF NOT EXISTS rollup_hour_monitor ON rollup_hour (monitor_id, bucket);
CREATE TABLE IF NOT EXISTS rollup_day (
    monitor_id integer NOT NULL, bucket date NOT NULL, location text NOT NULL,
    checks integer NOT NULL, failures integer NOT NULL,
    rt_count integer NOT NULL, rt_sum double precision, rt_min real, rt_max real
);
CREATE INDEX IF NOT EXISTS rollup_day_monitor ON rollup_day (monitor_id, bucket);
CREATE TABLE IF NOT EXISTS history_meta (key text PRIMARY KEY, value timestamp);
"""

_AGGREGATE = ("count(*), count(*) FILTER (WHERE NOT up), count(response_time) FILTER (WHERE up), "
              "sum(response_time::double precision) FILTER (WHERE up), min(response_time) FILTER (WHERE up), "
              "max(response_time) FILTER (WHERE up)")


def create(conn: psycopg.Connection) -> None:
    conn.execute(SCHEMA)


def meta(conn: psycopg.Connection) -> dict[str, datetime]:
    return dict(conn.execute("SELECT key, value FROM history_meta").fetchall())


def _set(conn, key: str, value: datetime) -> None:
    conn.execute("INSERT INTO history_meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 [key, value])


def _first(conn, partitions) -> datetime | None:
    """The oldest result: the minimum of the oldest partition that has rows (BRIN cannot give a
    minimum; one partition's scan, not the whole table's)."""
    for day in partitions.existing(conn):
        name = partition_name(day)
        first = conn.execute(f"SELECT min(checked_at) FROM {name}").fetchone()[0]
        if first is not None:
            return first
    return None


def maintain(conn: psycopg.Connection, now: datetime, retention_days: int, late_since: datetime | None,
             partitions) -> dict[str, datetime]:
    """One round of upkeep; `now` and `late_since` are naive UTC. Returns the new meta."""
    state = meta(conn)
    hour_now = now.replace(minute=0, second=0, microsecond=0)
    day_now = datetime(now.year, now.month, now.day)
    first = _first(conn, partitions)
    if first is None:
        return state
    _roll(conn, "rollup_hour", "date_trunc('hour', checked_at)", state.get(HOURS_ROLLED), hour_now,
          first.replace(minute=0, second=0, microsecond=0), late_since, HOURS_ROLLED)
    _roll(conn, "rollup_day", "CAST(checked_at AS date)", state.get(DAYS_ROLLED), day_now,
          datetime(first.year, first.month, first.day), late_since, DAYS_ROLLED)
    cutoff = day_now - timedelta(days=retention_days)
    if first < cutoff:
        dropped = 0
        for day in partitions.existing(conn):
            if datetime(day.year, day.month, day.day) + timedelta(days=1) <= cutoff:
                conn.execute(f"DROP TABLE IF EXISTS {partition_name(day)}")
                partitions.forget(day)
                dropped += 1
        log.info("retention: dropped %d day partitions of raw results older than %s (daily rollups keep "
                 "their summary)", dropped, cutoff.date())
    if first < cutoff or RAW_FROM not in state:
        _set(conn, RAW_FROM, max(cutoff, datetime(first.year, first.month, first.day)))
    return meta(conn)


def _roll(conn, table: str, bucket_sql: str, rolled_until: datetime | None, until: datetime,
          earliest: datetime, late_since: datetime | None, key: str) -> None:
    plan = roll_plan(table, rolled_until, until, earliest, late_since)
    if plan is None:
        return
    start, redo = plan
    with conn.transaction():
        if redo:
            conn.execute(f"DELETE FROM {table} WHERE bucket >= %s AND bucket < %s", [start, rolled_until])
        conn.execute(
            f"INSERT INTO {table} SELECT monitor_id, {bucket_sql} AS bucket, location, {_AGGREGATE} "
            "FROM results WHERE checked_at >= %s AND checked_at < %s GROUP BY 1, 2, 3", [start, until])
        _set(conn, key, until)
