"""History upkeep on both backends (a real DuckDB file, a real PostgreSQL database): rollups, retention that keeps long-range stats, late
rows rolled again, and compaction that keeps every row."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from appliance.storage.history import HistoryStore, ResultRow
from appliance.storage.pg_history import open_history

NOW = datetime(2026, 6, 15, 12, 30, tzinfo=timezone.utc)


@pytest.fixture
def store(history_target):
    history = open_history(history_target, flush_interval=0.05)
    yield history
    history.close()


def feed(store, rows):
    store.append_many(rows)
    store.flush()


def day_rows(monitor_id, day_start, per_day=24, up=lambda i: True, rt=100.0):
    return [ResultRow(monitor_id, day_start + timedelta(hours=i), "local", up(i), rt if up(i) else None)
            for i in range(per_day)]


def test_it_rolls_up_completed_days_and_hours(store):
    start = datetime(2026, 6, 10, tzinfo=timezone.utc)
    feed(store, day_rows(1, start, up=lambda i: i != 5) + day_rows(2, start, rt=50.0))
    store.maintain(NOW, retention_days=90)
    daily = store.daily(1, start)
    assert daily == [(start.date(), 24, 1, 100.0)]
    cur = store._cursor()
    assert cur.execute("SELECT count(*), sum(checks), sum(failures) FROM rollup_hour WHERE monitor_id = 1").fetchone() == (24, 24, 1)
    assert cur.execute("SELECT checks, rt_min, rt_max FROM rollup_day WHERE monitor_id = 2").fetchone() == (24, 50.0, 50.0)


def test_it_keeps_long_range_stats_after_raw_retention(store):
    old_day = datetime(2026, 5, 1, tzinfo=timezone.utc)
    recent = datetime(2026, 6, 14, tzinfo=timezone.utc)
    feed(store, day_rows(1, old_day, up=lambda i: i % 4 != 0, rt=200.0) + day_rows(1, recent, rt=100.0))
    store.maintain(NOW, retention_days=30)
    # Raw rows older than 30 days are gone...
    assert store.count(1) == 24
    assert store.history(1, old_day) == store.history(1, recent)
    # ...but the 60-day figures still include that day, from its rollup.
    summary = store.summary(1, NOW - timedelta(days=60))
    assert (summary.checks, summary.failures) == (48, 6)
    assert summary.avg == pytest.approx((18 * 200.0 + 24 * 100.0) / 42)
    assert (summary.min, summary.max) == (100.0, 200.0)
    assert summary.first_at == summary.first_up_at == old_day  # its first check failed, the second (same day) did not
    assert [d[0] for d in store.daily(1, NOW - timedelta(days=60))] == [old_day.date(), recent.date()]


def test_history_with_its_summary_matches_the_summary_query(store):
    start = datetime(2026, 6, 14, 3, 0, 0, 250_000, tzinfo=timezone.utc)
    feed(store, day_rows(1, start, up=lambda i: i % 5 != 0, rt=120.5)
         + [ResultRow(1, start + timedelta(minutes=30), "probe-1", True, None)]
         + day_rows(2, start, rt=9.0))
    for since in (start - timedelta(hours=1), start + timedelta(hours=7, minutes=1), NOW + timedelta(hours=1)):
        rows, summary = store.history_with_summary(1, since)
        assert summary == store.summary(1, since)
        assert len(rows) == summary.checks
    rows, summary = store.history_with_summary(1, start)
    assert rows[0] == {"checked_at": "2026-06-14T03:00:00Z", "status": "down", "response_time": None, "location": "local",
                       "anomaly_score": None}
    assert (summary.checks, summary.failures, summary.rt_count, summary.first_at) == (25, 5, 19, start)
    assert summary.first_up_at == start + timedelta(minutes=30)  # the first check failed: from the first success (probe-1)


def test_history_with_its_summary_reads_rollups_for_days_past_retention(store):
    old_day = datetime(2026, 5, 1, tzinfo=timezone.utc)
    recent = datetime(2026, 6, 14, tzinfo=timezone.utc)
    feed(store, day_rows(1, old_day, up=lambda i: i % 4 != 0, rt=200.0) + day_rows(1, recent, rt=100.0))
    store.maintain(NOW, retention_days=30)
    rows, summary = store.history_with_summary(1, NOW - timedelta(days=60))
    assert len(rows) == 24  # only raw rows are listed...
    assert (summary.checks, summary.failures) == (48, 6)  # ...the summary has the rolled-up day too
    assert summary == store.summary(1, NOW - timedelta(days=60))


def test_it_rolls_again_the_buckets_that_late_rows_land_in(store):
    day = datetime(2026, 6, 12, tzinfo=timezone.utc)
    feed(store, day_rows(1, day))
    store.maintain(NOW, retention_days=90)
    feed(store, [ResultRow(1, day + timedelta(hours=3, minutes=30), "probe-1", False, None)])  # a probe catching up
    store.maintain(NOW, retention_days=90)
    cur = store._cursor()
    assert cur.execute("SELECT sum(checks), sum(failures) FROM rollup_day WHERE monitor_id = 1").fetchone() == (25, 1)
    assert cur.execute("SELECT sum(checks) FROM rollup_hour WHERE monitor_id = 1").fetchone() == (25,)


def test_compaction_keeps_every_row_and_sorts_each_day_by_monitor(store):
    if not isinstance(store, HistoryStore):
        pytest.skip("DuckDB's compaction; PostgreSQL finds a monitor's rows through its B-tree and rewrites nothing")
    day = datetime(2026, 6, 13, tzinfo=timezone.utc)
    interleaved = [ResultRow(m, day + timedelta(minutes=i), "local", True, float(m)) for i in range(60) for m in (3, 1, 2)]
    feed(store, interleaved)
    before = sorted(store._cursor().execute("SELECT * FROM results").fetchall())
    store.maintain(NOW, retention_days=90)
    rows = store._cursor().execute("SELECT monitor_id, checked_at FROM results").fetchall()
    assert sorted(store._cursor().execute("SELECT * FROM results").fetchall()) == before
    assert rows == sorted(rows)  # rewritten in (monitor_id, checked_at) order
    store.maintain(NOW, retention_days=90)  # idempotent
    assert store.count() == len(interleaved)


def test_daily_figures_include_late_rows_before_the_next_upkeep(store):
    day = datetime(2026, 6, 12, tzinfo=timezone.utc)
    feed(store, day_rows(1, day))
    store.maintain(NOW, retention_days=90)
    feed(store, [ResultRow(1, day + timedelta(hours=3, minutes=30), "local", False, None)])
    assert store.daily(1, day) == [(day.date(), 25, 1, 100.0)]


def _today_rows():
    """Every 10 minutes of NOW's day up to NOW (12:30): 76 checks; 01:00-01:59 failed, others
    took 100 ms, except those of the current (unrolled) hour, 300 ms."""
    day = datetime(NOW.year, NOW.month, NOW.day, tzinfo=timezone.utc)
    rows = []
    for i in range(76):
        at = day + timedelta(minutes=10 * i)
        up = at.hour != 1
        rows.append(ResultRow(1, at, "local", up, (300.0 if at.hour == 12 else 100.0) if up else None))
    return day, rows


def test_daily_figures_of_today_join_rolled_hours_and_the_current_hour(store):
    day, rows = _today_rows()
    feed(store, rows)
    store.maintain(NOW, retention_days=90)  # rolls 00:00-12:00; 12:00-12:30 stays raw
    assert store._cursor().execute("SELECT sum(checks) FROM rollup_hour").fetchone() == (72,)
    assert store.daily(1, day - timedelta(days=3)) == [(day.date(), 76, 6, pytest.approx((66 * 100 + 4 * 300) / 70))]
    # A window starting mid-hour counts the rows from its start on, as before any rollup.
    since = day + timedelta(hours=10, minutes=25)
    assert store.daily(1, since) == [(day.date(), 13, 0, pytest.approx((9 * 100 + 4 * 300) / 13))]


def test_daily_figures_of_today_include_a_late_row_in_a_rolled_hour(store):
    day, rows = _today_rows()
    feed(store, rows)
    store.maintain(NOW, retention_days=90)
    feed(store, [ResultRow(1, day + timedelta(hours=3, minutes=5), "probe-1", False, None)])
    assert store.daily(1, day) == [(day.date(), 77, 7, pytest.approx((66 * 100 + 4 * 300) / 70))]
    store.maintain(NOW, retention_days=90)  # rolled again: the same answer from the rollups
    assert store.daily(1, day) == [(day.date(), 77, 7, pytest.approx((66 * 100 + 4 * 300) / 70))]


@pytest.mark.parametrize("retention_days", [90, 1])
def test_it_goes_on_writing_after_an_upkeep(store, retention_days):
    """Upkeep runs on the writer's cursor: it must leave no unfinished result there (it did on
    an empty history, 5 s after a fresh start, and every write then failed until the next one)."""
    store.maintain(NOW, retention_days=retention_days)  # nothing stored yet
    feed(store, day_rows(1, datetime(2026, 6, 10, tzinfo=timezone.utc)))
    assert store.last_write_error is None and store.count(1) == 24
    store.maintain(NOW, retention_days=retention_days)  # rows to roll (and with 1 day: to delete)
    feed(store, [ResultRow(1, NOW, "local", True, 10.0)])
    assert store.last_write_error is None
    assert store.count(1) == (25 if retention_days == 90 else 1)
