"""Settings from a command's flags over the environment."""

from __future__ import annotations

import argparse

from appliance.config import Settings


def load_settings(args: argparse.Namespace, names: tuple[str, ...]) -> Settings:
    return Settings.load({name: getattr(args, name, None) for name in names})
