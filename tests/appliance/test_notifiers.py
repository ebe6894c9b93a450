"""The webhook payloads, built by pure functions from an Event: the generic one is exactly the
published seed's, Slack gets attachments and blocks, Discord gets coloured embeds; and the
signature a receiver verifies with the webhook's secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime, timezone

import pytest

from appliance.notifiers import FORMATS, Event, render, signature
from appliance.notifiers import discord, generic, slack, transport

AT = datetime(2024, 1, 15, 10, 30, 0, 123456, tzinfo=timezone.utc)
LOCATIONS = ("US-East (Virginia)", "US-West (Oregon)")


def make_event(name: str = "monitor.down", status: str = "down", **changes) -> Event:
    values = dict(name=name, monitor_id=1, monitor_name="Production API", monitor_type="https",
                  target="https://api.example.com", status=status, at=AT, locations=LOCATIONS,
                  cause="HTTP 503")
    values.update(changes)
    return Event(**values)


DOWN = make_event()
UP = make_event("monitor.up", "up", cause="")


# ---- generic ------------------------------------------------------------------------------------

SEED_KEYS = {"event", "monitor", "timestamp", "details"}
NEW_KEYS = {"cause", "incident_id", "duration_seconds", "link"}


def test_it_builds_the_seeds_generic_payload_with_the_incident_facts_beside():
    assert generic.build_payload(DOWN) == {
        "event": "monitor.down",
        "monitor": {"id": 1, "name": "Production API", "type": "https", "target": "https://api.example.com",
                    "status": "down"},
        "timestamp": "2024-01-15T10:30:00.123Z",
        "details": {"locations": "US-East (Virginia), US-West (Oregon)"},
        "cause": "HTTP 503", "incident_id": None, "duration_seconds": None, "link": None,
    }


def test_it_tells_a_recovery_its_cause_incident_duration_and_link():
    event = make_event("monitor.up", "up", cause="HTTP 503", incident_id=7, duration_seconds=312,
                       link="https://status.example.test/api/monitors/1")
    payload = generic.build_payload(event)
    assert {k: payload[k] for k in NEW_KEYS} == {"cause": "HTTP 503", "incident_id": 7, "duration_seconds": 312,
                                                 "link": "https://status.example.test/api/monitors/1"}
    assert set(payload) == SEED_KEYS | NEW_KEYS


@pytest.mark.parametrize("event", [DOWN, UP, make_event(locations=()), make_event(cause="")],
                         ids=["down", "up", "no-locations", "no-cause"])
def test_it_keeps_to_the_seeds_keys_and_adds_only_the_incident_facts(event):
    payload = generic.build_payload(event)
    assert set(payload) == SEED_KEYS | NEW_KEYS
    assert set(payload["monitor"]) == {"id", "name", "type", "target", "status"}
    assert set(payload["details"]) == {"locations"}
    assert isinstance(payload["details"]["locations"], str)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", payload["timestamp"])


def test_it_writes_the_timestamp_with_milliseconds_even_on_a_whole_second():
    payload = generic.build_payload(make_event(at=datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)))
    assert payload["timestamp"] == "2024-01-15T10:30:00.000Z"


def test_it_reports_the_up_event_with_its_status():
    payload = generic.build_payload(UP)
    assert payload["event"] == "monitor.up" and payload["monitor"]["status"] == "up"


def test_it_adds_the_expiry_facts_to_details_for_expiring_events_only():
    event = make_event("ssl.expiring", "up", extra={"days_left": 9, "expires_at": "2024-01-24T00:00:00Z"})
    details = generic.build_payload(event)["details"]
    assert details == {"locations": "US-East (Virginia), US-West (Oregon)", "days_left": 9,
                       "expires_at": "2024-01-24T00:00:00Z"}
    assert generic.build_payload(make_event(extra={"days_left": 9}))["details"] == {
        "locations": "US-East (Virginia), US-West (Oregon)"}


def test_it_renders_a_stable_compact_body_for_every_format():
    for name in FORMATS:
        body = render(name, DOWN)
        assert body == render(name, DOWN)  # every retry sends (and signs) the same bytes
        assert json.loads(body) == FORMATS[name](DOWN)
        assert ", " not in body.replace("US-East (Virginia), US-West", "")  # compact separators


# ---- slack --------------------------------------------------------------------------------------

def _slack_text(payload: dict) -> str:
    """Everything a person reads in the blocks."""
    parts = []
    for block in payload["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e["text"] for e in block.get("elements", [])]
    return "\n".join(parts)


def test_it_gives_slack_text_attachments_and_blocks():
    payload = slack.build_payload(DOWN)
    assert {"text", "attachments", "blocks"} <= set(payload)
    assert "Production API" in payload["text"] and "DOWN" in payload["text"]
    [attachment] = payload["attachments"]
    assert re.fullmatch(r"#[0-9a-f]{6}", attachment["color"])
    assert attachment["fallback"]


def test_it_colours_slack_red_for_down_and_green_for_up():
    down = slack.build_payload(DOWN)["attachments"][0]["color"]
    up = slack.build_payload(UP)["attachments"][0]["color"]
    assert down != up
    red, green = int(down[1:3], 16), int(down[3:5], 16)
    assert red > green  # reddish
    red, green = int(up[1:3], 16), int(up[3:5], 16)
    assert green > red  # greenish


def test_it_shows_monitor_status_target_locations_and_time_in_slack_blocks():
    text = _slack_text(slack.build_payload(DOWN))
    for fact in ("Production API", "DOWN", "https://api.example.com", "US-East (Virginia), US-West (Oregon)",
                 "2024-01-15T10:30:00.123Z"):
        assert fact in text, fact
    for label in ("*Monitor*", "*Status*", "*Target*", "*Locations*", "*Time*"):
        assert label in text, label
    assert {b["type"] for b in slack.build_payload(DOWN)["blocks"]} >= {"header", "section", "context"}


def test_it_links_the_status_page_in_slack_only_when_there_is_one():
    without = slack.build_payload(DOWN)
    assert "Status page" not in json.dumps(without) and "title_link" not in without["attachments"][0]
    url = "http://status.example.test/status/acme"
    linked = slack.build_payload(make_event(status_page_url=url))
    assert f"<{url}|Status page>" in _slack_text(linked)
    assert linked["attachments"][0]["title_link"] == url


def _mrkdwn(payload: dict) -> list[str]:
    """The texts Slack parses for markup and mentions: the message text and mrkdwn elements
    (plain_text, as in the header block, is shown as it is)."""
    texts = [payload["text"]]
    for block in payload["blocks"]:
        for element in [block.get("text")] + block.get("fields", []) + block.get("elements", []):
            if element and element.get("type") == "mrkdwn":
                texts.append(element["text"])
    return texts


def test_it_escapes_slack_markup_in_user_text():
    """A monitor named "<!channel>" must not ping the whole channel."""
    payload = slack.build_payload(make_event(monitor_name="<!channel> & co", cause="a <b>"))
    texts = _mrkdwn(payload)
    assert any("&lt;!channel&gt; &amp; co" in text for text in texts)
    for text in texts:
        assert "<!channel>" not in text, text


# ---- discord ------------------------------------------------------------------------------------

def _close(colour: int, target: int, slack_per_channel: int = 0x30) -> bool:
    return all(abs(((colour >> s) & 0xFF) - ((target >> s) & 0xFF)) <= slack_per_channel for s in (16, 8, 0))


def test_it_gives_discord_an_embed_red_for_down_and_green_for_up():
    [down] = discord.build_payload(DOWN)["embeds"]
    [up] = discord.build_payload(UP)["embeds"]
    assert _close(down["color"], 0xE74C3C)
    assert _close(up["color"], 0x2ECC71)
    assert "Production API" in down["title"] and "DOWN" in down["title"]
    assert down["timestamp"] == "2024-01-15T10:30:00.123Z"


def test_it_lists_status_target_and_locations_in_the_discord_embed():
    fields = {f["name"]: f["value"] for f in discord.build_payload(DOWN)["embeds"][0]["fields"]}
    assert fields["Status"] == "DOWN"
    assert fields["Target"] == "https://api.example.com"
    assert fields["Locations"] == "US-East (Virginia), US-West (Oregon)"


def test_it_never_pings_anyone_on_discord():
    payload = discord.build_payload(make_event(monitor_name="@everyone"))
    assert payload["allowed_mentions"] == {"parse": []}


def test_it_links_the_status_page_in_discord_only_when_there_is_one():
    assert "url" not in discord.build_payload(DOWN)["embeds"][0]
    url = "http://status.example.test/status/acme"
    assert discord.build_payload(make_event(status_page_url=url))["embeds"][0]["url"] == url


# ---- signature ----------------------------------------------------------------------------------

def test_it_signs_the_exact_body_with_hmac_sha256():
    body = render("generic", DOWN).encode()
    secret = "whsec_0123456789abcdef"
    header = signature(secret, body)
    scheme, _, digest = header.partition("=")
    assert scheme == "sha256"
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)


def test_it_makes_a_signature_that_fails_for_another_body_or_secret():
    body = render("generic", DOWN).encode()
    header = signature("whsec_a", body)
    assert header != signature("whsec_b", body)
    assert header != signature("whsec_a", body + b" ")


def test_it_reports_a_url_it_cannot_send_to_as_a_failed_delivery():
    # Webhook URLs are checked when saved; one that was not (a bad port) used to escape post()
    # as a ValueError instead of coming back as an outcome.
    outcome = transport.post("http://127.0.0.1:99999/hook", b"{}", {}, timeout=1)
    assert (outcome.status_code, outcome.error) == (None, "bad port in http://127.0.0.1:99999/hook")


# ---- cause and duration in the chat formats, e-mail and Apprise ----------------------------------

RECOVERED = make_event("monitor.up", "up", cause="HTTP 503", incident_id=7, duration_seconds=252,
                       link="https://status.example.test/api/monitors/1")


def test_it_tells_slack_the_cause_and_how_long_it_was_down():
    payload = slack.build_payload(RECOVERED)
    assert payload["text"].endswith("— Down for 4 min 12 s; cause: HTTP 503.")
    facts = dict((f["title"], f["value"]) for f in payload["attachments"][0]["fields"])
    assert facts["Down for"] == "4 min 12 s"
    assert payload["attachments"][0]["title_link"] == "https://status.example.test/api/monitors/1"
    assert "Cause: HTTP 503." in slack.build_payload(DOWN)["text"]


def test_it_tells_discord_the_cause_and_how_long_it_was_down():
    embed = discord.build_payload(RECOVERED)["embeds"][0]
    assert embed["description"] == "Down for 4 min 12 s; cause: HTTP 503."
    assert {f["name"]: f["value"] for f in embed["fields"]}["Down for"] == "4 min 12 s"
    assert embed["url"] == "https://status.example.test/api/monitors/1"


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (59, "59 s"), (60, "1 min"), (252, "4 min 12 s"),
                                           (3600, "1 h"), (3 * 3600 + 120, "3 h 2 min"), (86400, "1 d"),
                                           (90000, "1 d 1 h")])
def test_it_says_durations_as_people_do(seconds, text):
    from appliance.notifiers.base import duration_text
    assert duration_text(seconds) == text


def test_it_writes_an_email_subject_with_the_cause_or_the_duration():
    from appliance.notifiers import mail
    assert mail.build_payload(DOWN)["subject"] == "[DOWN] Production API — HTTP 503"
    assert mail.build_payload(RECOVERED)["subject"] == "[UP] Production API — back after 4 min 12 s"
    reminder = make_event(extra={"reminder": True}, duration_seconds=600)
    assert mail.build_payload(reminder)["subject"] == "[DOWN] Production API still down — HTTP 503"
    multiline = make_event(cause="line one\nline two")
    assert mail.build_payload(multiline)["subject"] == "[DOWN] Production API — line one line two"


def test_it_escapes_user_text_in_the_email_html():
    from appliance.notifiers import mail
    html = mail.build_payload(make_event(monitor_name="<script>x</script>", cause="a & b"))["html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "a &amp; b" in html


def test_it_gives_apprise_a_type_per_event():
    from appliance.notifiers import push
    assert push.build_payload(DOWN)["type"] == "failure"
    up = push.build_payload(RECOVERED)
    assert up["type"] == "success" and up["title"] == "Production API is back UP"
    assert up["body"].splitlines()[0] == "Down for 4 min 12 s; cause: HTTP 503."
    assert up["body"].splitlines()[-1] == "https://status.example.test/api/monitors/1"
