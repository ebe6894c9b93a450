"""Reading an appliance's two stores straight from its data dir, once the appliance is stopped
(DuckDB allows no second process on its file) or beside it (SQLite in WAL mode allows readers)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb


def sqlite_rows(data_dir: Path, query: str, *args) -> list[tuple]:
    db = sqlite3.connect(f"file:{Path(data_dir) / 'statuscore.sqlite'}?mode=ro", uri=True, timeout=15)
    try:
        return list(db.execute(query, args))
    finally:
        db.close()


def duckdb_rows(data_dir: Path, query: str, *args) -> list[tuple]:
    db = duckdb.connect(str(Path(data_dir) / "history.duckdb"), read_only=True)
    try:
        return db.execute(query, list(args)).fetchall()
    finally:
        db.close()


def duplicate_results(data_dir: Path) -> list[tuple]:
    """(monitor_id, location, checked_at, copies) of every result stored more than once."""
    return duckdb_rows(data_dir, "SELECT monitor_id, location, checked_at, count(*) FROM results "
                                 "GROUP BY ALL HAVING count(*) > 1 ORDER BY 1, 3 LIMIT 20")


def events_by_monitor(data_dir: Path) -> dict[int, list[str]]:
    """monitor_id -> its outbox events (state_change rows), oldest first."""
    out: dict[int, list[str]] = {}
    for monitor_id, event in sqlite_rows(data_dir, "SELECT monitor_id, event FROM state_change ORDER BY id"):
        out.setdefault(monitor_id, []).append(event)
    return out
