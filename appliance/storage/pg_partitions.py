"""The daily partitions of the PostgreSQL `results` table: named results_pYYYYMMDD, each holding
[day, day + 1) of checked_at (naive UTC)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import psycopg


def partition_name(day: date) -> str:
    return f"results_p{day:%Y%m%d}"


def partition_day(name: str) -> date | None:
    try:
        return datetime.strptime(name, "results_p%Y%m%d").date()
    except ValueError:
        return None


class Partitions:
    """The daily partitions of `results` that exist (cached; created when missing)."""

    def __init__(self):
        self.known: set[date] = set()

    def ensure(self, conn: psycopg.Connection, days) -> None:
        for day in sorted(set(days) - self.known):
            name = partition_name(day)
            try:
                conn.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF results "
                             f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + timedelta(days=1)).isoformat()}')")
            except (psycopg.errors.DuplicateTable, psycopg.errors.UniqueViolation):
                pass  # another appliance made it at the same moment
            self.known.add(day)

    def ahead(self, conn: psycopg.Connection, now: datetime) -> None:
        today = now.date()
        self.ensure(conn, [today, today + timedelta(days=1)])

    def existing(self, conn: psycopg.Connection) -> list[date]:
        rows = conn.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                            "WHERE i.inhparent = 'results'::regclass").fetchall()
        days = sorted(d for d in (partition_day(name) for (name,) in rows) if d is not None)
        self.known = set(days)
        return days

    def forget(self, day: date) -> None:
        self.known.discard(day)
