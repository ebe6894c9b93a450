"""Cluster mode (`serve --cluster`): appliances on one PostgreSQL database share the monitors.

Each node, every heartbeat (a few seconds):
1. renews its node row and reads the live nodes and the change counter (storage/cluster.py);
2. if the counter moved, another node changed monitors, users or windows: caches are dropped and
   the monitors it checks are scheduled again from the new rows;
3. decides which monitors are its own by rendezvous hashing of monitor ids over the live nodes
   (a node joining or leaving moves only its share), gives up the leases it should no longer
   hold (unscheduling them first) and claims or renews the rest; a lease another node still
   holds stays theirs until they give it up or it runs out;
and, on the housekeeping thread (so a slow refresh never delays a heartbeat), the live state of
the monitors other nodes check is refreshed from the database.

A node may check and send only until its local deadline: the monotonic time it sent its last
successful renewal plus the lease. A node cut off from PostgreSQL stops there, before the others
take its monitors over (their leases run out by the database's clock, no earlier); every status
write is also fenced on the lease in its own transaction (EntityStore.fence), so a late one is
refused.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Callable, Iterable

from appliance.storage.cluster import ClusterStore
from appliance.storage import storage_error

log = logging.getLogger("statuscore.cluster")


def owner(monitor_id: int, nodes: Iterable[str]) -> str | None:
    """Rendezvous (highest random weight) hashing: the node that should check this monitor."""
    best, best_weight = None, b""
    for node in nodes:
        weight = hashlib.blake2b(f"{node}/{monitor_id}".encode(), digest_size=8).digest()
        if best is None or weight > best_weight:
            best, best_weight = node, weight
    return best


class Cluster:
    def __init__(self, store: ClusterStore, node_id: str, name: str, lease_seconds: float,
                 heartbeat_seconds: float, *, monitors: Callable[[], list[int]],
                 on_change: Callable[[], None], on_release: Callable[[set[int]], None],
                 on_take: Callable[[set[int]], None]):
        self.store = store
        self.node_id = node_id
        self.name = name
        self.lease = lease_seconds
        self.heartbeat = heartbeat_seconds
        self._monitors = monitors  # ids of the active monitors the cluster checks
        self._on_change, self._on_release, self._on_take = on_change, on_release, on_take
        self._shares: tuple[tuple, set[int]] | None = None  # (live nodes, monitors) -> this node's share
        self.held: frozenset[int] = frozenset()
        self.live_nodes: tuple[str, ...] = ()
        self.counter: int | None = None
        self._deadline = 0.0  # time.monotonic() until which this node may check and send
        self._lock = threading.RLock()  # one step at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing: str | None = None
        self.beats = 0

    # ---- what this node may do now -------------------------------------------------------------
    def connected(self) -> bool:
        return time.monotonic() < self._deadline

    def holds(self, monitor_id: int) -> bool:
        return monitor_id in self.held and time.monotonic() < self._deadline

    def leader(self) -> bool:
        """The one node that runs cluster-wide chores (history upkeep): the first live node."""
        return self.connected() and bool(self.live_nodes) and self.live_nodes[0] == self.node_id

    # ---- heartbeat -----------------------------------------------------------------------------
    def step(self) -> None:
        with self._lock:
            sent = time.monotonic()
            beat = self.store.beat(self.node_id, self.name)
            if beat.counter != self.counter:
                self.counter = beat.counter
                self._on_change()
            nodes = beat.live_nodes if self.node_id in beat.live_nodes else (*beat.live_nodes, self.node_id)
            self.live_nodes = tuple(sorted(nodes))
            wanted = self._share(tuple(self._monitors()))
            leaving = set(self.held) - wanted
            if leaving:  # stop checking before the lease is given up
                self.held = self.held - leaving
                self._on_release(leaving)
            held = self.store.settle_leases(self.node_id, sorted(wanted))
            self._deadline = sent + self.lease
            lost, gained = set(self.held) - held, held - set(self.held)
            self.held = frozenset(held)
            if lost:
                self._on_release(lost)
            if gained:
                self._on_take(gained)
            self.beats += 1

    def _share(self, monitors: tuple[int, ...]) -> set[int]:
        """The monitors this node should check (hashed again only when the nodes or monitors change)."""
        key = (self.live_nodes, monitors)
        if self._shares is None or self._shares[0] != key:
            self._shares = (key, {m for m in monitors if owner(m, self.live_nodes) == self.node_id})
        return set(self._shares[1])

    def start(self) -> None:
        try:
            self.step()
        except Exception as exc:
            self._failed(exc)
        self._thread = threading.Thread(target=self._loop, name="cluster", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.heartbeat + 5)
        with self._lock:
            released, self.held, self._deadline = set(self.held), frozenset(), 0.0
            if released:
                self._on_release(released)
        try:
            self.store.leave(self.node_id)
        except Exception as exc:
            log.warning("could not give up this node's leases on stopping (%s); the other nodes take its "
                        "monitors over when they run out", storage_error(exc))
        self.store.engine.dispose()

    def _loop(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                self.step()
                if self._failing is not None:
                    log.info("cluster heartbeat works again; this node checks %d monitors", len(self.held))
                self._failing = None
            except Exception as exc:
                self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if self._failing is None:
            log.error("cluster heartbeat failed (%s); this node stops checking and sending when its lease "
                      "runs out (%.0f s after the last renewal): check the connection to PostgreSQL",
                      storage_error(exc), self.lease)
        self._failing = storage_error(exc)
        with self._lock:
            if self.held and not self.connected():
                released, self.held = set(self.held), frozenset()
                log.warning("lease over without a renewal: stopped checking %d monitors", len(released))
                self._on_release(released)
