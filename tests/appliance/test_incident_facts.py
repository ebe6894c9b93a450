"""The facts a notification tells of an incident are written into the outbox rows with the
transition (real stores): the incident's id on the down, and on a reminder and the recovery how
long it has lasted, with the cause the outage had."""

from __future__ import annotations

import pytest
from sqlmodel import select

from appliance.models import StateChange
from tests.support.outbox_world import World


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path)
    yield world
    world.entities.close()


def test_it_writes_the_incident_and_its_length_into_the_outbox_rows(world):
    world.transition("pending", "down", cause="HTTP 503")
    world.clock.advance(90)
    monitor = world.entities.get_monitor(world.monitor.id)
    assert world.entities.record_reminder(monitor, world.clock(), {"cause": "HTTP 503", "locations": []})
    world.clock.advance(30)
    world.transition("down", "up", cause="")
    with world.entities.session() as s:
        down, reminder, up = (c.details for c in s.exec(select(StateChange).order_by(StateChange.id)))
    assert isinstance(down["incident_id"], int) and "duration_seconds" not in down
    assert (reminder["incident_id"], reminder["duration_seconds"], reminder["reminder"]) == (down["incident_id"], 90, True)
    assert (up["incident_id"], up["duration_seconds"], up["cause"]) == (down["incident_id"], 120, "HTTP 503")
