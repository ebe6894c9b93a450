"""Webhooks: per-user notification channels for monitor events (generic JSON, Slack, Discord,
email, apprise), a test send, and the delivery log."""

from __future__ import annotations

from flask import Blueprint, jsonify

from appliance.services.webhooks import email_view, masked_secret, shown_url
from appliance.timeutil import iso
from server.auth import current_user, require_login, services
from server.schemas import WebhookCreateBody, WebhookUpdateBody, email_settings, parse_body

bp = Blueprint("webhooks", __name__, url_prefix="/api/settings/webhooks")
bp.before_request(require_login)


def webhook_json(hook, show_secret: bool = False) -> dict:
    """The signing secret in full only in the answer that made it (create, rotate): like an API
    key, it is shown once; every other answer has it masked to its last 4 characters, so a leaked
    read key or a shoulder-surfed screen cannot forge deliveries."""
    body = {"id": hook.id, "url": shown_url(hook), "format": hook.format, "events": list(hook.events),
            "secret": hook.secret if show_secret else masked_secret(hook.secret), "enabled": hook.enabled,
            "failing": hook.failing, "created_at": iso(hook.created_at)}
    if hook.format == "email":  # its SMTP settings, never the password (write-only)
        body["email"] = email_view(hook)
    return body


@bp.get("")
def list_webhooks():
    return jsonify([webhook_json(h) for h in services().webhooks.list(current_user)])


@bp.post("")
def create_webhook():
    body = parse_body(WebhookCreateBody)
    hook = services().webhooks.create(current_user, body.url, body.format, body.events, body.enabled,
                                      email_settings(body.email))
    return jsonify(webhook_json(hook, show_secret=True)), 201


@bp.put("/<int:webhook_id>")
def update_webhook(webhook_id: int):
    services().webhooks.owned(current_user, webhook_id)  # 404 before a 400 about the body
    body = parse_body(WebhookUpdateBody)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if k not in ("rotate_secret", "email")}
    if body.email is not None:
        changes["email"] = email_settings(body.email)
    hook = services().webhooks.update(current_user, webhook_id, changes, rotate_secret=bool(body.rotate_secret))
    return jsonify(webhook_json(hook, show_secret=body.rotate_secret))


@bp.delete("/<int:webhook_id>")
def delete_webhook(webhook_id: int):
    services().webhooks.delete(current_user, webhook_id)
    return "", 204


@bp.post("/<int:webhook_id>/test")
def test_webhook(webhook_id: int):
    """Send a test message now and say what the receiver answered (also kept in the log)."""
    sent = services().webhooks.send_test(current_user, webhook_id)
    return jsonify({"delivery_id": sent.delivery_id, "delivered": sent.delivered, "status_code": sent.status_code,
                    "error": sent.error, "duration_ms": sent.duration_ms})


@bp.get("/<int:webhook_id>/deliveries")
def deliveries(webhook_id: int):
    return jsonify([
        {"id": d.id, "uuid": d.uuid, "event": d.event,
         "monitor": {"id": d.monitor_id, "name": d.monitor_name} if d.monitor_id is not None else None,
         "state": d.state, "attempt_count": d.attempts,
         "created_at": iso(d.created_at), "finished_at": iso(d.finished_at),
         "next_attempt_at": iso(d.next_attempt_at) if d.state == "pending" else None,
         "last_status_code": d.last_status_code, "last_error": d.last_error,
         "attempts": [{"at": iso(a.at), "status_code": a.status_code, "error": a.error,
                       "duration_ms": a.duration_ms} for a in attempts]}
        for d, attempts in services().webhooks.deliveries(current_user, webhook_id)
    ])
