"""Webhooks: a user's receivers of monitor events (generic JSON, Slack, Discord), a test send,
and the delivery log. Owns the rules: the receiver URL, no event twice, the signing secret made
here and shown once (rotating makes a new one), and the plan's limit (storage checks it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from appliance.models import Delivery, DeliveryAttempt, User, Webhook
from appliance.notifiers import Event, render
from appliance.services.errors import Invalid, NotFound
from appliance.storage.outbox import SECRET_PREFIX, new_secret
from appliance.timeutil import utcnow
from appliance.validation import check_webhook_url


@dataclass(frozen=True)
class TestSend:
    delivery_id: int
    delivered: bool
    status_code: int | None
    error: str | None
    duration_ms: float | None


def masked_secret(secret: str) -> str:
    """What every answer but the one that made it shows of a signing secret: its last 4 characters."""
    return f"{SECRET_PREFIX}****{secret[-4:]}"


class Webhooks:
    def __init__(self, appliance):
        self._app = appliance

    def list(self, user: User) -> list[Webhook]:
        return self._app.outbox.webhooks(user.id)

    def owned(self, user: User, webhook_id: int) -> Webhook:
        hook = self._app.outbox.webhook(webhook_id, user.id)
        if hook is None:
            raise NotFound("webhook")
        return hook

    def create(self, user: User, url: str, format: str, events: list[str], enabled: bool) -> Webhook:
        return self._app.outbox.create_webhook(user.id, _url(url), format, _unique(events), enabled)

    def update(self, user: User, webhook_id: int, changes: dict, rotate_secret: bool = False) -> Webhook:
        changes = dict(changes)
        if "url" in changes:
            changes["url"] = _url(changes["url"])
        if "events" in changes:
            changes["events"] = _unique(changes["events"])
        if rotate_secret:
            changes["secret"] = new_secret()
        hook = self._app.outbox.update_webhook(webhook_id, user.id, changes)
        if hook is None:
            raise NotFound("webhook")
        return hook

    def delete(self, user: User, webhook_id: int) -> None:
        if not self._app.outbox.delete_webhook(webhook_id, user.id):
            raise NotFound("webhook")

    def send_test(self, user: User, webhook_id: int) -> TestSend:
        """Send a test message now and say what the receiver answered (also kept in the log)."""
        hook = self.owned(user, webhook_id)
        app = self._app
        now = utcnow()
        event = Event(name="webhook.test", monitor_id=0, monitor_name="StatusCore test", monitor_type="http",
                      target=None, status="up", at=now, locations=tuple(app.location_names().values()))
        delivery_uuid = str(uuid.uuid4())
        body = render(hook.format, event)
        outcome = app.dispatcher.deliver(hook, delivery_uuid, event.name, body)
        delivery = app.outbox.record_test(
            Delivery(webhook_id=hook.id, uuid=delivery_uuid, event=event.name, body=body,
                     state="delivered" if outcome.ok else "failed", attempts=1, next_attempt_at=now,
                     last_status_code=outcome.status_code, last_error=outcome.error, created_at=now,
                     finished_at=utcnow()),
            DeliveryAttempt(delivery_id=0, at=now, status_code=outcome.status_code, error=outcome.error,
                            duration_ms=outcome.duration_ms))
        return TestSend(delivery.id, outcome.ok, outcome.status_code, outcome.error, outcome.duration_ms)

    def deliveries(self, user: User, webhook_id: int) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
        self.owned(user, webhook_id)
        return self._app.outbox.deliveries(webhook_id)


def _url(value: str) -> str:
    try:
        return check_webhook_url(value)
    except ValueError as exc:
        raise Invalid(f"Invalid url: {exc}.", {"url": str(exc)}) from None


def _unique(events: list[str]) -> list[str]:
    return list(dict.fromkeys(events))
