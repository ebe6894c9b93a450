"""The server side of remote probes: what a probe must check, and taking its results in.

Results are validated (the monitor is assigned to the probe's location; not older than
`probe_max_age`, not more than a minute in the future) and deduplicated on the probe's result
ids and on a per-(monitor, location) watermark of the newest accepted check time, which is
rebuilt from the history after a restart. A probe sends its spool in order, so anything at or
before the watermark has been taken already. A batch is acknowledged only once its results are
written to the history file.
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
from appliance.timeutil import as_utc, parse_iso, utcnow

FUTURE_TOLERANCE = timedelta(seconds=60)
REMEMBERED_IDS = 200_000


@dataclass(frozen=True)
class IntakeReport:
    accepted: int
    duplicates: int
    rejected: list[dict]


class ProbeIntake:
    def __init__(self, appliance, max_age_seconds: float):
        self.appliance = appliance
        self.max_age = timedelta(seconds=max_age_seconds)
        self._lock = threading.Lock()
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
        accepted = duplicates = 0
        rejected: list[dict] = []
        for item in sorted(results, key=lambda r: _when(r["checked_at"])):
            result_id = item["id"]
            at = _when(item["checked_at"])
            spec = specs.get(item["monitor_id"])
            key = (item["monitor_id"], probe.name)
            if spec is None:
                rejected.append({"id": result_id, "reason": "monitor not assigned to this location"})
                continue
            if at > now + FUTURE_TOLERANCE:
                rejected.append({"id": result_id, "reason": "checked_at is in the future; check the probe's clock"})
                continue
            if at < now - self.max_age:
                rejected.append({"id": result_id, "reason": "result too old to be accepted"})
                continue
            with self._lock:
                if result_id in self._seen_ids or (key in self._watermark and at <= self._watermark[key]):
                    duplicates += 1
                    continue
                self._watermark[key] = at
                self._seen_ids[result_id] = None
                while len(self._seen_ids) > REMEMBERED_IDS:
                    self._seen_ids.popitem(last=False)
            result = CheckResult(up=item["up"], response_time_ms=item.get("response_time"),
                                 error=item.get("error"), details=_details(item.get("details")))
            self.appliance.record_remote_result(spec, probe.name, result, at)
            accepted += 1
        if accepted:
            # The probe drops from its spool whatever this answer acknowledges: on disk first, so
            # a kill -9 right after the answer loses nothing (a full disk answers 503 instead).
            self.appliance.history.flush()
        return IntakeReport(accepted, duplicates, rejected)


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
