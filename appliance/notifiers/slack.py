"""Slack incoming webhooks: a readable message with `attachments` (coloured bar, for older
clients and notifications) and `blocks` (the modern layout)."""

from __future__ import annotations

from appliance.notifiers.base import Event, duration_text, headline, is_bad_news, summary

RED, GREEN, AMBER = "#d83b3b", "#2eb67d", "#ecb22e"


def build_payload(event: Event) -> dict:
    title = headline(event)
    icon = {"monitor.down": ":red_circle:", "monitor.up": ":large_green_circle:"}.get(event.name, ":warning:")
    colour = RED if event.name == "monitor.down" else (AMBER if is_bad_news(event) else GREEN)
    facts = _facts(event)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{_escape(v)}"} for k, v in facts][:10]},
    ]
    if event.cause and event.name in ("monitor.down", "monitor.up"):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Reason*\n{_escape(event.cause)}"}})
    context = [{"type": "mrkdwn", "text": f"StatusCore · {event.timestamp}"}]
    if event.status_page_url:
        context.append({"type": "mrkdwn", "text": f"<{event.status_page_url}|Status page>"})
    if event.link and event.link != event.status_page_url:
        context.append({"type": "mrkdwn", "text": f"<{event.link}|Monitor>"})
    blocks.append({"type": "context", "elements": context})
    attachment = {
        "color": colour,
        "fallback": title,
        "title": title,
        "fields": [{"title": k, "value": v, "short": len(v) < 40} for k, v in facts],
        "footer": "StatusCore",
        "ts": int(event.at.timestamp()),
    }
    if event.link or event.status_page_url:
        attachment["title_link"] = event.link or event.status_page_url
    # `text` is mrkdwn (and the notification): a name like "<!channel>" must not ping anyone.
    text = f"{icon} {_escape(title)}"
    if summary(event):
        text += f" — {_escape(summary(event))}"
    return {"text": text, "attachments": [attachment], "blocks": blocks}


def _facts(event: Event) -> list[tuple[str, str]]:
    facts = [("Monitor", event.monitor_name), ("Status", event.status.upper())]
    if event.target:
        facts.append(("Target", event.target))
    if event.locations:
        facts.append(("Locations", event.locations_text))
    if event.duration_seconds is not None and event.name in ("monitor.up", "monitor.down"):
        facts.append(("Down for", duration_text(event.duration_seconds)))
    facts.append(("Time", event.timestamp))
    if "days_left" in event.extra:
        facts.append(("Expires", f"{event.extra.get('expires_at')} ({event.extra['days_left']} days)"))
    return facts


def _escape(text: str) -> str:
    # Slack mrkdwn: only these three need escaping.
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
