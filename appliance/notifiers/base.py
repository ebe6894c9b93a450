"""What a notifier is given (Event) and what every format shares.

A notifier module has one pure function, build_payload(event) -> dict; sending goes through
transport.post(). Adding a format means one module and one line in notifiers/__init__.py.
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


def is_bad_news(event: Event) -> bool:
    return event.name not in ("monitor.up", "webhook.test")


def signature(secret: str, body: bytes) -> str:
    """X-StatusCore-Signature: sha256=<hex HMAC-SHA256 of the exact body with the webhook's secret>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
