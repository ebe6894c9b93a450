"""The cluster's shared state on PostgreSQL: nodes, monitor leases, pings taken by a node that
does not own the monitor, and a change counter.

Every time is the database's now(): nodes' clocks are never compared with each other.
- cluster_node: one row per node, heartbeat_at renewed every few seconds; a node is live while
  its heartbeat is younger than the lease.
- monitor_lease: who checks a monitor, until expires_at. Claimed or renewed with
  INSERT ... ON CONFLICT DO UPDATE ... WHERE the lease is mine or has expired, so two nodes never
  hold one monitor at once.
- cluster_change: one counter, bumped by a statement trigger on the tables nodes cache (monitors,
  users, maintenance windows) in the writing transaction itself, so a node that sees the counter
  move reads the committed change. Not by writes of the engine's own monitor columns (status
  changes, models.ENGINE_COLUMNS): those would reload every node's monitors and queue every
  status write behind the counter's row lock; nodes read them again every few seconds instead
  (EntityStore.reread_engine_columns).
- cluster_ping: heartbeat calls that reached a node not owning the monitor; its owner replays them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

from appliance.models import ENGINE_COLUMNS, Monitor
from appliance.timeutil import as_utc

CACHED_TABLES = ("monitor", "user", "maintenance")

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS cluster_node (node_id text PRIMARY KEY, name text NOT NULL, "
    "started_at timestamptz NOT NULL DEFAULT now(), heartbeat_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS monitor_lease (monitor_id integer PRIMARY KEY, node_id text NOT NULL, "
    "expires_at timestamptz NOT NULL)",
    "CREATE INDEX IF NOT EXISTS monitor_lease_node ON monitor_lease (node_id)",
    "CREATE TABLE IF NOT EXISTS cluster_ping (id bigserial PRIMARY KEY, monitor_id integer NOT NULL, "
    "at timestamptz NOT NULL, failed boolean NOT NULL)",
    "CREATE INDEX IF NOT EXISTS cluster_ping_monitor ON cluster_ping (monitor_id)",
    "CREATE TABLE IF NOT EXISTS cluster_secret (id integer PRIMARY KEY, secret text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cluster_change (id integer PRIMARY KEY, counter bigint NOT NULL)",
    "INSERT INTO cluster_change VALUES (1, 0) ON CONFLICT DO NOTHING",
    "CREATE OR REPLACE FUNCTION statuscore_cluster_changed() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN UPDATE cluster_change SET counter = counter + 1 WHERE id = 1; RETURN NULL; END $$",
]


def _updates_of(table: str) -> str:
    """The UPDATE event of the change trigger: on monitors, of the columns a user edits only."""
    if table != Monitor.__tablename__:
        return "UPDATE"
    edited = [f'"{c.name}"' for c in Monitor.__table__.columns if c.name not in ENGINE_COLUMNS]
    return f"UPDATE OF {', '.join(edited)}"


@dataclass(frozen=True)
class NodeRow:
    node_id: str
    name: str
    started_at: datetime
    heartbeat_age: float  # seconds since its last heartbeat, by the database's clock
    leases: int
    live: bool


@dataclass(frozen=True)
class Beat:
    """What one heartbeat learns: the live nodes and the change counter."""

    live_nodes: tuple[str, ...]
    counter: int


class ClusterStore:
    def __init__(self, engine: Engine, lease_seconds: float):
        self.engine = engine
        self.lease = float(lease_seconds)
        with engine.begin() as c:
            c.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('statuscore.cluster.schema'))")
            for ddl in _SCHEMA:
                c.exec_driver_sql(ddl)
            for table in CACHED_TABLES:
                c.exec_driver_sql(f'CREATE OR REPLACE TRIGGER statuscore_cluster_changed AFTER INSERT OR '
                                  f'{_updates_of(table)} OR DELETE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION '
                                  f'statuscore_cluster_changed()')

    def shared_secret(self, mine: str) -> str:
        """The token-signing secret every node uses (a login at one node is valid at all): the
        first node's, kept in the database."""
        with self.engine.begin() as c:
            c.execute(text("INSERT INTO cluster_secret VALUES (1, :s) ON CONFLICT DO NOTHING"), {"s": mine})
            return c.execute(text("SELECT secret FROM cluster_secret WHERE id = 1")).scalar_one()

    def beat(self, node_id: str, name: str) -> Beat:
        with self.engine.begin() as c:
            c.execute(text("INSERT INTO cluster_node (node_id, name) VALUES (:n, :name) ON CONFLICT (node_id) "
                           "DO UPDATE SET heartbeat_at = now(), name = excluded.name"), {"n": node_id, "name": name})
            live = [r[0] for r in c.execute(text(
                "SELECT node_id FROM cluster_node WHERE heartbeat_at > now() - make_interval(secs => :lease) "
                "ORDER BY node_id"), {"lease": self.lease})]
            counter = c.execute(text("SELECT counter FROM cluster_change WHERE id = 1")).scalar_one()
        return Beat(tuple(live), int(counter))

    def counter(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(text("SELECT counter FROM cluster_change WHERE id = 1")).scalar_one())

    def settle_leases(self, node_id: str, wanted: list[int]) -> set[int]:
        """Give up every lease of this node outside `wanted`, then claim or renew `wanted`;
        returns the monitors this node holds now (a lease another live node holds stays theirs)."""
        with self.engine.begin() as c:
            # An anti-join, not NOT (monitor_id = ANY(:ids)): that scans the array once per lease
            # (~100 ms a heartbeat at 3,000 leases; this is a few ms).
            c.execute(text("DELETE FROM monitor_lease l WHERE l.node_id = :n AND NOT EXISTS "
                           "(SELECT 1 FROM unnest(CAST(:ids AS integer[])) AS m WHERE m = l.monitor_id)"),
                      {"n": node_id, "ids": wanted})
            # Pings of monitors deleted or paused before any owner replayed them.
            c.execute(text("DELETE FROM cluster_ping WHERE at < now() - interval '1 day'"))
            if not wanted:
                return set()
            rows = c.execute(text(
                "INSERT INTO monitor_lease (monitor_id, node_id, expires_at) "
                "SELECT m, :n, now() + make_interval(secs => :lease) FROM unnest(CAST(:ids AS integer[])) AS m "
                "ON CONFLICT (monitor_id) DO UPDATE SET node_id = excluded.node_id, expires_at = excluded.expires_at "
                "WHERE monitor_lease.node_id = excluded.node_id OR monitor_lease.expires_at < now() "
                "RETURNING monitor_id"), {"n": node_id, "ids": wanted, "lease": self.lease})
            return {r[0] for r in rows}

    def leave(self, node_id: str) -> None:
        """A clean stop: the leases and the node row go at once, so others take over without
        waiting for them to run out."""
        with self.engine.begin() as c:
            c.execute(text("DELETE FROM monitor_lease WHERE node_id = :n"), {"n": node_id})
            c.execute(text("DELETE FROM cluster_node WHERE node_id = :n"), {"n": node_id})

    def add_ping(self, monitor_id: int, at: datetime, failed: bool) -> None:
        with self.engine.begin() as c:
            c.execute(text("INSERT INTO cluster_ping (monitor_id, at, failed) VALUES (:m, :at, :f)"),
                      {"m": monitor_id, "at": at, "f": failed})

    def take_pings(self, monitor_ids: list[int]) -> list[tuple[int, datetime, bool]]:
        """The pings other nodes took for these monitors, oldest first (removed: replayed once)."""
        if not monitor_ids:
            return []
        with self.engine.begin() as c:
            rows = c.execute(text("DELETE FROM cluster_ping WHERE monitor_id = ANY(:ids) "
                                  "RETURNING monitor_id, at, failed, id"), {"ids": list(monitor_ids)}).fetchall()
        return [(m, as_utc(at), failed) for m, at, failed, _id in sorted(rows, key=lambda r: (r[1], r[3]))]

    def nodes(self) -> list[NodeRow]:
        with self.engine.connect() as c:
            rows = c.execute(text(
                "SELECT n.node_id, n.name, n.started_at, EXTRACT(EPOCH FROM now() - n.heartbeat_at), "
                "(SELECT count(*) FROM monitor_lease l WHERE l.node_id = n.node_id AND l.expires_at > now()) "
                "FROM cluster_node n ORDER BY n.node_id")).fetchall()
        return [NodeRow(n, name, as_utc(started), float(age), int(leases), float(age) < self.lease)
                for n, name, started, age, leases in rows]

    def fence(self, node_id: str):
        """A condition true only while `node_id` holds the monitor's lease (by the database's
        clock): added to every status write, in its own transaction."""
        def clause(monitor_id: int):
            return text("EXISTS (SELECT 1 FROM monitor_lease WHERE monitor_lease.monitor_id = :fence_monitor "
                        "AND monitor_lease.node_id = :fence_node AND monitor_lease.expires_at > now())"
                        ).bindparams(fence_monitor=monitor_id, fence_node=node_id)
        return clause
