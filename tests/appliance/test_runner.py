"""Runner.record with real stores: confirmation, state-change rows, incidents, and a restart
that neither forgets a down nor announces it again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from appliance.checkers.base import CheckResult
from appliance.checkers.http import HttpChecker
from appliance.config import Settings
from appliance.engine.live import LiveStates
from appliance.engine.runner import Runner
from appliance.models import Incident, Monitor, StateChange
from appliance.service import Appliance
from appliance.spec import MonitorSpec
from appliance.storage.entities import EntityStore, Transition
from appliance.storage.database import is_postgres
from appliance.storage.history import HistoryStore
from appliance.storage.pg_history import open_history
from appliance.timeutil import as_utc
from tests.support.appliance import TEST_PASSWORD_HASH_COST, cheap_hasher
from tests.support.peers import HttpPeer

T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
FAIL = CheckResult.failure("HTTP 500")
OK = CheckResult(True, 12.0)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


class World:
    """A runner wired to real stores in a temporary directory."""

    def __init__(self, entities: EntityStore, history: HistoryStore, runner: Runner):
        self.entities, self.history, self.runner = entities, history, runner
        user = entities.create_user("owner@example.test", "owner-password-1")
        self.monitor = entities.create_monitor(user.id, {
            "name": "Website", "type": "http", "target": "http://127.0.0.1:9/", "retries": 1})
        self.spec = MonitorSpec.from_model(self.monitor)

    def record(self, result: CheckResult, seconds: int, location: str = "local"):
        return self.runner.record(self.spec, location, result, at(seconds))

    def stored(self) -> Monitor:
        return self.entities.get_monitor(self.monitor.id)

    def changes(self) -> list[StateChange]:
        with self.entities.session() as s:
            return list(s.exec(select(StateChange).where(StateChange.monitor_id == self.monitor.id)
                               .order_by(StateChange.id)))

    def incidents(self) -> list[Incident]:
        return sorted(self.entities.incidents([self.monitor.id]), key=lambda i: i.id)


@pytest.fixture
def world(tmp_path, database):
    """On SQLite + DuckDB, and on PostgreSQL (entities and history)."""
    entities = EntityStore(database, hasher=cheap_hasher())
    history = open_history(database if is_postgres(database) else tmp_path / "history.duckdb", flush_interval=0.1)
    runner = Runner({}, history, entities, LiveStates(), "local")
    yield World(entities, history, runner)
    history.close()
    entities.close()


def test_it_goes_down_only_after_retries_plus_one_failures(world):
    assert world.record(FAIL, 0).status == "pending"
    assert world.stored().status == "pending"
    assert world.changes() == [] and world.incidents() == []

    assert world.record(FAIL, 60).status == "down"
    monitor = world.stored()
    assert monitor.status == "down"
    assert as_utc(monitor.status_since) == at(60)
    [change] = world.changes()
    assert change.event == "monitor.down"
    assert (change.old_status, change.new_status) == ("pending", "down")
    assert change.details["cause"] == "HTTP 500"
    assert change.details["locations"] == ["local"]
    assert change.processed_at is None
    [incident] = world.incidents()
    assert incident.resolved_at is None and incident.cause == "HTTP 500"
    # Written together: the status, the outbox row and the incident carry the same instant.
    assert as_utc(change.created_at) == as_utc(incident.started_at) == at(60)


def test_it_goes_down_from_up_after_retries_plus_one_failures(world):
    world.record(OK, 0)
    assert world.record(FAIL, 60).status == "up"
    assert world.changes() == []
    assert world.record(FAIL, 120).status == "down"
    [change] = world.changes()
    assert (change.old_status, change.new_status, change.event) == ("up", "down", "monitor.down")
    assert len(world.incidents()) == 1


def test_it_resolves_the_incident_and_announces_the_recovery(world):
    world.record(FAIL, 0)
    world.record(FAIL, 60)
    assert world.record(OK, 120).status == "up"
    assert world.stored().status == "up"
    down, up = world.changes()
    assert (up.old_status, up.new_status, up.event) == ("down", "up", "monitor.up")
    [incident] = world.incidents()
    assert as_utc(incident.resolved_at) == at(120)


def test_it_writes_no_state_change_from_pending_to_up(world):
    assert world.record(OK, 0).status == "up"
    assert world.stored().status == "up"
    assert world.changes() == []
    assert world.incidents() == []


def test_it_writes_nothing_while_the_status_stays_the_same(world):
    world.record(FAIL, 0)
    world.record(FAIL, 60)
    for n in range(2, 6):
        world.record(FAIL, n * 60)
    assert len(world.changes()) == 1
    assert len(world.incidents()) == 1


def test_it_keeps_every_result_in_the_history(world):
    world.record(FAIL, 0)
    world.record(OK, 60)
    world.history.flush()
    assert [(t, up) for t, up, _rt, _loc in world.history.history(world.monitor.id, T0)] == [
        (at(0), False), (at(60), True)]


def test_it_keeps_the_live_state_of_each_check(world):
    state = world.record(FAIL, 0)
    assert (state.last_check, state.last_error, state.location_status) == (at(0), "HTTP 500", {"local": "pending"})
    state = world.record(OK, 60)
    assert (state.response_time, state.last_error) == (12.0, None)


def test_it_runs_a_real_check_and_records_it(tmp_path):
    with HttpPeer() as peer:
        entities = EntityStore(tmp_path / "e.sqlite", hasher=cheap_hasher())
        history = HistoryStore(tmp_path / "h.duckdb", flush_interval=0.1)
        try:
            runner = Runner({"http": HttpChecker()}, history, entities, LiveStates(), "local")
            w = World(entities, history, runner)
            spec = MonitorSpec.from_model(entities.update_monitor(
                w.monitor.id, w.monitor.user_id, {"target": peer.url + "/status/503"}))
            runner.run(spec)
            runner.run(spec)
            assert runner.live.get(spec.id).status == "down"
            assert runner.live.get(spec.id).last_error == "HTTP 503"
            assert w.stored().status == "down"
            history.flush()
            assert history.count(spec.id) == 2
        finally:
            history.close()
            entities.close()


def test_it_drops_the_result_of_a_spec_that_was_replaced_while_it_ran(world):
    world.runner.is_current = lambda spec: False
    world.runner.checkers = {"http": HttpChecker()}
    world.runner.run(world.spec)
    world.history.flush()
    assert world.history.count(world.monitor.id) == 0
    assert world.runner.live.get(world.monitor.id).last_check is None


def test_it_records_a_transition_only_once(world):
    transition = Transition(monitor_id=world.monitor.id, old_status="pending", new_status="down",
                            at=at(0), cause="x", locations=("local",))
    world.entities.record_transition(transition)
    assert world.entities.record_transition(transition) is None  # compare-and-set: already down
    assert len(world.changes()) == 1
    assert len(world.incidents()) == 1


def test_it_needs_a_quorum_of_locations_to_go_down(world):
    world.record(OK, 0, "local")
    world.record(OK, 0, "eu")
    world.record(OK, 0, "us")
    for seconds in (60, 120):
        world.record(FAIL, seconds, "eu")
    assert world.stored().status == "up"  # one of three locations
    for seconds in (60, 120):
        state = world.record(FAIL, seconds, "us")
    assert state.status == "down"  # two of three
    [change] = world.changes()
    assert change.details["locations"] == ["eu", "us"]


# ---- restart ------------------------------------------------------------------------------

def make_appliance(data_dir: Path) -> Appliance:
    return Appliance(Settings.load({"data_dir": data_dir, "flush_interval": 0.1,
                                    "password_hash_cost": TEST_PASSWORD_HASH_COST}, env={}))


def down_before_restart(data_dir: Path) -> int:
    first = make_appliance(data_dir)
    try:
        user = first.entities.create_user("owner@example.test", "owner-password-1")
        monitor = first.entities.create_monitor(user.id, {
            "name": "Website", "type": "http", "target": "http://127.0.0.1:9/", "retries": 1})
        spec = MonitorSpec.from_model(monitor)
        first.runner.record(spec, "local", FAIL, at(0))
        first.runner.record(spec, "local", FAIL, at(60))
        assert first.entities.get_monitor(monitor.id).status == "down"
    finally:
        first.stop()
    return monitor.id


def changes(appliance: Appliance, monitor_id: int) -> list[str]:
    with appliance.entities.session() as s:
        return [c.event for c in s.exec(select(StateChange).where(StateChange.monitor_id == monitor_id)
                                         .order_by(StateChange.id))]


@pytest.fixture
def restarted(tmp_path):
    monitor_id = down_before_restart(tmp_path / "data")
    again = make_appliance(tmp_path / "data")
    again._restore_live_state()
    yield again, monitor_id
    again.stop()


def test_it_keeps_a_confirmed_down_across_a_restart(restarted):
    appliance, monitor_id = restarted
    state = appliance.live.get(monitor_id)
    assert state.status == "down"
    assert state.location_status == {"local": "down"}
    assert state.last_check == at(60)
    assert state.last_error == "HTTP 500"


def test_it_does_not_announce_a_down_again_after_a_restart(restarted):
    appliance, monitor_id = restarted
    spec = MonitorSpec.from_model(appliance.entities.get_monitor(monitor_id))
    assert appliance.runner.record(spec, "local", FAIL, at(120)).status == "down"
    assert changes(appliance, monitor_id) == ["monitor.down"]
    assert len(appliance.entities.incidents([monitor_id])) == 1


def test_it_announces_the_recovery_after_a_restart(restarted):
    appliance, monitor_id = restarted
    spec = MonitorSpec.from_model(appliance.entities.get_monitor(monitor_id))
    assert appliance.runner.record(spec, "local", OK, at(120)).status == "up"
    assert changes(appliance, monitor_id) == ["monitor.down", "monitor.up"]
    [incident] = appliance.entities.incidents([monitor_id])
    assert as_utc(incident.resolved_at) == at(120)
    assert appliance.entities.get_monitor(monitor_id).status == "up"
