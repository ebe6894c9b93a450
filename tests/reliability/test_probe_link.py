"""The probe/server link dropped and restored.

The long case, real `statuscore probe` processes spooling while the appliance is down and
delivering everything once after it is back (none stored twice), is
tests/e2e/test_probes.py::test_it_takes_the_spooled_results_after_a_restart_each_once, which runs
in the same suite; it is not repeated here.

Here the harshest drop: the appliance killed (-9) right after it acknowledged a batch. A probe
drops from its spool whatever the appliance acknowledged, so an acknowledged result must already
be on disk: it is in the history after the restart, and the same batch sent again (an answer lost
on the way) is recognised as duplicates, not stored twice. The history's flush interval is set
long here (30 s), so a result held only in memory at the kill would surely be lost.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from appliance.timeutil import iso
from tests.reliability.stores import duckdb_rows, duplicate_results
from tests.support.appliance import ApplianceProcess

pytestmark = pytest.mark.slow

SETTINGS = {"STATUSCORE_FLUSH_INTERVAL": "30"}


def test_it_keeps_every_result_it_acknowledged_to_a_probe_through_kill_9(tmp_path):
    data_dir = tmp_path / "data"
    proc = ApplianceProcess(data_dir, env=SETTINGS).start()
    try:
        api, admin = proc.api, proc.admin()
        probe = api.post("/api/admin/probes", admin, json={"name": "eu-west", "display_name": "EU-West"}).json()
        as_probe = {"Authorization": f"Bearer {probe['token']}"}
        monitor = api.create_monitor(admin, name="API", type="http", target="http://127.0.0.1:9/", interval=10,
                                     check_locations=["eu-west"])
        now = datetime.now(timezone.utc).replace(microsecond=0)
        batch = {"results": [{"id": uuid.uuid4().hex, "monitor_id": monitor["id"],
                              "checked_at": iso(now - timedelta(seconds=s), millis=True), "up": s % 2 == 0,
                              "response_time": 12.5, "error": None if s % 2 == 0 else "HTTP 503"}
                             for s in (30, 20, 10)]}
        sent = api.post("/api/probe/results", headers=as_probe, json=batch)
        assert sent.status_code == 200 and sent.json()["accepted"] == 3, sent.text
    finally:
        proc.kill()  # at once: well within the 30 s flush interval

    proc = ApplianceProcess(data_dir, env=SETTINGS, port=proc.port).start()
    try:
        api, admin = proc.api, proc.admin()
        history = api.get(f"/api/monitors/{monitor['id']}/history", admin).json()["history"]
        assert sorted(h["checked_at"] for h in history) == sorted(r["checked_at"][:19] + "Z" for r in batch["results"])
        assert {h["location"] for h in history} == {"eu-west"}
        again = api.post("/api/probe/results", headers=as_probe, json=batch)
        assert again.json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    finally:
        assert proc.stop() == 0, proc.log()[-3000:]
    assert duplicate_results(data_dir) == []
    assert duckdb_rows(data_dir, "SELECT count(*) FROM results WHERE location = 'eu-west'") == [(3,)]
