"""The entity store on both backends (SQLite file, PostgreSQL on a throwaway server): in-place
schema upgrades, the plan limit under parallel creates, and times kept as UTC."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, inspect, text

from appliance.plans import DEFAULTS, LimitReached, PlanLimits
from appliance.storage.database import is_postgres, make_engine
from appliance.storage.entities import EntityStore, Transition
from tests.support.appliance import cheap_hasher


def _drop_columns(database: str, table: str, columns: list[str]) -> None:
    engine = make_engine(database)
    with engine.begin() as conn:
        for column in columns:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    engine.dispose()


def test_it_adds_columns_a_newer_version_has_to_an_older_database(database):
    store = EntityStore(database, hasher=cheap_hasher())
    user = store.create_user("old@example.test", "owner-password-1")
    monitor = store.create_monitor(user.id, {"name": "Old", "type": "http", "target": "http://127.0.0.1:9/"})
    store.close()
    # As a database made before these columns existed (a bool, an int with a default, a nullable).
    _drop_columns(database, "monitor", ["public_status", "recovery_checks", "reminder_minutes"])

    store = EntityStore(database, hasher=cheap_hasher())
    try:
        columns = {c["name"] for c in inspect(store.engine).get_columns("monitor")}
        assert {"public_status", "recovery_checks", "reminder_minutes"} <= columns
        old = store.get_monitor(monitor.id)
        assert (old.public_status, old.recovery_checks, old.reminder_minutes) == (False, 1, None)
        store.update_monitor(monitor.id, user.id, {"public_status": True, "recovery_checks": 3})
        assert store.get_monitor(monitor.id).recovery_checks == 3
    finally:
        store.close()


def test_parallel_creates_at_the_plan_limit_cannot_both_pass(database):
    limits = PlanLimits({plan: {**kinds, "monitors": 3} for plan, kinds in DEFAULTS.items()})
    store = EntityStore(database, limits=limits, hasher=cheap_hasher())
    try:
        user = store.create_user("busy@example.test", "owner-password-1")
        outcomes: list[str] = []
        start = threading.Barrier(8)

        def create(n: int) -> None:
            start.wait(timeout=10)
            try:
                store.create_monitor(user.id, {"name": f"M{n}", "type": "http", "target": "http://127.0.0.1:9/"})
                outcomes.append("created")
            except LimitReached:
                outcomes.append("refused")

        threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["created"] * 3 + ["refused"] * 5
        assert len(store.list_monitors(user.id)) == 3
    finally:
        store.close()


def test_it_keeps_times_in_utc_whatever_the_servers_time_zone(postgres_url):
    # A server (here: the database) set to another zone must not shift stored times.
    engine = create_engine("postgresql+psycopg://" + postgres_url.split("://", 1)[1])
    with engine.begin() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar()
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'America/New_York'"))
    engine.dispose()
    assert is_postgres(postgres_url)
    store = EntityStore(postgres_url, hasher=cheap_hasher())
    try:
        user = store.create_user("tz@example.test", "owner-password-1")
        monitor = store.create_monitor(user.id, {"name": "TZ", "type": "http", "target": "http://127.0.0.1:9/"})
        at = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
        assert store.record_transition(Transition(monitor.id, "pending", "down", at, "HTTP 500")) is not None
        [incident] = store.incidents([monitor.id])
        assert incident.started_at.replace(tzinfo=timezone.utc) == at
        assert store.down_intervals(at)[0][1] == at
    finally:
        store.close()


def test_it_refuses_a_database_url_that_is_not_postgresql(tmp_path):
    from appliance.config import ConfigError, Settings

    for url, words in (("mysql://db/statuscore", "postgresql://"), ("postgresql://db:5432", "names no database")):
        with pytest.raises(ConfigError, match=words):
            Settings.load({"data_dir": tmp_path}, env={"STATUSCORE_DATABASE_URL": url})


def test_stores_opened_at_once_on_an_empty_postgresql_database_make_the_schema_once(postgres_url):
    """Appliances starting together (a cluster) each run the schema upgrade: one does, the others
    wait for it, and none fails on a table another just made."""
    from appliance.storage.pg_history import open_history

    errors: list[BaseException] = []
    opened = []
    start = threading.Barrier(4)

    def open_both() -> None:
        try:
            start.wait(timeout=10)
            opened.append(EntityStore(postgres_url, hasher=cheap_hasher()))
            opened.append(open_history(postgres_url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_both) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert not errors, errors
        assert len(opened) == 8
    finally:
        for store in opened:
            store.close()


def test_appliances_starting_together_on_an_empty_database_make_one_admin(tmp_path, postgres_url):
    from appliance.config import Settings
    from appliance.service import Appliance
    from tests.support.appliance import TEST_PASSWORD_HASH_COST

    appliances = [Appliance(Settings.load({"data_dir": tmp_path / f"a{n}", "database_url": postgres_url,
                                           "password_hash_cost": TEST_PASSWORD_HASH_COST}, env={}))
                  for n in range(3)]
    made, errors = [], []
    start = threading.Barrier(3)

    def ensure(app) -> None:
        try:
            start.wait(timeout=10)
            made.append(app.ensure_admin())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=ensure, args=(app,)) for app in appliances]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len([m for m in made if m is not None]) == 1
        assert appliances[0].entities.count_users() == 1
    finally:
        for app in appliances:
            app.history.close()
            app.entities.close()


def test_a_status_change_patches_the_monitor_snapshot_instead_of_reloading_it(database):
    # Reloading every monitor after each status change cost more than the checks at 10,000
    # monitors: the engine's own writes patch the cached monitor, in the form a reload gives.
    store = EntityStore(database, hasher=cheap_hasher())
    try:
        user = store.create_user("snap@example.test", "owner-password-1")
        monitor = store.create_monitor(user.id, {"name": "Snap", "type": "http", "target": "http://127.0.0.1:9/"})
        cached, generation = store.get_monitor(monitor.id), store.generation
        at = datetime(2024, 6, 1, 12, 0, 1, 250000, tzinfo=timezone.utc)
        assert store.record_transition(Transition(monitor.id, "pending", "down", at, "HTTP 500")) is not None
        store.set_monitor_fields(monitor.id, heartbeat_since=at)
        assert store.record_reminder(store.get_monitor(monitor.id), at.replace(second=30), {"cause": "x"})
        patched = store.get_monitor(monitor.id)
        assert patched is cached  # not reloaded
        assert store.generation > generation  # callers' caches of monitors follow
        fresh = EntityStore(database, hasher=cheap_hasher())
        try:
            reloaded = fresh.get_monitor(monitor.id)
            for column in ("status", "status_since", "last_alert_at", "heartbeat_since"):
                assert getattr(patched, column) == getattr(reloaded, column), column
        finally:
            fresh.close()
        assert patched.status == "down" and patched.last_alert_at.second == 30
        store.update_monitor(monitor.id, user.id, {"name": "Renamed"})  # an edit still drops it
        assert store.get_monitor(monitor.id) is not cached
        assert store.get_monitor(monitor.id).name == "Renamed"
    finally:
        store.close()
