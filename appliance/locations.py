"""Locations: this appliance (`local` by default) and the registered remote probes, with their
online state. A probe is online while it has been heard from within `offline_after` seconds;
the appliance itself is always online. Offline locations are left out of verdicts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.models import Probe
from appliance.storage.probes import ProbeStore
from appliance.timeutil import as_utc, utcnow

TOUCH_PERSIST_SECONDS = 30  # write last_seen to the store at most this often per probe


@dataclass(frozen=True)
class Location:
    name: str
    display_name: str
    online: bool
    last_seen: datetime | None
    probe_id: int | None = None


class Locations:
    def __init__(self, store: ProbeStore, local_name: str, local_display: str, offline_after: float = 90.0,
                 persist_every: float = TOUCH_PERSIST_SECONDS):
        self.store = store
        # Cluster mode: other nodes learn a probe is online from the stored last_seen (reload), so
        # it is written often enough to stay well inside offline_after.
        self.persist_every = timedelta(seconds=persist_every)
        self.local_name = local_name
        self.local_display = local_display
        self.offline_after = timedelta(seconds=offline_after)
        self._lock = threading.Lock()
        self._probes: dict[str, Probe] = {}
        self._seen: dict[str, datetime] = {}
        self._persisted: dict[str, datetime] = {}
        self.reload()

    def reload(self) -> None:
        probes = {p.name: p for p in self.store.all()}
        with self._lock:
            self._probes = probes
            for name, probe in probes.items():  # the newer of ours and the stored one (another node's)
                if probe.last_seen_at and (name not in self._seen or as_utc(probe.last_seen_at) > self._seen[name]):
                    self._seen[name] = as_utc(probe.last_seen_at)
            for name in list(self._seen):
                if name not in probes:
                    del self._seen[name]

    @property
    def check_in_seconds(self) -> float:
        """How often a probe calls in to stay online: a third of the silence allowed, 1-30 s
        (a probe with nothing to deliver is otherwise heard from only when it asks for work)."""
        return max(1.0, min(30.0, self.offline_after.total_seconds() / 3))

    def names(self) -> dict[str, str]:
        """Location name -> display name, the appliance first."""
        with self._lock:
            return {self.local_name: self.local_display, **{n: p.display_name for n, p in self._probes.items()}}

    def known(self) -> set[str]:
        return set(self.names())

    def is_online(self, name: str, now: datetime | None = None) -> bool:
        if name == self.local_name:
            return True
        seen = self._seen.get(name)
        return seen is not None and (now or utcnow()) - seen <= self.offline_after

    def online_set(self, now: datetime | None = None) -> frozenset[str]:
        now = now or utcnow()
        with self._lock:
            names = [self.local_name, *self._probes]
        return frozenset(n for n in names if self.is_online(n, now))

    def heard_from(self, probe: Probe, at: datetime | None = None) -> None:
        at = at or utcnow()
        with self._lock:
            self._seen[probe.name] = at
            persist = at - self._persisted.get(probe.name, datetime.min.replace(tzinfo=at.tzinfo)) \
                >= self.persist_every
            if persist:
                self._persisted[probe.name] = at
        if persist:
            self.store.touch(probe.id, at)

    def all(self, now: datetime | None = None) -> list[Location]:
        now = now or utcnow()
        with self._lock:
            probes = list(self._probes.values())
        out = [Location(self.local_name, self.local_display, True, now)]
        for probe in probes:
            seen = self._seen.get(probe.name)
            out.append(Location(probe.name, probe.display_name, self.is_online(probe.name, now), seen, probe.id))
        return out
