"""Anomalies (SQLite): stored with an `anomaly.detected` outbox row in one transaction, listed,
acknowledged; and the detector's learned state, saved and restored across restarts."""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import delete
from sqlmodel import select

from appliance.insights import Anomaly
from appliance.models import AnomalyRecord, DetectorState, Monitor, StateChange
from appliance.timeutil import as_utc, iso, utcnow


class AnomalyStore:
    def __init__(self, entities):
        self.entities = entities

    def record(self, monitor_id: int, location: str, anomaly: Anomaly) -> AnomalyRecord | None:
        with self.entities.session() as s:
            monitor = s.get(Monitor, monitor_id)
            if monitor is None:
                return None
            row = AnomalyRecord(monitor_id=monitor_id, location=location, detected_at=as_utc(anomaly.at),
                                kind=anomaly.kind, value=float(anomaly.value), baseline=float(anomaly.baseline),
                                severity=anomaly.severity, message=anomaly.message)
            s.add(row)
            s.add(StateChange(monitor_id=monitor_id, created_at=as_utc(anomaly.at), old_status=monitor.status,
                              new_status=monitor.status, event="anomaly.detected",
                              details={"locations": [location], "kind": anomaly.kind, "message": anomaly.message,
                                       "value": round(float(anomaly.value), 1),
                                       "baseline": round(float(anomaly.baseline), 1),
                                       "severity": anomaly.severity, "detected_at": iso(anomaly.at)}))
            s.commit()
            s.refresh(row)
            return row

    def list(self, monitor_ids: Sequence[int], unacknowledged_only: bool = False,
             limit: int = 200) -> list[AnomalyRecord]:
        if not monitor_ids:
            return []
        with self.entities.session() as s:
            query = select(AnomalyRecord).where(AnomalyRecord.monitor_id.in_(list(monitor_ids)))
            if unacknowledged_only:
                query = query.where(AnomalyRecord.acknowledged.is_(False))
            return list(s.exec(query.order_by(AnomalyRecord.detected_at.desc(), AnomalyRecord.id.desc()).limit(limit)))

    def acknowledge(self, anomaly_id: int, monitor_ids: Sequence[int]) -> AnomalyRecord | None:
        with self.entities.session() as s:
            row = s.get(AnomalyRecord, anomaly_id)
            if row is None or row.monitor_id not in set(monitor_ids):
                return None
            if not row.acknowledged:
                row.acknowledged, row.acknowledged_at = True, utcnow()
                s.add(row)
                s.commit()
                s.refresh(row)
            return row

    # ---- detector state ----------------------------------------------------------------------
    def save_states(self, states: dict[tuple[int, str], dict]) -> None:
        with self.entities.session() as s:
            existing = set(s.exec(select(Monitor.id)).all()) if states else set()
            for (monitor_id, location), data in states.items():
                if monitor_id not in existing:
                    continue
                row = s.get(DetectorState, (monitor_id, location))
                if row is None:
                    s.add(DetectorState(monitor_id=monitor_id, location=location, data=data))
                else:
                    row.data = data
                    s.add(row)
            s.commit()

    def load_states(self) -> dict[tuple[int, str], dict]:
        with self.entities.session() as s:
            return {(row.monitor_id, row.location): row.data for row in s.exec(select(DetectorState))}

    def forget_states(self, monitor_id: int) -> None:
        with self.entities.session() as s:
            s.exec(delete(DetectorState).where(DetectorState.monitor_id == monitor_id))
            s.commit()
