"""`statuscore`: the one executable. Builds the parser from the command modules and runs one."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from appliance import __version__
from appliance.config import ConfigError, Settings
from appliance.config_fields import env_name
from appliance.secret import SecretError
from appliance.storage import HistoryUnavailable
from statuscore import console_command, doctor, probe, remote, restore, serve, user


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"statuscore {__version__}")
        return 0
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    _setup_logging()
    os.umask(0o077)  # data files, secret and backups readable by the service user only
    try:
        return args.handler(args) or 0
    except (ConfigError, SecretError, HistoryUnavailable) as exc:
        print(f"statuscore: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statuscore", description="Self-hosted uptime monitoring.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    # In the order `statuscore --help` lists them.
    for command in (serve, user, probe, remote, restore, doctor, console_command):
        command.add_to(commands)
    return parser


def _setup_logging() -> None:
    # Read alone, before any command builds its Settings: a setting that fails them is logged too.
    level = os.environ.get(env_name("log_level"), Settings.log_level).upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
