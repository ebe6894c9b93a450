"""A lost connection: the console says so (banner and title), keeps retrying, and recovers by
itself when the server is back — without a traceback and without logging in again."""

from __future__ import annotations

import asyncio

from console.app import make_console
from console.widgets import ConnectionBanner, StatusTable
from tests.console.helpers import on_screen, run, table_text, wait_until
from tests.support.appliance import ADMIN_EMAIL, ADMIN_PASSWORD, InProcessAppliance


def test_it_shows_a_lost_connection_and_recovers(tmp_path):
    data_dir = tmp_path / "data"
    first = InProcessAppliance(data_dir).start(engine=False)
    port = first.settings.port
    servers = [first]

    async def scenario():
        app = make_console(first.url, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, token_file=tmp_path / "token",
                           refresh_interval=0.3, timeout=2)
        async with app.run_test(size=(120, 36)) as pilot:
            await on_screen(pilot, "DashboardScreen")
            banner = app.screen.query_one(ConnectionBanner)
            assert not banner.display
            await asyncio.to_thread(first.stop)

            await wait_until(pilot, lambda: app.offline, message="the lost connection noticed")
            assert banner.display and "connection lost — retrying" in str(banner.render())
            assert app.sub_title == "connection lost — retrying"
            assert app.screen.__class__.__name__ == "DashboardScreen"  # no crash, no logout

            second = await asyncio.to_thread(lambda: InProcessAppliance(data_dir, port=port).start(engine=False))
            servers.append(second)
            admin = second.admin()
            second.api.create_monitor(admin, name="Made while away", type="http", target="http://127.0.0.1:9/")
            await wait_until(pilot, lambda: not app.offline, timeout=20, message="the connection back")
            assert not banner.display
            assert ADMIN_EMAIL in app.sub_title
            table = app.screen.query_one(StatusTable)
            await wait_until(pilot, lambda: "Made while away" in table_text(table), message="fresh data")

    try:
        run(scenario())
    finally:
        for server in servers[1:]:
            server.stop()
