"""Ingest and query figures for the check-result store (HistoryStore on DuckDB).

Run by hand, never part of the test suite:

    .venv/bin/python benchmarks/ingest.py                 # full sizes (about 1.5 minutes on 2 cores)
    .venv/bin/python benchmarks/ingest.py --quick         # small sizes, about 10 seconds

It prints:
1. rows/s of the HistoryStore writer (ResultRow through append(), from the first append to
   flush() returning) for --rows results spread over --monitors monitors in time order, and the
   rows/s of plain `executemany` INSERT for --baseline-rows rows in the same process;
2. p50/p95 latency of GET /api/monitors/:id/history?hours=24 and /stats?days=30 over real HTTP
   (loopback) against the app served by waitress with the check engine not started, on a file
   holding --monitors monitors x --days days of results at --interval seconds (default
   1,000 x 7 days x 60 s = 10,080 rows per monitor, 10.08 M rows), bulk-loaded straight into
   DuckDB before the appliance opens it; and the same queries timed directly on HistoryStore;
   once as written (time order) and again after HistoryStore.maintain() (rollups, compaction);
3. bytes stored per check (file size / rows) after a CHECKPOINT.

Everything runs in one process on loopback, in a temporary directory removed at the end. Other
processes on the machine inflate the wall-clock figures: the load average is printed, and a CPU
time per call that is less sensitive to it.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from appliance.storage.history import SCHEMA, HistoryStore, ResultRow  # noqa: E402

ADMIN_EMAIL = "bench@example.test"
ADMIN_PASSWORD = "bench-password-1"
DOWN_PER_MILLE = 5      # 0.5 % of checks fail (timeout, no response time)
JITTER_US = 5_000       # each check starts up to 5 ms after its planned time


# ---- helpers ---------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def file_bytes(path: Path) -> int:
    total = path.stat().st_size
    wal = Path(str(path) + ".wal")
    return total + (wal.stat().st_size if wal.exists() else 0)


def storage(path: Path) -> dict:
    """CHECKPOINT a closed DuckDB file, then: results rows, file bytes, bytes in used blocks
    (a file keeps the blocks that deleted or rewritten rows freed, and reuses them later)."""
    with duckdb.connect(str(path)) as con:
        con.execute("CHECKPOINT")
        rows = con.execute("SELECT count(*) FROM results").fetchone()[0]
        cols = [d[0] for d in con.execute("PRAGMA database_size").description]
        info = dict(zip(cols, con.execute("PRAGMA database_size").fetchone()))
    return {"rows": rows, "file": file_bytes(path), "used": info["used_blocks"] * info["block_size"],
            "free": info["free_blocks"] * info["block_size"]}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_rows(count: int, monitors: int, interval: int, end: datetime) -> list[ResultRow]:
    """Results in time order, as the scheduler produces them: every monitor once per interval,
    the monitors' first runs spread over the interval, a few ms of start jitter."""
    rng = random.Random(42)
    ticks = -(-count // monitors)
    start = end - timedelta(seconds=ticks * interval)
    step = interval / monitors
    rows = []
    for i in range(count):
        tick, m = divmod(i, monitors)
        at = start + timedelta(seconds=tick * interval + m * step + rng.random() * JITTER_US / 1e6)
        up = rng.random() >= DOWN_PER_MILLE / 1000
        rows.append(ResultRow(m + 1, at, "local", up, 20 + m % 200 + rng.random() * 30 if up else None,
                              None if up else "timeout"))
    return rows


def bulk_load(path: Path, monitors: int, ticks: int, interval: int, end: datetime) -> tuple[int, float]:
    """Write monitors x ticks results straight into a HistoryStore file, in time order, with the
    same value shapes the writer produces (response time rounded to 0.01 ms, NULL when down)."""
    n = monitors * ticks
    iv = interval * 1_000_000
    start = (end - timedelta(seconds=ticks * interval)).replace(tzinfo=None)
    down = f"hash(i) % 1000 < {DOWN_PER_MILLE}"
    t0 = time.perf_counter()
    con = duckdb.connect(str(path))
    con.execute(SCHEMA)
    con.execute(f"""
        INSERT INTO results
        SELECT (i % {monitors} + 1)::INTEGER,
               TIMESTAMP '{start.isoformat(sep=' ')}'
                   + to_microseconds((i // {monitors}) * {iv} + (i % {monitors}) * {iv // monitors}
                                     + (hash(i * 3 + 1) % {JITTER_US})::BIGINT),
               'local',
               NOT ({down}),
               CASE WHEN {down} THEN NULL
                    ELSE round(20 + (i % {monitors}) % 200 + (hash(i * 7 + 2) % 3000) / 100.0, 2) END,
               CASE WHEN {down} THEN 'timeout' END
        FROM range({n}) r(i)
    """)
    con.execute("CHECKPOINT")
    con.close()
    return n, time.perf_counter() - t0


# ---- 1. ingest -------------------------------------------------------------------------------
def bench_ingest(work: Path, rows_n: int, monitors: int, baseline_n: int, interval: int) -> dict:
    end = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    rows = make_rows(rows_n, monitors, interval, end)
    built = time.perf_counter() - t0
    gc.collect()
    gc.freeze()  # the benchmark's own million objects are not the writer's garbage to scan
    print(f"  built {rows_n:,} ResultRow objects in {built:.1f} s (not timed)", flush=True)

    path = work / "ingest.duckdb"
    store = HistoryStore(path, flush_interval=0.5)
    c0, t0 = time.process_time(), time.perf_counter()
    for row in rows:
        store.append(row)
    appended = time.perf_counter()
    store.flush(timeout=900)
    done, cpu = time.perf_counter(), time.process_time() - c0
    stored = store.count()
    store.close()
    assert stored == rows_n, (stored, rows_n)
    writer = {"rows": rows_n, "seconds": done - t0, "append_seconds": appended - t0, "cpu": cpu,
              "rows_per_s": rows_n / (done - t0), "storage": storage(path)}
    print(f"  HistoryStore: {rows_n:,} rows in {done - t0:.2f} s = {writer['rows_per_s']:,.0f} rows/s "
          f"(append() loop {appended - t0:.2f} s; {cpu / rows_n * 1e6:.2f} us CPU/row)", flush=True)

    base_path = work / "executemany.duckdb"
    sample = [r.as_tuple() for r in rows[:baseline_n]]
    del rows
    gc.unfreeze()
    gc.collect()
    con = duckdb.connect(str(base_path))
    con.execute(SCHEMA)
    t0 = time.perf_counter()
    con.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)", sample)
    secs = time.perf_counter() - t0
    assert con.execute("SELECT count(*) FROM results").fetchone()[0] == baseline_n
    con.close()
    baseline = {"rows": baseline_n, "seconds": secs, "rows_per_s": baseline_n / secs}
    print(f"  executemany:  {baseline_n:,} rows in {secs:.2f} s = {baseline['rows_per_s']:,.0f} rows/s", flush=True)
    return {"writer": writer, "baseline": baseline}


# ---- 2. queries ------------------------------------------------------------------------------
class Served:
    """The real Appliance and Flask app served by waitress on a thread; engine not started."""

    def __init__(self, data_dir: Path):
        from appliance.config import Settings
        from appliance.service import Appliance

        self.settings = Settings.load({
            "data_dir": data_dir, "host": "127.0.0.1", "port": free_port(),
            "admin_email": ADMIN_EMAIL, "admin_password": ADMIN_PASSWORD,
            "rate_limit": "10000000/minute", "login_rate_limit": "10000000/minute",
            "pro_max_monitors": 0}, env={})  # --monitors may be more than an admin's default limit
        self.appliance = Appliance(self.settings)
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> "Served":
        from waitress.server import create_server

        from server import create_app

        self.appliance.ensure_admin()
        self._server = create_server(create_app(self.appliance), host="127.0.0.1", port=self.settings.port,
                                     threads=self.settings.http_threads)
        self._thread = threading.Thread(target=self._server.run, name="waitress", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.settings.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._thread is not None:
            self._thread.join(5)
        self.appliance.stop()


class Client:
    """Keep-alive http.client connection (cheaper on the client side than requests)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


class Samples(list):
    """Wall-clock seconds per call, plus the process CPU seconds per call (all threads: DuckDB's,
    waitress's and the client's), which other load on the machine distorts much less."""
    cpu: float = 0.0


def timed(fn, n: int, warmup: int = 3) -> Samples:
    for _ in range(warmup):
        fn()
    samples = Samples()
    c0 = time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    samples.cpu = (time.process_time() - c0) / n
    return samples


def combined(a: Samples, b: Samples) -> Samples:
    both = Samples(x + y for x, y in zip(a, b))
    both.cpu = a.cpu + b.cpu
    return both


def bench_queries(work: Path, monitors: int, days: float, interval: int, requests_n: int,
                  maintain: bool) -> dict:
    data_dir = work / "appliance"
    data_dir.mkdir()
    ticks = int(days * 86400 // interval)
    end = datetime.now(timezone.utc)
    total, load_s = bulk_load(data_dir / "history.duckdb", monitors, ticks, interval, end)
    bulk = storage(data_dir / "history.duckdb")
    print(f"  bulk-loaded {total:,} rows ({monitors:,} monitors x {ticks:,}) in {load_s:.1f} s; "
          f"{bulk['file'] / total:.2f} B/check after CHECKPOINT", flush=True)
    results = {"rows": total, "monitors": monitors, "ticks": ticks, "load_s": load_s, "storage": bulk,
               "rounds": {}}

    served = Served(data_dir)
    try:
        app = served.appliance
        app.ensure_admin()
        admin = app.entities.user_by_email(ADMIN_EMAIL)
        for m in range(1, monitors + 1):
            created = app.entities.create_monitor(admin.id, {
                "name": f"monitor {m}", "type": "http", "target": f"http://127.0.0.1:9/{m}", "interval": interval})
            assert created.id == m, (created.id, m)
        served.start()
        mid = monitors // 2 + 1
        ids = [m.id for m in app.entities.list_monitors()]
        client = Client(served.settings.port)
        status, body = client.call("POST", "/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert status == 200, body
        client.headers["Authorization"] = "Bearer " + json.loads(body)["token"]

        label = "as written (time order, not compacted)"
        print(f"  measuring: {label}", flush=True)
        results["rounds"][label] = measure(client, app.history, mid, ids, requests_n)
        if maintain and hasattr(app.history, "maintain"):
            results["maintain"] = run_maintain(app.history, app.settings.retention_days)
            label = "after maintain() (rollups, days compacted)"
            print(f"  measuring: {label}", flush=True)
            results["rounds"][label] = measure(client, app.history, mid, ids, requests_n)
        client.close()
    finally:
        served.stop()
    if maintain and "maintain" in results:
        results["maintained"] = storage(data_dir / "history.duckdb")
    return results


def run_maintain(store: HistoryStore, retention_days: int) -> dict:
    """HistoryStore.maintain() as the appliance's housekeeping calls it, repeated until every
    completed day is rolled up and compacted (each call compacts a few days)."""
    from appliance.storage import rollups

    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    calls = []
    for _ in range(100):
        t0 = time.perf_counter()
        store.maintain(datetime.now(timezone.utc), retention_days)
        calls.append(time.perf_counter() - t0)
        done = getattr(store, "_meta", {}).get(rollups.COMPACTED)  # read-only peek: compacted until
        if done is None or done >= today:
            break
    print(f"  maintain(): {len(calls)} calls, {sum(calls):.1f} s in all, "
          f"slowest {max(calls):.1f} s (writer thread busy meanwhile)", flush=True)
    return {"calls": calls}


def measure(client: Client, store: HistoryStore, mid: int, ids: list[int], n: int) -> dict:
    history_path = f"/api/monitors/{mid}/history?hours=24"
    stats_path = f"/api/monitors/{mid}/stats?days=30"
    status, body = client.call("GET", history_path)
    assert status == 200, body
    points = len(json.loads(body)["history"])
    history_bytes = len(body)
    status, body = client.call("GET", stats_path)
    assert status == 200, body
    stats_json = json.loads(body)
    print(f"    monitor {mid}: history 24 h = {points:,} points ({history_bytes:,} B JSON); "
          f"stats 30 d = {stats_json['checks']:,} checks, {len(stats_json['daily'])} days "
          f"({len(body):,} B JSON)", flush=True)

    def get(path):
        def run():
            code, text = client.call("GET", path)
            assert code == 200, text
        return run

    r = {"points": points, "checks_30d": stats_json["checks"]}
    r["http_history"] = timed(get(history_path), n)
    r["http_stats"] = timed(get(stats_path), n)
    r.update(time_store(store, mid, ids, n))
    return r


def time_store(store: HistoryStore, mid: int, ids: list[int], n: int) -> dict:
    """The queries behind the two endpoints, timed directly on a HistoryStore."""
    def since(hours):
        return datetime.now(timezone.utc) - timedelta(hours=hours)

    r = {}
    r["db_history_rows"] = timed(lambda: store.history(mid, since(24)), n)
    r["db_summary_24h"] = timed(lambda: store.summary(mid, since(24)), n)
    r["db_summary_30d_pct"] = timed(lambda: store.summary(mid, since(720), percentiles=True), n)
    r["db_daily_30d"] = timed(lambda: store.daily(mid, since(720)), n)
    r["db_history"] = combined(r["db_history_rows"], r["db_summary_24h"])
    r["db_stats"] = combined(r["db_summary_30d_pct"], r["db_daily_30d"])
    # Not behind the two endpoints, but scans of the same table worth knowing about.
    few = max(10, n // 10)
    if hasattr(store, "daily_by_monitor"):  # a public status page's 90-day bars (10 monitors)
        page = ids[:10]
        r["db_daily_90d_10"] = timed(lambda: store.daily_by_monitor(page, since(90 * 24)), few, warmup=1)
    return r


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"duckdb {duckdb.__version__}; load average {load()}")


def revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return f"{head or '?'}{' + uncommitted changes' if dirty else ''}"


def load() -> str:
    """Other processes on the machine skew every figure here: print the load with them."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="results written through HistoryStore")
    parser.add_argument("--monitors", type=int, default=1_000, help="monitors the results are spread over")
    parser.add_argument("--baseline-rows", type=int, default=20_000, help="rows for the executemany baseline")
    parser.add_argument("--days", type=float, default=7.0, help="days of results per monitor for the query part")
    parser.add_argument("--interval", type=int, default=60, help="check interval in seconds")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: 100 k rows, 100 monitors, 2 days, 2 k baseline rows, 50 requests")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--no-maintain", action="store_true",
                        help="skip the second round (after HistoryStore.maintain(): rollups and compaction)")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-queries", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.monitors, args.days, args.baseline_rows, args.requests = 100_000, 100, 2.0, 2_000, 50
    args.baseline_rows = min(args.baseline_rows, args.rows)

    work = Path(tempfile.mkdtemp(prefix="statuscore-bench-", dir=args.dir))
    print(f"machine: {machine()}\ncode: {revision()}\nwork dir: {work}", flush=True)
    ingest = queries = None
    try:
        if not args.skip_ingest:
            print(f"\n[1] ingest: {args.rows:,} results over {args.monitors:,} monitors", flush=True)
            ingest = bench_ingest(work, args.rows, args.monitors, args.baseline_rows, args.interval)
        if not args.skip_queries:
            print(f"\n[2] queries: {args.monitors:,} monitors x {args.days:g} days at {args.interval} s", flush=True)
            queries = bench_queries(work, args.monitors, args.days, args.interval, args.requests,
                                    not args.no_maintain)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\n=== results === (load average at the end: {load()})")
    if ingest:
        w, b = ingest["writer"], ingest["baseline"]
        print(f"{'ingest':<46} {'rows':>12} {'seconds':>9} {'rows/s':>12}")
        print(f"{'HistoryStore.append() .. flush()':<46} {w['rows']:>12,} {w['seconds']:>9.2f} {w['rows_per_s']:>12,.0f}")
        print(f"{'executemany INSERT (baseline)':<46} {b['rows']:>12,} {b['seconds']:>9.2f} {b['rows_per_s']:>12,.0f}")
        print(f"ratio writer / executemany: {w['rows_per_s'] / b['rows_per_s']:,.0f}x; "
              f"caller side append(): {w['append_seconds'] / w['rows'] * 1e6:.2f} us/row; "
              f"process CPU: {w['cpu'] / w['rows'] * 1e6:.2f} us/row")
        print()
    if queries:
        q = queries
        print(f"queries on {q['rows']:,} rows ({q['monitors']:,} monitors x {q['ticks']:,} results)")
        for state, r in q["rounds"].items():
            print(f"-- {state}: history 24 h = {r['points']:,} points, stats 30 d = {r['checks_30d']:,} checks")
            print(f"{'query (ms)':<46} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8} {'CPU/call':>9}")
            for label, key in (
                ("HTTP GET /history?hours=24", "http_history"),
                ("  direct: history() + summary() 24 h", "db_history"),
                ("    history() 24 h", "db_history_rows"),
                ("    summary() 24 h", "db_summary_24h"),
                ("HTTP GET /stats?days=30", "http_stats"),
                ("  direct: summary(percentiles) + daily() 30 d", "db_stats"),
                ("    summary(percentiles=True) 30 d", "db_summary_30d_pct"),
                ("    daily() 30 d", "db_daily_30d"),
                ("status page: daily_by_monitor(10, 90 d)", "db_daily_90d_10"),
            ):
                if key not in r:
                    continue
                v = r[key]
                print(f"{label:<46} {len(v):>5} {ms(pct(v, .5)):>8} {ms(pct(v, .95)):>8} {ms(max(v)):>8} "
                      f"{ms(v.cpu):>9}")
        if "maintain" in q:
            calls = q["maintain"]["calls"]
            print(f"maintain() until all completed days were compacted: {len(calls)} calls, "
                  f"{sum(calls):.1f} s, slowest {max(calls):.1f} s")
        print()
    print(f"{'stored per check (after CHECKPOINT)':<46} {'rows':>12} {'file bytes':>13} {'B/check':>8} "
          f"{'used-block B/check':>19}")
    entries = []
    if ingest:
        entries.append(("written by HistoryStore (appender batches)", ingest["writer"]["storage"]))
    if queries:
        entries.append(("bulk-loaded (INSERT ... SELECT, time order)", queries["storage"]))
        if "maintained" in queries:
            entries.append(("the same after maintain() (+ rollup tables)", queries["maintained"]))
    for label, st in entries:
        print(f"{label:<46} {st['rows']:>12,} {st['file']:>13,} {st['file'] / st['rows']:>8.2f} "
              f"{st['used'] / st['rows']:>19.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
