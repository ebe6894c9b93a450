"""Command-line flags for settings, derived from their one declaration (appliance/config.py), and
the Settings a command's flags give over the environment."""

from __future__ import annotations

import argparse
from dataclasses import fields

from appliance.config import TYPES, Settings
from appliance.config_fields import declared, flag_name, with_default

_FIELDS = {f.name: f for f in fields(Settings)}


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for every setting declared with one (`serve`'s), in declaration order."""
    for name, f in _FIELDS.items():
        if declared(f).flag:
            add_setting_flag(parser, name)


def add_setting_flag(parser: argparse.ArgumentParser, name: str, help: str | None = None) -> None:
    """One setting's flag; `help` words it for a command other than `serve`."""
    kind = TYPES[name]
    if kind is bool:  # a switch: given means on
        parser.add_argument(flag_name(name), action="store_const", const=True, default=None,
                            help=help or with_default(declared(_FIELDS[name]).flag or "", _FIELDS[name]))
        return
    # Numbers are checked by argparse (a usage error); other text is read by Settings.load, as the
    # environment's is. No default: None means "not given", so the environment's value stands.
    parser.add_argument(flag_name(name), type=kind if kind in (int, float) else None,
                        help=help or with_default(declared(_FIELDS[name]).flag or "", _FIELDS[name]))


def load_settings(args: argparse.Namespace) -> Settings:
    """Settings from the setting flags this command has (a namespace entry named like a setting),
    over the environment, over the defaults."""
    given = vars(args)
    return Settings.load({name: given[name] for name in _FIELDS if name in given})
