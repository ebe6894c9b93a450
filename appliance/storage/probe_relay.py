"""Cluster mode: probe results on their way from whichever node took them to the monitor's owner.

- probe_watermark: per (monitor, location) the newest check time accepted anywhere in the
  cluster. A probe sends its spool in order, so a result at or before it was taken already (a
  batch sent again to another node after a lost answer). Rows are locked (FOR UPDATE, in key
  order) for the length of the batch's transaction, so two nodes never both accept one result.
- probe_relay: the accepted results, queued in the same transaction; the owner takes them
  (DELETE … RETURNING, oldest first) and decides on them as if they had reached it directly.

A batch is acknowledged only after its transaction commits, and its history rows are written
before that (the caller's `store` runs inside it): a result is never acknowledged unstored, and
never queued twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Engine

from appliance.timeutil import as_utc

NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)  # no result accepted yet

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS probe_watermark (monitor_id integer NOT NULL, location text NOT NULL, "
    "checked_at timestamptz NOT NULL, PRIMARY KEY (monitor_id, location))",
    "CREATE TABLE IF NOT EXISTS probe_relay (id bigserial PRIMARY KEY, monitor_id integer NOT NULL, "
    "location text NOT NULL, checked_at timestamptz NOT NULL, up boolean NOT NULL, "
    "response_time double precision, error text, details jsonb NOT NULL DEFAULT '{}')",
    "CREATE INDEX IF NOT EXISTS probe_relay_monitor ON probe_relay (monitor_id)",
]


@dataclass(frozen=True)
class RelayedResult:
    monitor_id: int
    location: str
    checked_at: datetime
    up: bool
    response_time: float | None
    error: str | None
    details: dict  # JSON as the probe sent it (dates as ISO text)


class ProbeRelayStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        with engine.begin() as c:
            c.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('statuscore.probe_relay.schema'))")
            for ddl in _SCHEMA:
                c.exec_driver_sql(ddl)

    def admit(self, results: Sequence[RelayedResult], known: dict[int, datetime],
              store: Callable[[list[RelayedResult]], None]) -> list[RelayedResult]:
        """The results (one location's) newer than their watermark, queued for their owners.
        `known`: this node's own watermarks, which seed a pair the cluster has none for yet (the
        history before cluster mode). `store` writes the accepted ones to the history before the
        transaction commits; if it raises, nothing is accepted."""
        if not results:
            return []
        location = results[0].location
        ids = sorted({r.monitor_id for r in results})
        with self.engine.begin() as c:
            c.execute(text(
                "INSERT INTO probe_watermark (monitor_id, location, checked_at) "
                "SELECT m, :loc, w FROM unnest(CAST(:ids AS integer[]), CAST(:marks AS timestamptz[])) AS t(m, w) "
                "ORDER BY m ON CONFLICT DO NOTHING"),
                {"loc": location, "ids": ids, "marks": [known.get(m, NEVER) for m in ids]})
            marks = {m: as_utc(w) for m, w in c.execute(text(
                "SELECT monitor_id, checked_at FROM probe_watermark WHERE location = :loc "
                "AND monitor_id = ANY(:ids) ORDER BY monitor_id FOR UPDATE"), {"loc": location, "ids": ids})}
            accepted = []
            for result in sorted(results, key=lambda r: r.checked_at):
                if result.checked_at > marks[result.monitor_id]:
                    marks[result.monitor_id] = result.checked_at
                    accepted.append(result)
            if not accepted:
                return []
            c.execute(text(
                "INSERT INTO probe_relay (monitor_id, location, checked_at, up, response_time, error, details) "
                "VALUES (:m, :loc, :at, :up, :rt, :err, CAST(:details AS jsonb))"),
                [{"m": r.monitor_id, "loc": r.location, "at": r.checked_at, "up": r.up, "rt": r.response_time,
                  "err": r.error, "details": json.dumps(r.details)} for r in accepted])
            moved = sorted({r.monitor_id for r in accepted})
            c.execute(text(
                "UPDATE probe_watermark SET checked_at = t.w FROM unnest(CAST(:ids AS integer[]), "
                "CAST(:marks AS timestamptz[])) AS t(m, w) WHERE monitor_id = t.m AND location = :loc"),
                {"loc": location, "ids": moved, "marks": [marks[m] for m in moved]})
            store(accepted)
        return accepted

    def take(self, monitor_ids: Sequence[int]) -> list[RelayedResult]:
        """The queued results of these monitors, oldest first, removed: each is taken once."""
        if not monitor_ids:
            return []
        with self.engine.begin() as c:
            rows = c.execute(text(
                "DELETE FROM probe_relay WHERE monitor_id = ANY(:ids) RETURNING id, monitor_id, location, "
                "checked_at, up, response_time, error, details"), {"ids": list(monitor_ids)}).fetchall()
        rows.sort(key=lambda r: (r[3], r[0]))
        return [RelayedResult(m, loc, as_utc(at), up, rt, err, details or {})
                for _id, m, loc, at, up, rt, err, details in rows]

    def waiting(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM probe_relay")).scalar_one())

    def prune(self, keep_seconds: float) -> None:
        """Drop what no owner took (monitors deleted or paused meanwhile) and watermarks older than
        any result still accepted (keep_seconds beyond probe_max_age: the age check refuses those)."""
        with self.engine.begin() as c:
            for table in ("probe_relay", "probe_watermark"):
                c.execute(text(f"DELETE FROM {table} WHERE checked_at < now() - make_interval(secs => :keep)"),
                          {"keep": keep_seconds})
