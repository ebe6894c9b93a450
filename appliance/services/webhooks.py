"""Webhooks: a user's notification channels for monitor events (generic JSON, Slack, Discord
webhooks; e-mail through an SMTP server; Apprise URLs), a test send, and the delivery log. Owns
the rules: each kind's settings (an http(s) receiver URL, an Apprise URL Apprise can read, an SMTP
server and addresses), no event twice, the signing secret made here and shown once (rotating
makes a new one), what is never shown again (the SMTP password, the Apprise URL's tokens), and
the plan's limit (storage checks it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from appliance import targets
from appliance.models import HTTP_FORMATS, Delivery, DeliveryAttempt, User, Webhook
from appliance.notifiers import Event, render
from appliance.notifiers.apprise_transport import masked as masked_apprise_url, url_problem
from appliance.notifiers.smtp import DEFAULT_PORTS
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


def shown_url(hook: Webhook) -> str:
    """The channel's URL as every answer shows it: an Apprise URL carries the service's tokens, so
    after it was set only its scheme is shown (apprise://…), like a masked secret."""
    return masked_apprise_url(hook.url) if hook.format == "apprise" else hook.url


def email_view(hook: Webhook) -> dict | None:
    """An e-mail channel's settings without the password (write-only: only whether one is set)."""
    if hook.format != "email":
        return None
    settings = hook.settings or {}
    security = settings.get("security") or "starttls"
    return {"host": settings.get("host"), "port": settings.get("port") or DEFAULT_PORTS[security], "security": security,
            "username": settings.get("username"), "password_set": bool(settings.get("password")),
            "from": settings.get("from"), "to": list(settings.get("to") or [])}


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

    def create(self, user: User, url: str | None, format: str, events: list[str], enabled: bool,
               email: dict | None = None) -> Webhook:
        url, settings = _channel(format, url, email, None)
        return self._app.outbox.create_webhook(user.id, url, format, _unique(events), enabled, settings)

    def update(self, user: User, webhook_id: int, changes: dict, rotate_secret: bool = False) -> Webhook:
        """Omitted settings stay: a channel moved to another kind must bring what that kind needs;
        an e-mail change merges into the settings (so the unseen password stays unless given)."""
        hook = self.owned(user, webhook_id)
        changes = dict(changes)
        email = changes.pop("email", None)
        if {"url", "format"} & set(changes) or email is not None:
            format = changes.get("format", hook.format)
            # The URL stays between the JSON kinds (same receiver, another shape), not across kinds.
            same_kind = format == hook.format or {format, hook.format} <= set(HTTP_FORMATS)
            kept_url = hook.url if same_kind and format != "email" else None
            current = hook.settings if format == "email" and hook.format == "email" else None
            changes["url"], changes["settings"] = _channel(format, changes.get("url", kept_url), email, current)
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


def _channel(format: str, url: str | None, email: dict | None, current: dict | None) -> tuple[str, dict | None]:
    """(url, settings) for a channel of this kind, or Invalid naming what is wrong or missing.
    `current`: the e-mail settings a change is merged into."""
    if format == "email":
        if url is not None:
            raise Invalid("Invalid url: an email channel takes no url; give its addresses in email.to.",
                          {"url": "not for format email"})
        if email is None and current is None:
            raise Invalid("An email channel needs email: {host, from, to} (and port, security, username, "
                          "password as your SMTP server wants).", {"email": "required for format email"})
        settings = _email_settings({**(current or {}), **(email or {})})
        return "mailto:" + ",".join(settings["to"]), settings
    if email is not None:
        raise Invalid(f"Invalid email: only an email channel takes email settings, not format {format}.",
                      {"email": "only for format email"})
    if url is None:
        raise Invalid(f"A {format} channel needs a url.", {"url": f"required for format {format}"})
    if format == "apprise":
        problem = url_problem(url.strip())
        if problem:
            raise Invalid(f"Invalid url: the Apprise URL {problem}.", {"url": f"the Apprise URL {problem}"})
        return url.strip(), None
    if format not in HTTP_FORMATS:  # the API's schema lists the kinds; this guards other callers
        raise Invalid(f"Invalid format: {format!r} is not a channel kind.", {"format": "unknown kind"})
    return _url(url), None


def _email_settings(settings: dict) -> dict:
    for key in ("host", "from", "to"):
        if not settings.get(key):
            raise Invalid(f"Invalid email: {key} is required.", {f"email.{key}": "required"})
    try:
        host = targets.host(settings["host"].strip())
    except ValueError as exc:
        raise Invalid(f"Invalid email.host: {exc}.", {"email.host": str(exc)}) from None
    security = settings.get("security") or "starttls"
    to = list(dict.fromkeys(a.strip() for a in settings["to"]))
    # The port only when given: a change of security then moves to that security's usual port.
    return {"host": host, "port": settings.get("port") or None, "security": security,
            "username": settings.get("username") or None, "password": settings.get("password") or None,
            "from": settings["from"].strip(), "to": to}


def _url(value: str) -> str:
    try:
        return check_webhook_url(value)
    except ValueError as exc:
        raise Invalid(f"Invalid url: {exc}.", {"url": str(exc)}) from None


def _unique(events: list[str]) -> list[str]:
    return list(dict.fromkeys(events))
