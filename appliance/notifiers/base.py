"""What a notifier is given (Event) and what every format shares.

A notifier module has one pure function, build_payload(event) -> dict, fixed when the event is
fanned out (every retry sends the same message); sending goes through the kind's transport
(transport.post() for the JSON kinds, smtp.send(), apprise_transport.send()). Adding a format
means one module and one line in notifiers/__init__.py.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from appliance.timeutil import iso


@dataclass(frozen=True)
class Event:
    name: str  # monitor.down, monitor.up, ssl.expiring, domain.expiring, anomaly.detected, webhook.test
    monitor_id: int
    monitor_name: str
    monitor_type: str
    target: str | None
    status: str
    at: datetime
    locations: tuple[str, ...] = ()  # display names of the locations that see this status
    cause: str = ""
    extra: dict = field(default_factory=dict)  # days_left/expires_at, or the anomaly's facts
    status_page_url: str | None = None  # only when the monitor is on a public status page
    incident_id: int | None = None  # the outage this down, reminder or recovery is about
    duration_seconds: int | None = None  # recoveries: how long it was down; reminders: so far
    link: str | None = None  # the monitor at STATUSCORE_PUBLIC_URL; None when that is unset

    @property
    def timestamp(self) -> str:
        return iso(self.at, millis=True)

    @property
    def locations_text(self) -> str:
        return ", ".join(self.locations)


def headline(event: Event) -> str:
    """One line a person reads first, shared by the chat formats."""
    name = event.monitor_name
    if event.name == "monitor.down":
        return f"{name} is still DOWN" if event.extra.get("reminder") else f"{name} is DOWN"
    if event.name == "monitor.up":
        return f"{name} is back UP"
    if event.name == "ssl.expiring":
        return f"{name}: certificate expires in {event.extra.get('days_left')} days"
    if event.name == "domain.expiring":
        return f"{name}: domain registration expires in {event.extra.get('days_left')} days"
    if event.name == "anomaly.detected":
        return f"{name}: {event.extra.get('message') or 'unusual response times'}"
    if event.name == "webhook.test":
        return "StatusCore test message: this webhook works"
    return f"{name}: {event.name}"


def duration_text(seconds: int | None) -> str:
    """`3 s`, `4 min 12 s`, `2 h 5 min`, `3 d 4 h`: how people say an outage's length."""
    if seconds is None:
        return ""
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    return f"{sec} s"


def summary(event: Event) -> str:
    """The cause and the duration in one sentence (empty when the event has neither)."""
    parts = []
    if event.name == "monitor.up" and event.duration_seconds is not None:
        parts.append(f"Down for {duration_text(event.duration_seconds)}")
    elif event.name == "monitor.down" and event.extra.get("reminder") and event.duration_seconds is not None:
        parts.append(f"Down for {duration_text(event.duration_seconds)} so far")
    if event.cause and event.name in ("monitor.down", "monitor.up"):
        parts.append(f"cause: {event.cause}" if parts else f"Cause: {event.cause}")
    return "; ".join(parts) + ("." if parts else "")


def is_bad_news(event: Event) -> bool:
    return event.name not in ("monitor.up", "webhook.test")


def signature(secret: str, body: bytes) -> str:
    """X-StatusCore-Signature: sha256=<hex HMAC-SHA256 of the exact body with the webhook's secret>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
