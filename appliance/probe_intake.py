"""The server side of remote probes: what a probe must check, and taking its results in.

Results are validated (the monitor is assigned to the probe's location; not older than
`probe_max_age`, not more than a minute in the future) and deduplicated on the probe's result
ids and on a per-(monitor, location) watermark of the newest accepted check time, which is
rebuilt from the history after a restart. A probe sends its spool in order, so anything at or
before the watermark has been taken already. A batch is acknowledged only once its results are
written to the history file.

Cluster mode (a `relay`): the load balancer may send a probe's batches to any node, so the
watermark that counts is the cluster's (storage/probe_relay.py; this node's own is a first filter
and the seed), and accepted results are queued for the monitor's owner, which decides on them
(Appliance.replay_probe_results) — here at once when this node is the owner.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.checkers.base import CheckResult
from appliance.models import Probe
from appliance.spec import MonitorSpec
from appliance.monitor_types import TYPES
from appliance.storage.history import ResultRow
from appliance.storage.probe_relay import ProbeRelayStore, RelayedResult
from appliance.timeutil import as_utc, parse_iso, utcnow

FUTURE_TOLERANCE = timedelta(seconds=60)
REMEMBERED_IDS = 200_000


@dataclass(frozen=True)
class IntakeReport:
    accepted: int
    duplicates: int
    rejected: list[dict]


class ProbeIntake:
    def __init__(self, appliance, max_age_seconds: float, relay: ProbeRelayStore | None = None):
        self.appliance = appliance
        self.max_age = timedelta(seconds=max_age_seconds)
        self.relay = relay
        self._lock = threading.RLock()
        self._watermark: dict[tuple[int, str], datetime] = {}
        self._seen_ids: OrderedDict[str, None] = OrderedDict()

    def load_watermarks(self, latest: dict[tuple[int, str], tuple]) -> None:
        with self._lock:
            for key, row in latest.items():
                self._watermark[key] = row[0]

    def assignments(self, probe: Probe) -> list[MonitorSpec]:
        """Active monitors this probe's location checks (all types but heartbeat, which is pushed)."""
        return [MonitorSpec.from_model(m) for m in self.appliance.entities.list_monitors()
                if m.is_active and TYPES[m.type].polled and MonitorSpec.from_model(m).runs_at(probe.name)]

    def take(self, probe: Probe, results: list[dict], now: datetime | None = None) -> IntakeReport:
        now = now or utcnow()
        specs = {spec.id: spec for spec in self.assignments(probe)}
        duplicates = 0
        rejected: list[dict] = []
        fresh: list[tuple[dict, MonitorSpec, datetime]] = []
        for item in sorted(results, key=lambda r: _when(r["checked_at"])):
            result_id = item["id"]
            at = _when(item["checked_at"])
            spec = specs.get(item["monitor_id"])
            if spec is None:
                rejected.append({"id": result_id, "reason": "monitor not assigned to this location"})
            elif at > now + FUTURE_TOLERANCE:
                rejected.append({"id": result_id, "reason": "checked_at is in the future; check the probe's clock"})
            elif at < now - self.max_age:
                rejected.append({"id": result_id, "reason": "result too old to be accepted"})
            elif self._seen(result_id, (spec.id, probe.name), at):
                duplicates += 1
            else:
                fresh.append((item, spec, at))
        taken = self._take_here(probe.name, fresh) if self.relay is None else self._take_shared(probe.name, fresh)
        return IntakeReport(taken, duplicates + len(fresh) - taken, rejected)

    def _seen(self, result_id: str, key: tuple[int, str], at: datetime) -> bool:
        with self._lock:
            return result_id in self._seen_ids or (key in self._watermark and at <= self._watermark[key])

    def _remember(self, result_id: str, key: tuple[int, str], at: datetime) -> None:
        with self._lock:
            if key not in self._watermark or at > self._watermark[key]:
                self._watermark[key] = at
            self._seen_ids[result_id] = None
            while len(self._seen_ids) > REMEMBERED_IDS:
                self._seen_ids.popitem(last=False)

    def _take_here(self, location: str, fresh: list) -> int:
        accepted = 0
        for item, spec, at in fresh:
            with self._lock:  # checked again and claimed: another request may have taken it meanwhile
                if self._seen(item["id"], (spec.id, location), at):
                    continue
                self._remember(item["id"], (spec.id, location), at)
            self.appliance.record_remote_result(spec, location, _result(item), at)
            accepted += 1
        if accepted:
            # The probe drops from its spool whatever this answer acknowledges: on disk first, so
            # a kill -9 right after the answer loses nothing (a full disk answers 503 instead).
            self.appliance.history.flush()
        return accepted

    def _take_shared(self, location: str, fresh: list) -> int:
        """Cluster mode: accepted once cluster-wide, stored in the history before the commit,
        queued for the owner; this node's watermarks move only after the commit."""
        if not fresh:
            return 0
        with self._lock:
            known = {spec.id: self._watermark[(spec.id, location)] for _item, spec, _at in fresh
                     if (spec.id, location) in self._watermark}
        relayed = [RelayedResult(spec.id, location, at, bool(item["up"]), item.get("response_time"),
                                 item.get("error"), item.get("details") if isinstance(item.get("details"), dict) else {})
                   for item, spec, at in fresh]
        accepted = self.relay.admit(relayed, known, self._store)
        for item, spec, at in fresh:  # taken here or elsewhere before: either way not again
            self._remember(item["id"], (spec.id, location), at)
        self.appliance.replay_probe_results({r.monitor_id for r in accepted})
        return len(accepted)

    def _store(self, accepted: list[RelayedResult]) -> None:
        history = self.appliance.history
        history.append_many(ResultRow(r.monitor_id, r.checked_at, r.location, r.up, r.response_time, r.error)
                            for r in accepted)
        history.flush()  # before the commit: a result is never acknowledged unstored


def relayed_result(relayed: RelayedResult) -> CheckResult:
    """The check result a relayed probe result stands for (the owner's side)."""
    return _result({"up": relayed.up, "response_time": relayed.response_time, "error": relayed.error,
                    "details": relayed.details})


def _result(item: dict) -> CheckResult:
    return CheckResult(up=item["up"], response_time_ms=item.get("response_time"),
                       error=item.get("error"), details=_details(item.get("details")))


def _when(value) -> datetime:
    return as_utc(value) if isinstance(value, datetime) else parse_iso(value)


def _details(raw) -> dict:
    """Certificate/registration facts a probe reports, with their dates parsed back."""
    if not isinstance(raw, dict):
        return {}
    out = {}
    for kind in ("ssl", "domain"):
        info = raw.get(kind)
        if isinstance(info, dict):
            info = dict(info)
            if isinstance(info.get("expires_at"), str):
                try:
                    info["expires_at"] = parse_iso(info["expires_at"])
                except ValueError:
                    info["expires_at"] = None
            out[kind] = info
    return out
