"""Discord webhooks: one embed, red when down, green when up (amber for warnings)."""

from __future__ import annotations

from appliance.notifiers.base import Event, duration_text, headline, is_bad_news, summary

RED, GREEN, AMBER = 0xE74C3C, 0x2ECC71, 0xF1C40F


def build_payload(event: Event) -> dict:
    colour = RED if event.name == "monitor.down" else (AMBER if is_bad_news(event) else GREEN)
    fields = [{"name": "Status", "value": event.status.upper(), "inline": True},
              {"name": "Type", "value": event.monitor_type, "inline": True}]
    if event.target:
        fields.append({"name": "Target", "value": event.target[:1024], "inline": False})
    if event.locations:
        fields.append({"name": "Locations", "value": event.locations_text[:1024], "inline": False})
    if event.duration_seconds is not None and event.name in ("monitor.up", "monitor.down"):
        fields.append({"name": "Down for", "value": duration_text(event.duration_seconds), "inline": True})
    if event.cause and event.name in ("monitor.down", "monitor.up"):
        fields.append({"name": "Reason", "value": event.cause[:1024], "inline": False})
    if "days_left" in event.extra:
        fields.append({"name": "Expires", "value": f"{event.extra.get('expires_at')} "
                       f"({event.extra['days_left']} days)", "inline": False})
    embed = {"title": headline(event)[:256], "color": colour, "fields": fields,
             "timestamp": event.timestamp, "footer": {"text": "StatusCore"}}
    if summary(event):
        embed["description"] = summary(event)[:4096]
    if event.link or event.status_page_url:
        embed["url"] = event.link or event.status_page_url
    return {"username": "StatusCore", "embeds": [embed], "allowed_mentions": {"parse": []}}
