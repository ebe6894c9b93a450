"""E-mail channels through a real SMTP server on 127.0.0.1 (aiosmtpd), sent by the dispatcher step
by step (run_once, injected clock): the message (subject, plain text and HTML), the retry after a
refusal on the webhooks' backoff, a final 5xx, a login, and STARTTLS with a certificate made here."""

from __future__ import annotations

import pytest
import trustme

from tests.support.net import free_port
from tests.support.outbox_world import World
from tests.support.smtp_server import SmtpServer

@pytest.fixture
def world(tmp_path):
    world = World(tmp_path)
    yield world
    world.entities.close()


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def test_it_mails_a_down_with_its_cause_in_the_subject_and_a_text_and_html_body(world, smtp):
    hook = world.channel(smtp)
    world.transition("pending", "down", cause="HTTP 503 Service Unavailable")
    world.dispatcher().run_once()
    [mail] = smtp.wait_for_count(1)
    assert mail.subject == "[DOWN] Website — HTTP 503 Service Unavailable"
    assert mail.sender == "statuscore@example.test"
    assert mail.recipients == ("ops@example.test", "oncall@example.test")
    assert mail.message["To"] == "ops@example.test, oncall@example.test"
    text, html = mail.part("plain"), mail.part("html")
    assert "Website is DOWN" in text and "Cause: HTTP 503 Service Unavailable" in text
    assert "<h2" in html and "HTTP 503 Service Unavailable" in html
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 1, None)
    assert mail.message["X-StatusCore-Delivery"] == delivery.uuid
    assert (delivery.monitor_id, delivery.monitor_name) == (world.monitor.id, "Website")


def test_it_mails_a_recovery_with_how_long_the_monitor_was_down(world, smtp):
    world.channel(smtp)
    dispatcher = world.dispatcher()
    world.transition("pending", "down", cause="connection refused")
    dispatcher.run_once()
    world.clock.advance(252)
    world.transition("down", "up", cause="")
    dispatcher.run_once()
    down, up = smtp.wait_for_count(2)
    assert up.subject == "[UP] Website — back after 4 min 12 s"
    assert "Down for 4 min 12 s; cause: connection refused." in up.part("plain")
    assert "Incident: #" in down.part("plain") and "Incident: #" in up.part("plain")


def test_it_retries_a_refused_message_on_the_backoff_and_logs_a_one_line_error(world, smtp):
    smtp.refuse(times=2)
    hook = world.channel(smtp)
    dispatcher = world.dispatcher(backoff=(10, 20))
    world.transition("pending", "down")
    dispatcher.run_once()
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "the SMTP server answered 451 4.3.0 Try again later"
    world.clock.advance(9)
    dispatcher.run_once()
    assert smtp.refused == 1  # not before the backoff
    world.clock.advance(1)
    dispatcher.run_once()
    world.clock.advance(20)
    dispatcher.run_once()
    [mail] = smtp.wait_for_count(1)
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts, smtp.refused) == ("delivered", 3, 2)
    [(_, attempts)] = world.outbox.deliveries(hook.id)
    assert [a.error is None for a in attempts] == [False, False, True]
    assert all("\n" not in (a.error or "") for a in attempts)


def test_it_gives_up_at_once_when_the_server_refuses_for_good(world, smtp):
    smtp.refuse(times=1, reply="550 5.7.1 Relaying denied")
    hook = world.channel(smtp)
    world.transition("pending", "down")
    world.dispatcher().run_once()
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "the SMTP server answered 550 5.7.1 Relaying denied"


def test_it_retries_a_server_that_is_not_running_yet(world):
    port = free_port()
    hook = world.channel(SmtpServer(port=port))  # not started: connections are refused
    dispatcher = world.dispatcher(backoff=(5,))
    world.transition("pending", "down")
    dispatcher.run_once()
    [delivery] = world.deliveries(hook)
    assert delivery.state == "pending" and delivery.last_error.startswith(f"cannot connect to 127.0.0.1:{port}")
    with SmtpServer(port=port) as smtp:
        world.clock.advance(5)
        dispatcher.run_once()
        smtp.wait_for_count(1)
    assert world.deliveries(hook)[0].state == "delivered"


def test_it_gives_a_stalling_server_no_more_than_the_timeout_and_tries_again(world, smtp):
    smtp.stall(3.0)
    hook = world.channel(smtp)
    dispatcher = world.dispatcher(backoff=(5,))
    dispatcher.timeout = 1.0
    world.transition("pending", "down")
    dispatcher.run_once()
    [delivery] = world.deliveries(hook)
    assert delivery.state == "pending" and "within 1 s" in delivery.last_error
    world.clock.advance(5)
    dispatcher.run_once()
    assert world.deliveries(hook)[0].state == "delivered"


def test_it_logs_in_with_the_username_and_password(world, tmp_path):
    with SmtpServer(login=("alerts", "pa55-word!")) as smtp:
        hook = world.channel(smtp, username="alerts", password="pa55-word!")
        world.transition("pending", "down")
        world.dispatcher().run_once()
        [mail] = smtp.wait_for_count(1)
        assert mail.login == "alerts"
        wrong = world.channel(smtp, username="alerts", password="wrong-password")
        world.transition("down", "up")
        world.dispatcher().run_once()
        [delivery] = world.deliveries(wrong)
        assert delivery.state == "failed"  # a refused login is final: retrying cannot fix it
        assert "refused the login" in delivery.last_error and "check the username and password" in delivery.last_error
        assert "wrong-password" not in delivery.last_error
    assert world.deliveries(hook)[-1].state == "delivered"


def test_it_sends_over_starttls_with_a_certificate_the_appliance_trusts(world, tmp_path):
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with SmtpServer(tls=ca.issue_cert("127.0.0.1"), login=("alerts", "pa55-word!")) as smtp:
        hook = world.channel(smtp, security="starttls", username="alerts", password="pa55-word!")
        world.transition("pending", "down")
        world.dispatcher(ca_file=str(ca_file)).run_once()
        [mail] = smtp.wait_for_count(1)
        assert mail.tls and mail.login == "alerts"
        assert world.deliveries(hook)[0].state == "delivered"


def test_it_sends_over_implicit_tls(world, tmp_path):
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with SmtpServer(implicit_tls=ca.issue_cert("127.0.0.1")) as smtp:
        hook = world.channel(smtp, security="tls")
        world.transition("pending", "down")
        world.dispatcher(ca_file=str(ca_file)).run_once()
        [mail] = smtp.wait_for_count(1)
        assert mail.tls and world.deliveries(hook)[0].state == "delivered"


def test_it_refuses_a_starttls_certificate_it_does_not_trust(world):
    ca = trustme.CA()  # the appliance does not know this CA
    with SmtpServer(tls=ca.issue_cert("127.0.0.1")) as smtp:
        hook = world.channel(smtp, security="starttls")
        world.transition("pending", "down")
        world.dispatcher().run_once()
        [delivery] = world.deliveries(hook)
        assert delivery.state == "pending" and delivery.last_error.startswith("TLS certificate of 127.0.0.1 is not valid")
        assert smtp.mails == []


def test_it_says_when_the_server_offers_no_starttls(world, smtp):
    hook = world.channel(smtp, security="starttls")
    world.transition("pending", "down")
    world.dispatcher().run_once()
    [delivery] = world.deliveries(hook)
    assert delivery.state == "failed"
    assert delivery.last_error == f"127.0.0.1:{smtp.port} does not offer STARTTLS; choose security tls or none"

