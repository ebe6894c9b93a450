"""Apprise channels, sent by the dispatcher step by step to real receivers on 127.0.0.1 only
(Apprise's json:// and ntfy:// pointed at a local HTTP server, mailto:// at a local SMTP server): the message Apprise carries, the
retry on the webhooks' backoff, a one-line error without the URL's token, and the check that
names an Apprise URL Apprise cannot read."""

from __future__ import annotations

import pytest

from appliance.notifiers import apprise_transport
from tests.support.outbox_world import World
from tests.support.receiver import Receiver
from tests.support.smtp_server import SmtpServer


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path)
    yield world
    world.entities.close()


@pytest.fixture
def receiver():
    with Receiver() as hook:
        yield hook


def test_it_sends_title_body_and_type_through_apprise_json(world, receiver):
    hook = world.apprise(f"json://127.0.0.1:{receiver.port}/hook")
    world.transition("pending", "down", cause="HTTP 502")
    world.dispatcher().run_once()
    [message] = receiver.wait_for_count(1)
    payload = message.json()
    assert payload["title"] == "Website is DOWN"
    assert payload["type"] == "failure"
    assert "Cause: HTTP 502." in payload["message"]
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 1, None)


def test_it_says_how_long_the_monitor_was_down_when_it_recovers(world, receiver):
    world.apprise(f"json://127.0.0.1:{receiver.port}/hook")
    dispatcher = world.dispatcher()
    world.transition("pending", "down", cause="timed out")
    dispatcher.run_once()
    world.clock.advance(3 * 3600 + 120)
    world.transition("down", "up", cause="")
    dispatcher.run_once()
    _, up = receiver.wait_for_count(2)
    assert up.json()["type"] == "success"
    assert up.json()["message"].startswith("Down for 3 h 2 min; cause: timed out.")


def test_it_reaches_ntfy_on_a_local_server(world, receiver):
    world.apprise(f"ntfy://127.0.0.1:{receiver.port}/alerts")
    world.transition("pending", "down", cause="HTTP 500")
    world.dispatcher().run_once()
    [message] = receiver.wait_for_count(1)
    assert b"Website is DOWN" in message.body and b"HTTP 500" in message.body


def test_it_reaches_a_local_smtp_server_with_apprise_mailto(world):
    with SmtpServer() as smtp:
        world.apprise(f"mailto://127.0.0.1:{smtp.port}?from=statuscore@example.test&to=ops@example.test"
                      "&mode=insecure")
        world.transition("pending", "down", cause="HTTP 500")
        world.dispatcher().run_once()
        [mail] = smtp.wait_for_count(1)
    assert mail.subject == "Website is DOWN" and mail.recipients == ("ops@example.test",)
    assert "HTTP 500" in mail.message.get_body(preferencelist=("plain", "html")).get_content()


def test_it_retries_a_failed_apprise_send_with_a_one_line_error_without_the_token(world, receiver):
    receiver.fail(times=1, status=500)
    hook = world.apprise(f"json://alerts:s3cret-token@127.0.0.1:{receiver.port}/hook")
    dispatcher = world.dispatcher(backoff=(10,))
    world.transition("pending", "down")
    dispatcher.run_once()
    [delivery] = world.deliveries(hook)
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_error and "\n" not in delivery.last_error and "500" in delivery.last_error
    assert "s3cret-token" not in delivery.last_error
    world.clock.advance(10)
    dispatcher.run_once()
    assert len(receiver.wait_for_count(2)) == 2
    assert world.deliveries(hook)[0].state == "delivered"


@pytest.mark.parametrize("url, problem", [
    ("not a url", "is not an Apprise URL"),
    ("nosuchservice://token@host", "uses nosuchservice://, which Apprise does not know"),
    ("tgram://not-a-bot-token", "is not a tgram:// URL Apprise can read"),
])
def test_it_names_what_apprise_cannot_read(url, problem):
    assert problem in apprise_transport.url_problem(url)


def test_it_accepts_the_urls_apprise_can_read():
    for url in ("json://127.0.0.1:8080/hook", "ntfy://127.0.0.1/alerts", "gotify://127.0.0.1/AbCdEfGhIjKlMnO",
                "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/12345"):
        assert apprise_transport.url_problem(url) is None, url


def test_it_shows_only_the_scheme_of_an_apprise_url():
    assert apprise_transport.masked("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/12345") == "tgram://…"
