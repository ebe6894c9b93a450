"""Webhooks: per-user receivers for monitor events (generic JSON, Slack, Discord), a test send,
and the delivery log."""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify

from appliance.models import Delivery, DeliveryAttempt
from appliance.notifiers import Event, render
from appliance.storage.outbox import SECRET_PREFIX, new_secret
from appliance.timeutil import iso, utcnow
from appliance.validation import check_webhook_url
from server.auth import appliance, current_user, require_login
from server.errors import ApiError, not_found
from server.schemas import WebhookCreateBody, WebhookUpdateBody, parse_body

bp = Blueprint("webhooks", __name__, url_prefix="/api/settings/webhooks")
bp.before_request(require_login)


def webhook_json(hook, show_secret: bool = False) -> dict:
    """The signing secret in full only in the answer that made it (create, rotate): like an API
    key, it is shown once; every other answer has it masked to its last 4 characters, so a leaked
    read key or a shoulder-surfed screen cannot forge deliveries."""
    return {"id": hook.id, "url": hook.url, "format": hook.format, "events": list(hook.events),
            "secret": hook.secret if show_secret else masked_secret(hook.secret), "enabled": hook.enabled,
            "failing": hook.failing, "created_at": iso(hook.created_at)}


def masked_secret(secret: str) -> str:
    return f"{SECRET_PREFIX}****{secret[-4:]}"


def _url(value: str) -> str:
    try:
        return check_webhook_url(value)
    except ValueError as exc:
        raise ApiError(400, f"Invalid url: {exc}.", {"url": str(exc)}) from None


def _owned(webhook_id: int):
    hook = appliance().outbox.webhook(webhook_id, current_user.id)
    if hook is None:
        raise not_found("webhook")
    return hook


@bp.get("")
def list_webhooks():
    return jsonify([webhook_json(h) for h in appliance().outbox.webhooks(current_user.id)])


@bp.post("")
def create_webhook():
    body = parse_body(WebhookCreateBody)
    hook = appliance().outbox.create_webhook(current_user.id, _url(body.url), body.format,
                                             _unique(body.events), body.enabled)
    return jsonify(webhook_json(hook, show_secret=True)), 201


@bp.put("/<int:webhook_id>")
def update_webhook(webhook_id: int):
    _owned(webhook_id)
    body = parse_body(WebhookUpdateBody)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if k != "rotate_secret"}
    if "url" in changes:
        changes["url"] = _url(changes["url"])
    if "events" in changes:
        changes["events"] = _unique(changes["events"])
    if body.rotate_secret:
        changes["secret"] = new_secret()
    hook = appliance().outbox.update_webhook(webhook_id, current_user.id, changes)
    if hook is None:
        raise not_found("webhook")
    return jsonify(webhook_json(hook, show_secret=body.rotate_secret))


@bp.delete("/<int:webhook_id>")
def delete_webhook(webhook_id: int):
    if not appliance().outbox.delete_webhook(webhook_id, current_user.id):
        raise not_found("webhook")
    return "", 204


@bp.post("/<int:webhook_id>/test")
def test_webhook(webhook_id: int):
    """Send a test message now and say what the receiver answered (also kept in the log)."""
    hook = _owned(webhook_id)
    app = appliance()
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
    return jsonify({"delivery_id": delivery.id, "delivered": outcome.ok, "status_code": outcome.status_code,
                    "error": outcome.error, "duration_ms": outcome.duration_ms})


@bp.get("/<int:webhook_id>/deliveries")
def deliveries(webhook_id: int):
    _owned(webhook_id)
    return jsonify([
        {"id": d.id, "uuid": d.uuid, "event": d.event, "state": d.state, "attempt_count": d.attempts,
         "created_at": iso(d.created_at), "finished_at": iso(d.finished_at),
         "next_attempt_at": iso(d.next_attempt_at) if d.state == "pending" else None,
         "last_status_code": d.last_status_code, "last_error": d.last_error,
         "attempts": [{"at": iso(a.at), "status_code": a.status_code, "error": a.error,
                       "duration_ms": a.duration_ms} for a in attempts]}
        for d, attempts in appliance().outbox.deliveries(webhook_id)
    ])


def _unique(events: list[str]) -> list[str]:
    return list(dict.fromkeys(events))
