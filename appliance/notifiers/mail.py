"""E-mail messages: a subject like "[DOWN] name — cause", a plain-text body and the same as HTML.

The message is fixed when the event is fanned out (every retry sends the same text); the SMTP
envelope (server, addresses) is the channel's and is added when sending (notifiers/smtp.py).
"""

from __future__ import annotations

from html import escape

from appliance.notifiers.base import Event, duration_text, headline, summary

TAGS = {"monitor.down": "DOWN", "monitor.up": "UP", "ssl.expiring": "EXPIRING", "domain.expiring": "EXPIRING",
        "anomaly.detected": "ANOMALY", "webhook.test": "TEST"}
SUBJECT_LIMIT = 200  # a line a mail client shows whole


def build_payload(event: Event) -> dict:
    facts = _facts(event)
    lines = [headline(event), ""]
    if summary(event):
        lines += [summary(event), ""]
    lines += [f"{name}: {value}" for name, value in facts]
    if event.link:
        lines += ["", f"Open: {event.link}"]
    lines += ["", "-- ", "StatusCore"]
    return {"subject": subject(event), "text": "\n".join(lines) + "\n", "html": _html(event, facts)}


def subject(event: Event) -> str:
    tag = TAGS.get(event.name, "NOTICE")
    if event.name == "monitor.down":
        text = f"[{tag}] {event.monitor_name}" + (f" — {event.cause}" if event.cause else "")
        if event.extra.get("reminder"):
            text = f"[{tag}] {event.monitor_name} still down" + (f" — {event.cause}" if event.cause else "")
    elif event.name == "monitor.up":
        text = f"[{tag}] {event.monitor_name}"
        if event.duration_seconds is not None:
            text += f" — back after {duration_text(event.duration_seconds)}"
    else:
        text = f"[{tag}] {headline(event)}"
    return " ".join(text.split())[:SUBJECT_LIMIT]  # one line, whatever a cause carried


def _facts(event: Event) -> list[tuple[str, str]]:
    facts = [("Monitor", event.monitor_name), ("Status", event.status.upper())]
    if event.target:
        facts.append(("Target", event.target))
    if event.cause and event.name in ("monitor.down", "monitor.up"):
        facts.append(("Cause", event.cause))
    if event.duration_seconds is not None and event.name in ("monitor.down", "monitor.up"):
        facts.append(("Down for", duration_text(event.duration_seconds)))
    if event.incident_id is not None:
        facts.append(("Incident", f"#{event.incident_id}"))
    if event.locations:
        facts.append(("Locations", event.locations_text))
    if "days_left" in event.extra:
        facts.append(("Expires", f"{event.extra.get('expires_at')} ({event.extra['days_left']} days)"))
    facts.append(("Time", event.timestamp))
    return facts


def _html(event: Event, facts: list[tuple[str, str]]) -> str:
    colour = {"monitor.down": "#d83b3b", "monitor.up": "#2eb67d"}.get(event.name, "#ecb22e")
    rows = "".join(f"<tr><th align=\"left\" style=\"padding:2px 12px 2px 0\">{escape(k)}</th>"
                   f"<td>{escape(v)}</td></tr>" for k, v in facts)
    parts = [f"<h2 style=\"color:{colour};margin:0 0 8px\">{escape(headline(event))}</h2>"]
    if summary(event):
        parts.append(f"<p>{escape(summary(event))}</p>")
    parts.append(f"<table>{rows}</table>")
    if event.link:
        parts.append(f"<p><a href=\"{escape(event.link)}\">Open {escape(event.monitor_name)}</a></p>")
    parts.append("<p style=\"color:#888\">StatusCore</p>")
    return "<!doctype html><html><body style=\"font-family:sans-serif\">" + "".join(parts) + "</body></html>"
