"""Logging in: the login screen, --email with STATUSCORE_PASSWORD, a remembered token, the CLI."""

from __future__ import annotations

import os
import stat

import pytest

from console.app import StatusCoreConsole
from tests.console.helpers import idle_appliance, on_screen, run, screen_name, static_text, type_into, wait_until

SIZE = (120, 40)

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


def test_it_logs_in_through_the_login_screen(console, alice):
    async def scenario():
        app = console()
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "LoginScreen")
            await type_into(pilot, "#email", alice.email)
            await type_into(pilot, "#password", alice.password)
            await pilot.press("enter")
            await on_screen(pilot, "DashboardScreen")
            assert app.user["email"] == alice.email
            assert alice.email in app.sub_title
            assert not (app.token_file).exists()  # not asked to remember

    run(scenario())


def test_it_shows_the_servers_message_for_a_wrong_password(console, alice):
    async def scenario():
        app = console()
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "LoginScreen")
            await type_into(pilot, "#email", alice.email)
            await type_into(pilot, "#password", "wrong-password")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Invalid email or password" in static_text(app, "#login-status"),
                             message="the error under the form")
            assert screen_name(app) == "LoginScreen"

    run(scenario())


def test_it_logs_in_at_start_with_email_and_password(console, alice):
    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            assert app.user["email"] == alice.email and app.client.token

    run(scenario())


def test_it_says_when_the_server_cannot_be_reached(tmp_path, alice):
    from console.app import make_console
    from tests.support.net import free_port

    async def scenario():
        app = make_console(f"http://127.0.0.1:{free_port()}", email=alice.email, password=alice.password,
                           token_file=tmp_path / "token", timeout=2)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: "cannot reach" in static_text(app, "#login-status"),
                             message="the connection error")
            assert screen_name(app) == "LoginScreen"

    run(scenario())


def test_it_remembers_the_token_in_a_private_file_only_when_asked(console, alice):
    async def first():
        app = console()
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "LoginScreen")
            await type_into(pilot, "#email", alice.email)
            await type_into(pilot, "#password", alice.password)
            app.screen.query_one("#remember").value = True
            await pilot.press("enter")
            await on_screen(pilot, "DashboardScreen")
        return app.token_file

    token_file = run(first())
    assert token_file.exists()
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600

    async def second():
        app = console()  # no password: the saved token is used
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            assert app.user["email"] == alice.email
            await pilot.press("ctrl+l")  # log out forgets it
            await on_screen(pilot, "LoginScreen")
        assert not token_file.exists()

    run(second())


def test_it_is_started_by_the_console_command(server, alice, monkeypatch):
    from statuscore import cli

    started = []

    def fake_run(self, *args, **kwargs):
        started.append(self)

    monkeypatch.setattr(StatusCoreConsole, "run", fake_run)
    monkeypatch.setenv("STATUSCORE_PASSWORD", alice.password)
    monkeypatch.setenv("STATUSCORE_SERVER", server.url)
    assert cli.main(["console", "--email", alice.email]) == 0
    app = started[0]
    assert app.client.server_url == server.url
    assert (app.initial_email, app.initial_password) == (alice.email, alice.password)

    monkeypatch.delenv("STATUSCORE_PASSWORD")
    assert cli.main(["console", "--server", "http://127.0.0.1:9"]) == 0
    assert started[1].client.server_url == "http://127.0.0.1:9" and started[1].initial_password is None


def test_it_returns_to_the_login_screen_when_the_token_is_revoked(console, api, admin, alice):
    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            # An admin sets a new password: alice's tokens stop working.
            response = api.patch(f"/api/admin/users/{alice.id}", admin, json={"password": "another-password-1"})
            assert response.status_code == 200, response.text
            await on_screen(pilot, "LoginScreen")
            assert "log in again" in static_text(app, "#login-status")
            assert app.user is None and app.screen.query_one("#email").value == alice.email

    run(scenario())


def test_it_changes_the_password_from_the_palette_key(console, api, alice):
    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f9")
            await on_screen(pilot, "ChangePasswordScreen")
            await type_into(pilot, "#current_password", "not-my-password")
            await type_into(pilot, "#new_password", "brand-new-password-1")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "does not match" in static_text(app, "#current_password-error"))
            assert app.screen.query_one("#current_password-error").display
            await type_into(pilot, "#current_password", alice.password)
            await pilot.press("ctrl+s")
            await on_screen(pilot, "DashboardScreen")
            assert app.client.me()["email"] == alice.email  # the fresh token works

    run(scenario())
    api.login(alice.email, "brand-new-password-1")


def test_keys_typed_in_one_burst_go_to_the_field_focused_for_them(console, alice):
    """email, tab, password, enter as a password manager types them: nothing of the password
    ever reaches the email field (where it would show in clear)."""
    from tests.console.helpers import burst

    async def scenario():
        for move in ("tab", "enter"):
            app = console()
            async with app.run_test(size=SIZE) as pilot:
                screen = await on_screen(pilot, "LoginScreen")
                email, password = screen.query_one("#email"), screen.query_one("#password")
                seen_in_email = []
                email.watch(email, "value", lambda value: seen_in_email.append(value), init=False)  # every value
                burst(pilot, *alice.email, move, *alice.password, "enter")
                await on_screen(pilot, "DashboardScreen")
                assert app.user["email"] == alice.email
                assert seen_in_email[-1] == alice.email
                assert not any(alice.password[:3] in value for value in seen_in_email), (move, seen_in_email)
                assert password.password  # the password field masks what it holds

    run(scenario())


def test_keys_typed_before_the_screen_settles_go_to_the_email_field(console, alice):
    from tests.console.helpers import burst

    async def scenario():
        app = console()
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: screen_name(app) == "LoginScreen", message="the login screen")
            burst(pilot, *alice.email, "tab", *alice.password)
            await pilot.pause(0.3)
            assert app.screen.query_one("#email").value == alice.email
            assert app.screen.query_one("#password").value == alice.password
            assert app.screen.query_one("#server").value == app.client.server_url

    run(scenario())


def test_the_email_placeholder_is_the_default_admin(console):
    from appliance.service import DEFAULT_ADMIN_EMAIL

    async def scenario():
        app = console()
        async with app.run_test(size=SIZE) as pilot:
            screen = await on_screen(pilot, "LoginScreen")
            assert screen.query_one("#email").placeholder == DEFAULT_ADMIN_EMAIL == "admin@statuscore.local"

    run(scenario())
