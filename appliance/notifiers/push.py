"""Apprise messages: a title, a short plain-text body and a type (Apprise colours and icons it:
failure, success, warning, info), the same for every service the Apprise URL reaches."""

from __future__ import annotations

from appliance.notifiers.base import Event, headline, summary

TYPES = {"monitor.down": "failure", "monitor.up": "success", "ssl.expiring": "warning",
         "domain.expiring": "warning", "anomaly.detected": "warning"}


def build_payload(event: Event) -> dict:
    lines = [summary(event)] if summary(event) else []
    if event.target:
        lines.append(f"Target: {event.target}")
    if event.locations:
        lines.append(f"Locations: {event.locations_text}")
    if "days_left" in event.extra:
        lines.append(f"Expires: {event.extra.get('expires_at')} ({event.extra['days_left']} days)")
    lines.append(f"Time: {event.timestamp}")
    if event.link:
        lines.append(event.link)
    return {"title": headline(event), "body": "\n".join(lines), "type": TYPES.get(event.name, "info")}
