"""A probe's on-disk spool: results wait here, in order, until the server has acknowledged them.
SQLite in WAL mode, so a kill -9 loses nothing that was added."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path


class Spool:
    def __init__(self, path: Path | str, max_items: int = 1_000_000):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_items = max_items
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)")

    def add(self, item: dict) -> None:
        with self._lock:
            self._db.execute("INSERT INTO spool (body) VALUES (?)", (json.dumps(item, separators=(",", ":")),))
            # Bounded: a server gone for weeks must not fill the disk; the oldest results go first.
            if self.max_items and self._db.execute("SELECT count(*) FROM spool").fetchone()[0] > self.max_items:
                self._db.execute("DELETE FROM spool WHERE seq IN (SELECT seq FROM spool ORDER BY seq LIMIT 1000)")

    def peek(self, limit: int) -> list[tuple[int, dict]]:
        with self._lock:
            rows = self._db.execute("SELECT seq, body FROM spool ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(seq, json.loads(body)) for seq, body in rows]

    def remove_through(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM spool WHERE seq <= ?", (seq,))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM spool").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
