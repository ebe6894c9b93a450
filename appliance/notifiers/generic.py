"""The generic JSON payload: the published seed's keys (event, monitor, timestamp, details), and
beside them what a receiver needs to act without asking back: the cause, the incident, how long
the monitor was down (recoveries) and a link to it (null when unknown)."""

from __future__ import annotations

from appliance.notifiers.base import Event


def build_payload(event: Event) -> dict:
    details: dict = {"locations": event.locations_text}
    if event.name in ("ssl.expiring", "domain.expiring", "anomaly.detected"):
        details.update(event.extra)
    if event.extra.get("reminder"):  # the same outage, announced again (reminder_minutes)
        details["reminder"] = True
    return {
        "event": event.name,
        "monitor": {"id": event.monitor_id, "name": event.monitor_name, "type": event.monitor_type,
                    "target": event.target, "status": event.status},
        "timestamp": event.timestamp,
        "details": details,
        "cause": (event.cause or None) if event.name in ("monitor.down", "monitor.up") else None,
        "incident_id": event.incident_id,
        "duration_seconds": event.duration_seconds,
        "link": event.link,
    }
