"""`statuscore serve` with STATUSCORE_DATABASE_URL pointing at the throwaway test PostgreSQL: a real
subprocess keeps everything there (entities, outbox, incidents, history and its rollups), nothing
in the data dir but the secret and marker files, and finds it all again after a restart."""

from __future__ import annotations

import psycopg

from tests.support.appliance import ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer


def test_an_appliance_on_postgresql_checks_alerts_and_keeps_it_all_there(tmp_path, postgres_url):
    data = tmp_path / "data"
    env = {"STATUSCORE_DATABASE_URL": postgres_url, "STATUSCORE_FLUSH_INTERVAL": "0.1"}
    proc = ApplianceProcess(data, env=env).start()
    try:
        api, admin = proc.api, proc.admin()
        alice = api.create_user(admin, "alice@example.test", full_name="Alice", subscription_tier="pro")
        with HttpPeer() as peer:
            monitor = api.create_monitor(alice, name="Website", type="http", target=peer.url + "/", interval=10,
                                         retries=0)
            mid = monitor["id"]
            wait_for(lambda: api.get(f"/api/monitors/{mid}", alice).json()["status"] == "up", timeout=30,
                     message="monitor up")
            peer.set_status(500)
            wait_for(lambda: api.get(f"/api/monitors/{mid}", alice).json()["status"] == "down", timeout=30,
                     message="monitor down")
        history = api.get(f"/api/monitors/{mid}/history?hours=1", alice)
        assert history.status_code == 200, history.text
        body = history.json()
        assert any(r["status"] == "up" for r in body["history"]) and any(r["status"] == "down" for r in body["history"])
        stats = api.get(f"/api/monitors/{mid}/stats?days=1", alice).json()
        assert stats["checks"] >= 2 and stats["failures"] >= 1 and stats["incidents"] == 1
        assert isinstance(stats["daily"][0]["checks"], int)
        backup = api.get("/api/admin/backup", admin)
        assert backup.status_code == 409 and "pg_dump" in backup.json()["error"]
    finally:
        proc.stop()
    # No SQLite, no DuckDB file in the data dir (only the secret and the small marker files).
    assert not [p.name for p in data.iterdir() if p.suffix in (".sqlite", ".duckdb", ".wal", ".tmp")
                or p.name.endswith(("-wal", "-shm"))]
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM incident WHERE monitor_id = %s", [mid]).fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM state_change WHERE monitor_id = %s", [mid]).fetchone()[0] >= 1
        checks = conn.execute("SELECT count(*) FROM results WHERE monitor_id = %s", [mid]).fetchone()[0]
        partitions = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'results'::regclass").fetchone()[0]
    assert checks == stats["checks"] and partitions >= 2  # today's and tomorrow's, made ahead

    again = ApplianceProcess(data, env=env).start()
    try:
        api = again.api
        alice = api.login("alice@example.test", "correct-horse-1")
        shown = api.get(f"/api/monitors/{mid}", alice).json()
        assert shown["status"] == "down" and shown["name"] == "Website"
        assert len(api.get(f"/api/monitors/{mid}/history?hours=1", alice).json()["history"]) >= checks
    finally:
        again.stop()
