"""The generic JSON payload: exactly the published seed's keys (event, monitor, timestamp, details)."""

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
    }
