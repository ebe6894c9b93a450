"""An older data dir is upgraded in place (EntityStore._add_missing_columns and create_all): the
status page's columns and table (monitor.group, maintenance.notice, incident_update) are added, and
what was stored stays."""

from __future__ import annotations

import sqlite3

from appliance.storage.entities import EntityStore


def columns(path, table: str) -> set[str]:
    with sqlite3.connect(path) as con:
        return {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}


def test_it_adds_the_status_page_columns_and_table_to_an_older_store(tmp_path):
    path = tmp_path / "entities.db"
    store = EntityStore(path)
    user = store.create_user("old@example.test", "correct-horse-1")
    monitor = store.create_monitor(user.id, {"name": "Old", "type": "http", "target": "http://127.0.0.1:9/"})
    store.close()
    with sqlite3.connect(path) as con:  # as a data dir from before these existed
        con.execute('ALTER TABLE monitor DROP COLUMN "group"')
        con.execute("ALTER TABLE maintenance DROP COLUMN notice")
        con.execute("DROP TABLE incident_update")
    assert "group" not in columns(path, "monitor")

    store = EntityStore(path)
    try:
        assert "group" in columns(path, "monitor") and "notice" in columns(path, "maintenance")
        assert {"incident_id", "status", "message", "created_at"} <= columns(path, "incident_update")
        kept = store.get_monitor(monitor.id)
        assert kept.name == "Old" and kept.group is None
        assert store.update_monitor(monitor.id, user.id, {"group": "Website"}).group == "Website"
    finally:
        store.close()
