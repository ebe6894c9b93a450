"""History benchmark (issue 5): 100 M results for 1,000 monitors, then the p50 latency of one
monitor's history (24 h), stats (30 d and 365 d), and the monitor list with uptimes, over HTTP
against the appliance (engine off, so nothing else runs) and directly on the store.

The results are bulk-loaded in time order (1,000 monitors x 100,000 checks at 60 s: ~69 days),
as the appliance writes them; then measured before and after the history upkeep's compaction
(each completed day rewritten sorted by monitor). Goal: each under 20 ms.

Usage: .venv/bin/python benchmarks/history.py [--rows 100000000] [--monitors 1000] [--repeat 30]
       [--database-url postgresql://... | --temp-postgres]

With --database-url (an empty database) or --temp-postgres (a throwaway cluster of this machine's
PostgreSQL, started for the run with Debian's default memory settings and fsync on), the same is
measured on the PostgreSQL stores (STATUSCORE_DATABASE_URL): results loaded into the day
partitions, the upkeep rolls up (PostgreSQL rewrites no day), and the size is the partitions'
heap plus their indexes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load(data_dir: Path, rows: int, monitors: int, end: datetime) -> datetime:
    """Fill history.duckdb with `rows` results in time order; returns the first check time."""
    import duckdb

    from appliance.storage import rollups
    from appliance.storage.history import SCHEMA

    per_monitor = rows // monitors
    start = end - timedelta(seconds=60 * per_monitor)
    con = duckdb.connect(str(data_dir / "history.duckdb"))
    con.execute(SCHEMA)
    rollups.create(con)
    started = time.time()
    step = 10_000_000
    for offset in range(0, rows, step):
        con.execute(
            f"""INSERT INTO results (monitor_id, checked_at, location, up, response_time, error)
            SELECT (i % {monitors})::INTEGER + 1,
                   ?::TIMESTAMP + to_microseconds(((i // {monitors}) * 60000000 + (i % {monitors}) * 60)::BIGINT),
                   'local', hash(i) % 1000 <> 0,
                   CASE WHEN hash(i) % 1000 <> 0 THEN (40 + (hash(i * 7) % 12000) / 100.0)::FLOAT END,
                   CASE WHEN hash(i) % 1000 = 0 THEN 'connection refused' END
            FROM range({offset}, {min(offset + step, rows)}) t(i)""", [start.replace(tzinfo=None)])
        print(f"  loaded {min(offset + step, rows):,} rows ({time.time() - started:.0f} s)", flush=True)
    con.execute("CHECKPOINT")
    con.close()
    return start


def load_postgres(url: str, rows: int, monitors: int, end: datetime) -> datetime:
    """The same rows as load(), into the PostgreSQL history's day partitions."""
    from appliance.storage.pg_history import PostgresHistoryStore, connect

    per_monitor = rows // monitors
    start = end - timedelta(seconds=60 * per_monitor)
    store = PostgresHistoryStore(url)  # the schema, as the appliance makes it
    store.close()
    naive = start.replace(tzinfo=None)
    started = time.time()
    with connect(url) as conn:
        day = naive.date()
        days = []
        while day <= end.date() + timedelta(days=1):
            days.append(day)
            day += timedelta(days=1)
        store.partitions.ensure(conn, days)
        step = 1_000_000
        for offset in range(0, rows, step):
            conn.execute(
                f"""INSERT INTO results (monitor_id, checked_at, location, up, response_time, error)
                SELECT (i % {monitors}) + 1,
                       '{naive.isoformat(sep=" ")}'::timestamp + (((i / {monitors}) * 60000000 + (i % {monitors}) * 60) * interval '1 microsecond'),
                       'local', abs(hashint8(i)) % 1000 <> 0,
                       CASE WHEN abs(hashint8(i)) % 1000 <> 0 THEN (40 + (abs(hashint8(i * 7)) % 12000) / 100.0)::real END,
                       CASE WHEN abs(hashint8(i)) % 1000 = 0 THEN 'connection refused' END
                FROM generate_series({offset}::bigint, {min(offset + step, rows) - 1}::bigint) AS t(i)""")
            print(f"  loaded {min(offset + step, rows):,} rows ({time.time() - started:.0f} s)", flush=True)
        conn.execute("VACUUM ANALYZE results")
    return start


def postgres_size(url: str) -> int:
    """Bytes of the results partitions, their indexes and TOAST (not the rollups)."""
    from appliance.storage.pg_history import connect

    with connect(url) as conn:
        return int(conn.execute("SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
                                "WHERE inhparent = 'results'::regclass").fetchone()[0])


def compact_all(data_dir: Path, now: datetime, url: str | None = None) -> float:
    """Run the history upkeep through the store, as the appliance does (its connection sets the
    row-group size of what compaction rewrites), until every completed day is compacted."""
    from appliance.storage import rollups
    from appliance.storage.pg_history import open_history

    store = open_history(url or data_dir / "history.duckdb")
    started = time.time()
    try:
        before = None
        while True:
            store.maintain(now, retention_days=400)
            compacted = store._meta.get(rollups.COMPACTED)
            if compacted == before:
                break
            before = compacted
    finally:
        store.close()
    return time.time() - started


def add_monitors(data_dir: Path, monitors: int, url: str | None = None) -> None:
    from appliance.models import Monitor
    from appliance.storage.entities import EntityStore

    store = EntityStore(url or data_dir / "statuscore.sqlite")
    user = store.create_user("bench@example.test", "bench-password-1", tier="pro", is_admin=True)
    with store.session() as s:
        for i in range(monitors):
            s.add(Monitor(user_id=user.id, name=f"m{i}", type="http", target=f"http://127.0.0.1:9/m/{i}",
                          interval=60, is_active=False, created_at=datetime(2020, 1, 1, tzinfo=timezone.utc)))
        s.commit()
    store.close()


def p50(samples: list[float]) -> float:
    return round(statistics.median(samples), 2)


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def measure(data_dir: Path, repeat: int, label: str, url: str | None = None) -> None:
    from tests.support.appliance import InProcessAppliance

    server = InProcessAppliance(data_dir, admin_email="bench@example.test", database_url=url).start(engine=False)
    try:
        token = requests.post(f"{server.url}/api/auth/login", json={"email": "bench@example.test",
                                                                    "password": "bench-password-1"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        session = requests.Session()
        history = server.appliance.history
        now = datetime.now(timezone.utc)
        cases = {
            "history 24h": "/api/monitors/500/history?hours=24",
            "stats 30d": "/api/monitors/500/stats?days=30",
            "stats 365d": "/api/monitors/500/stats?days=365",
            "monitor list (1,000, with uptimes)": "/api/monitors",
        }
        direct = {
            "history 24h": lambda: history.history(500, now - timedelta(hours=24)),
            "stats 30d": lambda: (history.summary(500, now - timedelta(days=30), percentiles=True),
                                  history.daily(500, now - timedelta(days=30))),
            "stats 365d": lambda: (history.summary(500, now - timedelta(days=365), percentiles=True),
                                   history.daily(500, now - timedelta(days=365))),
        }
        print(f"\n{label}")
        print("| query | p50 over HTTP (ms) | p95 over HTTP (ms) | p50 on the store (ms) |")
        print("|---|---|---|---|")
        for name, path in cases.items():
            over_http = timed(lambda: session.get(server.url + path, headers=headers, timeout=60).raise_for_status(),
                              repeat)
            on_store = p50(timed(direct[name], repeat)) if name in direct else "-"
            print(f"| {name} | {p50(over_http)} | {round(sorted(over_http)[int(0.95 * len(over_http))], 2)} "
                  f"| {on_store} |")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--dir", help="keep the data here (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="measure the data a previous run left in --dir")
    parser.add_argument("--database-url", help="measure the PostgreSQL stores in this (empty) database")
    parser.add_argument("--temp-postgres", action="store_true",
                        help="measure the PostgreSQL stores on a throwaway cluster started for the run")
    args = parser.parse_args()
    data_dir = Path(args.dir or tempfile.mkdtemp(prefix="sc-history-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    server = None
    url = args.database_url
    if args.temp_postgres:
        from tests.support.postgres import PostgresServer

        server = PostgresServer().start(durable=True)
        url = server.create_database()
    backend = "PostgreSQL" if url else "DuckDB"
    print(f"machine: {os.cpu_count()} cores; {args.rows:,} results for {args.monitors:,} monitors on {backend}")
    try:
        if url:
            run_postgres(data_dir, url, args, now)
        else:
            run_duckdb(data_dir, args, now)
    finally:
        if server is not None:
            server.stop()


def run_duckdb(data_dir: Path, args, now: datetime) -> None:
    if args.reuse and (data_dir / "statuscore.sqlite").exists():
        measure(data_dir, args.repeat, "Reusing the loaded and compacted data:")
        return
    load(data_dir, args.rows, args.monitors, now)
    size = (data_dir / "history.duckdb").stat().st_size
    print(f"  file {size / 1e9:.2f} GB, {size / args.rows:.1f} bytes per result (raw, time order)")
    add_monitors(data_dir, args.monitors)
    measure(data_dir, args.repeat, "Before compaction (rows in time order only):")
    took = compact_all(data_dir, now)
    size = (data_dir / "history.duckdb").stat().st_size
    print(f"\ncompaction of every completed day: {took:.0f} s; file {size / 1e9:.2f} GB, "
          f"{size / args.rows:.1f} bytes per result")
    measure(data_dir, args.repeat, "After compaction (each day sorted by monitor) and rollups:")


def run_postgres(data_dir: Path, url: str, args, now: datetime) -> None:
    if args.reuse:
        measure(data_dir, args.repeat, "Reusing the loaded and compacted data:", url)
        return
    started = time.time()
    load_postgres(url, args.rows, args.monitors, now)
    size = postgres_size(url)
    print(f"  load {time.time() - started:.0f} s; {size / 1e9:.2f} GB, {size / args.rows:.1f} bytes per result "
          "(heap + BRIN + B-tree, time order)")
    add_monitors(data_dir, args.monitors, url)
    measure(data_dir, args.repeat, "Before upkeep (no rollups yet):", url)
    took = compact_all(data_dir, now, url)
    size = postgres_size(url)
    print(f"\nupkeep (rollups of every completed hour and day; PostgreSQL rewrites no day): {took:.0f} s; "
          f"{size / 1e9:.2f} GB, {size / args.rows:.1f} bytes per result")
    measure(data_dir, args.repeat, "After upkeep (rollups):", url)


if __name__ == "__main__":
    main()
