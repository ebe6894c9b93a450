"""The console's channel form against a real appliance: a user creates an e-mail channel (SMTP
settings; the password typed once, never shown again) and an Apprise channel, and sends each a
test, received by a real SMTP server (aiosmtpd) and a local HTTP server (Apprise's json://) on
127.0.0.1; editing keeps the secrets that are not shown."""

from __future__ import annotations

import pytest
from textual.widgets import Select

from console.app import make_console
from tests.console.helpers import on_screen, run, static_text, table_text, type_into, wait_until
from tests.support.appliance import InProcessAppliance
from tests.support.receiver import Receiver
from tests.support.smtp_server import SmtpServer

SIZE = (130, 50)
PASSWORD = "Console-Smtp-Pass-55"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("channels") / "data").start(engine=False)
    yield instance
    instance.stop()


def console_for(server, user, tmp_path):
    return make_console(server.url, email=user.email, password=user.password, token_file=tmp_path / "token",
                        refresh_interval=0.3)


async def choose_kind(pilot, kind: str) -> None:
    pilot.app.screen.query_one("#format", Select).value = kind
    await pilot.pause()


def test_it_creates_an_email_channel_and_sends_it_a_test(server, api, alice, tmp_path):
    with SmtpServer(login=("alerts", PASSWORD)) as smtp:
        async def scenario():
            app = console_for(server, alice, tmp_path)
            async with app.run_test(size=SIZE) as pilot:
                await on_screen(pilot, "DashboardScreen")
                await pilot.press("f5")
                screen = await on_screen(pilot, "SettingsScreen")
                await wait_until(pilot, lambda: "No webhooks yet" in static_text(app, "#webhooks-notice"))
                await pilot.press("n")
                form = await on_screen(pilot, "WebhookForm")
                assert form.query_one("#url-fields").display and not form.query_one("#email-fields").display
                await choose_kind(pilot, "email")
                assert form.query_one("#email-fields").display and not form.query_one("#url-fields").display
                await type_into(pilot, "#email-host", "127.0.0.1")
                await type_into(pilot, "#email-port", str(smtp.port))
                form.query_one("#email-security", Select).value = "none"
                await type_into(pilot, "#email-username", "alerts")
                await type_into(pilot, "#email-password", PASSWORD)
                await type_into(pilot, "#email-from", "statuscore@example.test")
                await type_into(pilot, "#email-to", "not an address")
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: static_text(app, "#email-error").strip(), message="the address error")
                await type_into(pilot, "#email-to", "ops@example.test, noc@example.test")
                await pilot.press("ctrl+s")
                await on_screen(pilot, "ShownOnceDialog")
                await pilot.press("enter")
                await on_screen(pilot, "SettingsScreen")
                table = screen.query_one("#webhooks")
                await wait_until(pilot, lambda: "mailto:ops@example.test,noc@example.test" in table_text(table),
                                 message="the new channel")
                await pilot.press("t")
                await wait_until(pilot, lambda: smtp.mails, message="the test mail")
                panel = screen.query_one("WebhooksPanel")
                await wait_until(pilot, lambda: getattr(panel, "last_test", None))
                assert panel.last_test["delivered"] is True, panel.last_test
                # Edit: the password is not shown and stays when the field is left empty.
                await pilot.press("e")
                form = await on_screen(pilot, "WebhookForm")
                assert form.query_one("#email-password").value == ""
                assert PASSWORD not in str(form.query_one("#email-password").placeholder)
                await type_into(pilot, "#email-to", "noc@example.test")
                await pilot.press("ctrl+s")
                await on_screen(pilot, "SettingsScreen")
                await wait_until(pilot, lambda: "mailto:noc@example.test" in table_text(table), message="saved")
                await pilot.press("t")
                await wait_until(pilot, lambda: len(smtp.mails) == 2, message="the second test mail")

        run(scenario())
        first, second = smtp.mails
        assert first.login == second.login == "alerts"  # the password typed once, kept by the edit
        assert first.recipients == ("ops@example.test", "noc@example.test") and second.recipients == ("noc@example.test",)
        assert first.subject.startswith("[TEST] ")
    [hook] = api.get("/api/settings/webhooks", alice).json()
    assert hook["email"]["password_set"] is True and PASSWORD not in str(hook)


def test_it_creates_an_apprise_channel_and_sends_it_a_test(server, api, alice, tmp_path):
    with Receiver() as receiver:
        async def scenario():
            app = console_for(server, alice, tmp_path)
            async with app.run_test(size=SIZE) as pilot:
                await on_screen(pilot, "DashboardScreen")
                await pilot.press("f5")
                screen = await on_screen(pilot, "SettingsScreen")
                await wait_until(pilot, lambda: "No webhooks yet" in static_text(app, "#webhooks-notice"))
                await pilot.press("n")
                await on_screen(pilot, "WebhookForm")
                await choose_kind(pilot, "apprise")
                await type_into(pilot, "#url", "nosuchservice://token")
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: "Apprise does not know" in static_text(app, "#url-error"),
                                 message="Apprise's objection")
                await type_into(pilot, "#url", f"json://127.0.0.1:{receiver.port}/Apprise-Token-77")
                await pilot.press("ctrl+s")
                await on_screen(pilot, "ShownOnceDialog")
                await pilot.press("enter")
                await on_screen(pilot, "SettingsScreen")
                table = screen.query_one("#webhooks")
                await wait_until(pilot, lambda: "json://…" in table_text(table), message="the masked URL")
                assert "Apprise-Token-77" not in table_text(table)
                # Edit without touching the URL: it stays (the masked one is never sent back).
                await pilot.press("e")
                form = await on_screen(pilot, "WebhookForm")
                assert form.query_one("#url").value == ""
                await pilot.press("ctrl+s")
                await on_screen(pilot, "SettingsScreen")
                await pilot.press("t")
                await wait_until(pilot, lambda: receiver.messages, message="the test message")

        run(scenario())
        [message] = receiver.messages
        assert message.path == "/Apprise-Token-77"
        assert message.json()["title"].startswith("StatusCore test message")
