"""`statuscore console`: the Textual admin console, a client of an appliance's API."""

from __future__ import annotations

import argparse
import os

from statuscore.appliance_api import server_url


def add_to(commands) -> None:
    console = commands.add_parser("console", help="the terminal admin console")
    console.add_argument("--server", help="appliance URL (STATUSCORE_SERVER, default http://127.0.0.1:8080)")
    console.add_argument("--email", help="log in at once, with the password from STATUSCORE_PASSWORD")
    console.set_defaults(handler=cmd_console)


def cmd_console(args: argparse.Namespace) -> int:
    from console.app import make_console  # textual only when the console runs

    password = os.environ.get("STATUSCORE_PASSWORD") if args.email else None
    app = make_console(server_url(args), email=args.email, password=password)
    app.run()
    return app.return_code or 0
