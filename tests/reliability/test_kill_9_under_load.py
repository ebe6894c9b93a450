"""kill -9 of a real `statuscore serve` in the middle of heavy check traffic, then a restart on the
same data dir: nothing flushed is lost, nothing is stored or announced twice.

200 http monitors at a 10 s interval against a local peer (150 steady, 40 that fail from some
point on, 10 down from the start) and a generic webhook at a local receiver. The kill lands while
the 40 are going down one after another (checks, transitions and webhook sends in flight). After
the restart they go on failing until every monitor was checked again, then recover; the stores
are read from the files once the appliance is stopped:

- every result the history had flushed before the kill is stored (a known set: each monitor's
  last check as the API showed it, taken > 1 s before the kill, the history flushing every
  0.5 s; and at least as many rows as the engine reported written);
- no result twice (monitor, location, checked_at), in the DuckDB file itself;
- each monitor's outbox is exactly what happened to it: one down (and one up for those that
  recovered), never a second down for an outage the restart inherited (no re-alert);
- incidents match the outbox rows one for one, at most one open per monitor, open exactly when
  the monitor is down;
- every outbox row became one delivery, every delivery was delivered, the receiver saw each
  X-StatusCore-Delivery id, and an id arrived twice only for a send that the kill cut off
  (claimed, no outcome recorded: at least once, deduplicable by the receiver).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timezone

import pytest

from appliance.timeutil import parse_iso
from tests.reliability.stores import duckdb_rows, duplicate_results, events_by_monitor, sqlite_rows
from tests.support.appliance import ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer
from tests.support.receiver import Receiver

# Heavy load, or timing-sensitive: one worker runs these one after another (install.sh: --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("heavy")]

STEADY, FLIPPING, DEAD = 150, 40, 10
SETTINGS = {"STATUSCORE_WEBHOOK_BACKOFF": "1,1,1,1", "STATUSCORE_WEBHOOK_TIMEOUT": "3"}


def monitors(proc: ApplianceProcess, admin) -> dict[int, dict]:
    response = proc.api.get("/api/monitors", admin)
    assert response.status_code == 200, response.text
    return {m["id"]: m for m in response.json()}


def test_it_loses_and_doubles_nothing_when_killed_under_load(tmp_path):
    data_dir = tmp_path / "data"
    with HttpPeer() as peer, Receiver() as receiver:
        peer.fail_paths("/dead/")
        proc = ApplianceProcess(data_dir, env=SETTINGS).start()
        try:
            admin = proc.admin()
            hook = proc.api.post("/api/settings/webhooks", admin,
                                 json={"url": receiver.url, "events": ["monitor.down", "monitor.up"]})
            assert hook.status_code == 201, hook.text
            kinds: dict[int, str] = {}
            for n in range(STEADY + FLIPPING + DEAD):  # interleaved: the flipping ones' checks spread out
                kind = "flip" if n % 5 == 1 else "dead" if n % 20 == 3 else "steady"
                created = proc.api.create_monitor(admin, name=f"{kind}-{n}", type="http", interval=10,
                                                  timeout=5, retries=0, target=f"{peer.url}/{kind}/{n}")
                kinds[created["id"]] = kind
            assert Counter(kinds.values()) == {"steady": STEADY, "flip": FLIPPING, "dead": DEAD}
            # A new monitor is checked at once: all of them within seconds.
            wait_for(lambda: all(m["last_check"] and m["status"] == ("down" if kinds[i] == "dead" else "up")
                                 for i, m in monitors(proc, admin).items()),
                     timeout=30, interval=0.5, message="a first verdict for all 200 monitors")
            known = {i: m["last_check"] for i, m in monitors(proc, admin).items()}

            # The 40 go down at their next checks (10 s after their first ones, one after another).
            peer.fail_paths("/dead/", "/flip/")
            time.sleep(2.0)  # > the flush interval (0.5 s): every known result is on disk now
            wait_for(lambda: sum(m["status"] == "down" for m in monitors(proc, admin).values()) >= DEAD + 5,
                     timeout=15, interval=0.1, message="the first flipping monitors to go down")
            written = proc.api.get("/api/admin/engine", admin).json()["history_rows_written"]
            killed_at = datetime.now(timezone.utc)
        finally:
            proc.kill()
        down_before = sum(1 for i, e in events_by_monitor(data_dir).items() if e[-1:] == ["monitor.down"])
        assert DEAD < down_before, "the kill should land while monitors are going down"

        restarted_at = datetime.now(timezone.utc).replace(microsecond=0)
        proc = ApplianceProcess(data_dir, env=SETTINGS, port=proc.port).start()
        try:
            admin = proc.admin()
            # Still failing: every monitor is checked again (first checks spread over the interval),
            # those already down stay down without a second alert, the rest go down now.
            wait_for(lambda: all(m["last_check"] and parse_iso(m["last_check"]) >= restarted_at
                                 for m in monitors(proc, admin).values()),
                     timeout=30, interval=0.5, message="every monitor checked after the restart")
            wait_for(lambda: all(m["status"] == ("up" if kinds[i] == "steady" else "down")
                                 for i, m in monitors(proc, admin).items()),
                     timeout=15, interval=0.5, message="all flipping monitors down after the restart")
            peer.fail_paths("/dead/")
            wait_for(lambda: all(m["status"] == ("down" if kinds[i] == "dead" else "up")
                                 for i, m in monitors(proc, admin).items()),
                     timeout=30, interval=0.5, message="the flipping monitors to recover")
            expected_events = DEAD + 2 * FLIPPING
            wait_for(lambda: sqlite_rows(data_dir, "SELECT count(*), count(*) FILTER (WHERE state = 'delivered') "
                                                   "FROM delivery") == [(expected_events, expected_events)],
                     timeout=30, interval=0.5, message=f"{expected_events} deliveries, all delivered")
            delivered = {u for (u,) in sqlite_rows(data_dir, "SELECT uuid FROM delivery")}
            receiver.wait_until(lambda got: delivered <= {m.delivery for m in got}, timeout=10,
                                message="every delivery at the receiver")
        finally:
            assert proc.stop() == 0, proc.log()[-3000:]
        messages = receiver.messages

    # ---- the history --------------------------------------------------------------------------
    assert duplicate_results(data_dir) == [], "a result was stored twice"
    stored = {(mid, at.replace(microsecond=0)) for mid, at in
              duckdb_rows(data_dir, "SELECT monitor_id, checked_at FROM results WHERE location = 'local'")}
    missing = [(mid, at) for mid, at in known.items()
               if (mid, parse_iso(at).replace(tzinfo=None)) not in stored]
    assert missing == [], f"results flushed before the kill are gone: {missing[:5]}"
    [(before_kill,)] = duckdb_rows(data_dir, "SELECT count(*) FROM results WHERE checked_at < ?",
                                   killed_at.replace(tzinfo=None))
    assert before_kill >= written, f"{written} rows were written before the kill, {before_kill} are stored"

    # ---- outbox, incidents, monitors ----------------------------------------------------------
    events = events_by_monitor(data_dir)
    for mid, kind in kinds.items():
        want = {"steady": [], "flip": ["monitor.down", "monitor.up"], "dead": ["monitor.down"]}[kind]
        assert events.get(mid, []) == want, f"monitor {mid} ({kind}): {events.get(mid)}"
    assert sqlite_rows(data_dir, "SELECT count(*) FROM state_change WHERE processed_at IS NULL") == [(0,)]
    status = dict(sqlite_rows(data_dir, "SELECT id, status FROM monitor"))
    assert {mid: status[mid] for mid in kinds} == {mid: "down" if k == "dead" else "up" for mid, k in kinds.items()}
    changes = sqlite_rows(data_dir, "SELECT monitor_id, event, created_at FROM state_change ORDER BY id")
    downs = sorted((m, at) for m, e, at in changes if e == "monitor.down")
    ups = sorted((m, at) for m, e, at in changes if e == "monitor.up")
    incidents = sqlite_rows(data_dir, "SELECT monitor_id, started_at, resolved_at FROM incident ORDER BY id")
    assert sorted((m, start) for m, start, _ in incidents) == downs, "an incident for each down, no other"
    assert sorted((m, end) for m, _, end in incidents if end is not None) == ups, "each up resolves its incident"
    # The kill landed in the middle of the wave: some went down before it, some only after.
    late = [m for m, at in downs if kinds[m] == "flip" and datetime.fromisoformat(at) > killed_at.replace(tzinfo=None)]
    assert 0 < len(late) < FLIPPING, f"{len(late)} of {FLIPPING} went down after the restart"
    open_incidents = Counter(m for m, _, end in incidents if end is None)
    assert all(n == 1 for n in open_incidents.values())
    assert set(open_incidents) == {mid for mid, k in kinds.items() if k == "dead"}

    # ---- webhooks -----------------------------------------------------------------------------
    deliveries = {uuid: (attempts, sent, body) for uuid, attempts, sent, body in sqlite_rows(
        data_dir, "SELECT uuid, attempts, (SELECT count(*) FROM delivery_attempt a WHERE a.delivery_id = d.id), "
                  "body FROM delivery d")}
    assert len(deliveries) == DEAD + 2 * FLIPPING
    announced = Counter()
    for uuid, (_attempts, _sent, body) in deliveries.items():
        payload = json.loads(body)
        announced[(payload["monitor"]["id"], payload["event"])] += 1
    assert set(announced.values()) == {1}, "one delivery per event and webhook"
    assert set(announced) == {(m, e) for m, evs in events.items() for e in evs}
    received = Counter(m.delivery for m in messages)
    assert set(received) == set(deliveries), "the receiver got exactly the deliveries, no other"
    for uuid, copies in received.items():
        if copies > 1:  # only a send the kill cut off (claimed, its outcome never recorded) goes twice
            attempts, sent, body = deliveries[uuid]
            assert attempts > sent, f"delivery {uuid} was sent {copies} times: {attempts} attempts, {sent} recorded"
            assert {m.body for m in messages if m.delivery == uuid} == {body.encode()}
    # One webhook gets its deliveries one at a time: the kill can cut off one send at most.
    assert sum(received.values()) - len(received) <= 1, f"too many repeats: {received.most_common(3)}"
