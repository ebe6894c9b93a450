"""Cluster mode: the API's rate-limit counters and the login throttle's meters in PostgreSQL, so
behind a load balancer a client has one budget, not one per node.

- rate_window: fixed windows for flask-limiter (server/limits.py). One UPSERT per hit counts it
  and answers the count and the window's end, on the database's clock: a window that ended
  starts again in the same statement.
- login_meter: the login throttle's leaky buckets (server/login_throttle.py), read and written
  in one transaction under one advisory lock, so concurrent attempts at any nodes are counted
  one at a time (as the in-memory throttle does under its lock). Logins are rare; this is not on
  the path of ordinary requests.

Expired windows and drained meters are deleted now and then by whichever node is writing.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Engine

PRUNE_EVERY = 2000  # operations between two clean-ups of a node

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS rate_window (key text PRIMARY KEY, count bigint NOT NULL, "
    "expires_at timestamptz NOT NULL)",
    # Times in seconds since the epoch by the database's clock; drain: the meter's rate per second.
    "CREATE TABLE IF NOT EXISTS login_meter (key text PRIMARY KEY, level double precision NOT NULL, "
    "at double precision NOT NULL, last_attempt double precision, refused boolean NOT NULL, "
    "drain double precision NOT NULL)",
]

Meter = list  # [level, at, last_attempt, refused, drain]: what the throttle keeps per key


class SharedLimits:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._operations = 0
        self._count_lock = threading.Lock()
        with engine.begin() as c:
            c.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('statuscore.shared_limits.schema'))")
            for ddl in _SCHEMA:
                c.exec_driver_sql(ddl)

    # ---- fixed windows -------------------------------------------------------------------------
    def hit(self, key: str, expiry: float, amount: int = 1) -> tuple[int, float]:
        """Count `amount` in the key's window: (the count now, the window's end as a Unix time)."""
        self._tidy()
        with self.engine.begin() as c:
            count, ends = c.execute(text(
                "INSERT INTO rate_window AS w (key, count, expires_at) "
                "VALUES (:k, :a, now() + make_interval(secs => :e)) ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN w.expires_at <= now() THEN :a ELSE w.count + :a END, "
                "expires_at = CASE WHEN w.expires_at <= now() THEN excluded.expires_at ELSE w.expires_at END "
                "RETURNING count, extract(epoch FROM expires_at)"), {"k": key, "a": amount, "e": expiry}).one()
        return int(count), float(ends)

    def window(self, key: str) -> tuple[int, float]:
        """(the count, the window's end) of a key; (0, now) without a current window."""
        with self.engine.connect() as c:
            row = c.execute(text(
                "SELECT CASE WHEN expires_at > now() THEN count ELSE 0 END, "
                "extract(epoch FROM greatest(expires_at, now())) FROM rate_window WHERE key = :k"),
                {"k": key}).first()
            if row is None:
                return 0, float(c.execute(text("SELECT extract(epoch FROM now())")).scalar_one())
        return int(row[0]), float(row[1])

    def clear(self, key: str) -> None:
        with self.engine.begin() as c:
            c.execute(text("DELETE FROM rate_window WHERE key = :k"), {"k": key})

    def reset(self) -> int:
        with self.engine.begin() as c:
            return c.execute(text("DELETE FROM rate_window")).rowcount

    def ping(self) -> bool:
        with self.engine.connect() as c:
            return c.execute(text("SELECT 1")).scalar_one() == 1

    # ---- login meters --------------------------------------------------------------------------
    @contextmanager
    def meters(self, keys: list[str]) -> Iterator[tuple[float, dict[str, Meter]]]:
        """The meters of these keys, locked against every other node's login attempts until the
        block ends: yields (now by the database's clock, key -> meter); on leaving, changed or
        added meters are written and removed keys deleted (nothing if the block raises)."""
        self._tidy()
        with self.engine.begin() as c:
            c.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('statuscore.login_meter'))")
            now = float(c.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one())
            found = {k: [level, at, last, refused, drain] for k, level, at, last, refused, drain in c.execute(text(
                "SELECT key, level, at, last_attempt, refused, drain FROM login_meter WHERE key = ANY(:keys)"),
                {"keys": keys})}
            meters = {k: list(v) for k, v in found.items()}
            yield now, meters
            gone = [k for k in found if k not in meters]
            if gone:
                c.execute(text("DELETE FROM login_meter WHERE key = ANY(:keys)"), {"keys": gone})
            changed = [(k, m) for k, m in meters.items() if found.get(k) != m]
            if changed:
                c.execute(text(
                    "INSERT INTO login_meter (key, level, at, last_attempt, refused, drain) "
                    "VALUES (:k, :level, :at, :last, :refused, :drain) ON CONFLICT (key) DO UPDATE SET "
                    "level = excluded.level, at = excluded.at, last_attempt = excluded.last_attempt, "
                    "refused = excluded.refused, drain = excluded.drain"),
                    [{"k": k, "level": m[0], "at": m[1], "last": m[2], "refused": m[3], "drain": m[4]}
                     for k, m in changed])

    def _tidy(self, wait_after_last_attempt: float = 30.0) -> None:
        with self._count_lock:
            self._operations += 1
            if self._operations % PRUNE_EVERY:
                return
        with self.engine.begin() as c:
            c.execute(text("DELETE FROM rate_window WHERE expires_at < now()"))
            c.execute(text(
                "DELETE FROM login_meter WHERE level - (extract(epoch FROM now()) - at) * drain <= 0 "
                "AND (last_attempt IS NULL OR extract(epoch FROM now()) - last_attempt >= :wait)"),
                {"wait": wait_after_last_attempt})
