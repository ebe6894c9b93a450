"""Channel formats: name -> build_payload(event). One module per format, explicit imports.
How each kind is sent: dispatcher.deliver (HTTP POST, SMTP, Apprise)."""

from __future__ import annotations

import json

from appliance.notifiers import discord, generic, mail, push, slack
from appliance.notifiers.base import Event, signature

FORMATS = {
    "generic": generic.build_payload,
    "slack": slack.build_payload,
    "discord": discord.build_payload,
    "email": mail.build_payload,
    "apprise": push.build_payload,
}

__all__ = ["Event", "FORMATS", "render", "signature"]


def render(format_name: str, event: Event) -> str:
    """The exact body to send (compact JSON, stable across retries)."""
    return json.dumps(FORMATS[format_name](event), separators=(",", ":"), ensure_ascii=False)
