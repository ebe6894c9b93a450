"""The history store contract, on both backends: a real DuckDB file in a temporary directory and a\nreal PostgreSQL database on the throwaway test server (the `history_target` fixture)."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from appliance.storage.history import HistoryStore, HistoryWriteError, ResultRow
from appliance.storage.pg_history import open_history
from tests.support.net import wait_for
from tests.support.postgres import unavailable as postgres_unavailable

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


def row(monitor_id: int, minutes: float, up: bool = True, rt: float | None = 10.0, location: str = "local",
        error: str | None = None) -> ResultRow:
    return ResultRow(monitor_id, T0 + timedelta(minutes=minutes), location, up, rt, error)


@pytest.fixture
def path(history_target):
    return history_target


@pytest.fixture
def store(path):
    history = open_history(path, flush_interval=0.2)
    yield history
    history.close()


def test_it_reads_appended_rows_after_flush(store):
    store.append(row(1, 0, rt=12.5))
    store.append_many([row(1, 1, up=False, rt=None, error="HTTP 500"), row(2, 1)])
    store.flush()
    assert store.count() == 3
    assert store.history(1, T0 - timedelta(hours=1)) == [
        (T0, True, 12.5, "local"),
        (T0 + timedelta(minutes=1), False, None, "local"),
    ]


def test_it_returns_aware_utc_times_and_honours_the_time_range(store):
    store.append_many([row(1, m) for m in range(10)])
    store.flush()
    rows = store.history(1, T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=6))
    assert [t for t, *_ in rows] == [T0 + timedelta(minutes=m) for m in (3, 4, 5)]
    assert all(t.tzinfo is not None for t, *_ in rows)
    assert len(store.history(1, T0, limit=4)) == 4


def test_it_writes_rows_within_the_flush_interval_without_being_asked(store):
    store.append(row(1, 0))
    wait_for(lambda: store.count() == 1, timeout=5, interval=0.05, message="the row on disk")
    # And again after an idle period.
    store.append(row(1, 1))
    wait_for(lambda: store.count() == 2, timeout=5, interval=0.05, message="the second row on disk")


def test_it_keeps_every_row_after_close_and_reopen(path):
    first = open_history(path, flush_interval=10)  # nothing flushes by time: close() must
    first.append_many([row(1, m) for m in range(500)])
    first.close()
    first.close()  # closing twice is harmless
    again = open_history(path)
    try:
        assert again.count() == 500
        assert again.count(1) == 500
    finally:
        again.close()


def test_it_deletes_one_monitors_rows_including_queued_ones(path):
    store = open_history(path, flush_interval=10)  # queued rows stay queued until a command
    try:
        store.append_many([row(1, m) for m in range(5)] + [row(2, m) for m in range(5)])
        store.flush()
        store.append_many([row(1, 10), row(2, 10)])  # still queued
        store.delete_monitor(1)
        store.append(row(1, 11))  # a check that was in flight when the monitor was deleted
        store.flush()
        assert store.count(1) == 0
        assert store.count(2) == 6
        store.delete_monitors([2, 99])
        assert store.count() == 0
        store.delete_monitors([])
    finally:
        store.close()


def test_it_summarises_a_monitor_over_a_time_range(store):
    store.append_many([
        row(1, 0, rt=10.0), row(1, 1, rt=20.0), row(1, 2, up=False, rt=500.0, error="HTTP 500"),
        row(1, 3, rt=30.0), row(1, 4, up=False, rt=None, error="timeout"),
        row(1, -120, rt=1000.0),  # before the range
        row(2, 1, rt=999.0),  # another monitor
    ])
    store.flush()
    summary = store.summary(1, T0, percentiles=True)
    assert summary.checks == 5
    assert summary.failures == 2
    assert summary.uptime == pytest.approx(60.0)
    # Response-time figures count successful checks only.
    assert summary.avg == pytest.approx(20.0)
    assert summary.min == pytest.approx(10.0)
    assert summary.max == pytest.approx(30.0)
    assert summary.p50 == pytest.approx(20.0)
    assert summary.p95 == pytest.approx(29.0)  # linear interpolation between 20 and 30
    until = store.summary(1, T0, until=T0 + timedelta(minutes=2))
    assert (until.checks, until.failures, until.avg) == (2, 0, pytest.approx(15.0))


def test_it_summarises_no_checks_as_unknown(store):
    summary = store.summary(42, T0)
    assert (summary.checks, summary.failures, summary.avg, summary.uptime) == (0, 0, None, None)


def test_it_groups_results_by_utc_day(store):
    day = datetime(2024, 3, 1, tzinfo=timezone.utc)
    store.append_many([
        ResultRow(1, day + timedelta(hours=1), "local", True, 10.0),
        ResultRow(1, day + timedelta(hours=23, minutes=59), "local", False, None, "down"),
        ResultRow(1, day + timedelta(days=1, minutes=1), "local", True, 40.0),
        ResultRow(1, day + timedelta(days=1, hours=2), "local", True, 20.0),
    ])
    store.flush()
    assert store.daily(1, day) == [
        (date(2024, 3, 1), 2, 1, pytest.approx(10.0)),
        (date(2024, 3, 2), 2, 0, pytest.approx(30.0)),
    ]
    # Counts are ints (a Decimal would compare equal above, yet reach the API's JSON as a string).
    assert all(type(n) is int for _, checks, failures, _ in store.daily(1, day) for n in (checks, failures))


def test_it_counts_checks_and_failures_per_monitor(store):
    store.append_many([row(1, 0), row(1, 1, up=False), row(2, 0), row(3, 0, up=False), row(3, -60)])
    store.flush()
    assert store.uptime_by_monitor([1, 2, 3, 4], T0) == {1: (2, 1), 2: (1, 0), 3: (1, 1)}
    assert store.uptime_by_monitor([], T0) == {}


def test_it_returns_the_newest_result_per_monitor_and_location(store):
    store.append_many([
        row(1, 0, up=False, rt=None, error="refused"),
        row(1, 1, up=True, rt=15.0),  # newest at local: up, no error
        row(1, 0, location="eu", up=True, rt=20.0),
        row(1, 2, location="eu", up=False, rt=None, error="timeout"),  # newest at eu: no response time
        row(2, 5, up=True, rt=7.0),
        row(3, -600, up=False, error="too old"),
    ])
    store.flush()
    latest = store.latest(T0 - timedelta(minutes=1))
    assert latest == {
        (1, "local"): (T0 + timedelta(minutes=1), True, 15.0, None),
        (1, "eu"): (T0 + timedelta(minutes=2), False, None, "timeout"),
        (2, "local"): (T0 + timedelta(minutes=5), True, 7.0, None),
    }


def test_it_serves_readers_while_the_writer_writes(store):
    errors: list[BaseException] = []
    stop = threading.Event()

    def read():
        try:
            for _ in range(200):
                if stop.is_set():
                    return
                store.summary(1, T0)
                store.history(1, T0, limit=10)
                store.uptime_by_monitor([1], T0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for batch in range(20):
            store.append_many([row(1, batch * 100 + m) for m in range(100)])
            if batch % 5 == 0:
                store.flush()
        store.flush()
    finally:
        stop.set()
        for reader in readers:
            reader.join(10)
    assert not errors, errors
    assert store.count(1) == 2000


def test_a_second_process_on_the_same_history_gets_a_clear_refusal(tmp_path):
    import subprocess
    import sys

    store = HistoryStore(tmp_path / "history.duckdb")
    try:
        code = ("from appliance.storage.history import HistoryStore\n"
                "from appliance.storage import HistoryUnavailable\n"
                f"try:\n    HistoryStore({str(tmp_path / 'history.duckdb')!r})\n"
                "except HistoryUnavailable as exc:\n    print(exc)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert "in use by another process" in out.stdout, out.stderr
    finally:
        store.close()


@pytest.mark.skipif(postgres_unavailable() is not None, reason=str(postgres_unavailable()))
def test_a_postgresql_history_keeps_results_while_the_server_is_down_and_writes_them_after():
    """Its own server, stopped as by a crash and started again: rows queued meanwhile are kept in
    memory, a flush says why it cannot write, readers get the driver's error, and all is written
    once the server is back."""
    from psycopg import OperationalError

    from tests.support.postgres import PostgresServer

    server = PostgresServer().start(durable=True)  # a crash loses no commit
    try:
        store = open_history(server.create_database(), flush_interval=0.1)
        try:
            store.append_many([row(1, m) for m in range(3)])
            store.flush()
            server.halt()
            store.append_many([row(1, m) for m in range(3, 6)])
            with pytest.raises(HistoryWriteError):
                store.flush(timeout=30)
            assert store.last_write_error
            with pytest.raises(OperationalError):
                store.count()
            server.resume()
            wait_for(lambda: store.last_write_error is None, timeout=30, interval=0.1, message="writes again")
            store.flush()
            assert store.count(1) == 6
        finally:
            store.close()
    finally:
        server.stop()


def test_a_file_from_before_anomaly_scores_gets_the_column_and_keeps_its_rows(tmp_path):
    import duckdb

    path = tmp_path / "history.duckdb"

    con = duckdb.connect(str(path))  # the results table as it was before issue 19
    con.execute("CREATE TABLE results (monitor_id INTEGER NOT NULL, checked_at TIMESTAMP NOT NULL, "
                "location VARCHAR NOT NULL, up BOOLEAN NOT NULL, response_time FLOAT, error VARCHAR)")
    con.execute("INSERT INTO results VALUES (1, ?, 'local', true, 12.5, NULL)", [T0.replace(tzinfo=None)])
    con.close()
    history = HistoryStore(path, flush_interval=0.2)
    try:
        history.append(ResultRow(1, T0 + timedelta(minutes=1), "local", True, 13.0, None, 0.25))
        history.flush()
        rows, _ = history.history_with_summary(1, T0 - timedelta(hours=1))
        assert [r["anomaly_score"] for r in rows] == [None, 0.25]
    finally:
        history.close()


def test_it_keeps_each_checks_anomaly_score(store):
    store.append_many([row(1, 0), ResultRow(1, T0 + timedelta(minutes=1), "local", True, 13.0, None, 0.25)])
    store.flush()
    rows, _ = store.history_with_summary(1, T0 - timedelta(hours=1))
    assert [r["anomaly_score"] for r in rows] == [None, 0.25]
