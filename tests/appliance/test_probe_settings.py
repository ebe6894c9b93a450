"""The multi-location settings from the environment and `serve` flags: numbers, not text (a
text quorum once made `statuscore serve` die with a TypeError), and refused when out of range."""

from __future__ import annotations

import pytest

from statuscore.cli import build_parser
from appliance.config import ConfigError, Settings


def test_it_reads_the_probe_settings_from_the_environment_as_numbers(tmp_path):
    settings = Settings.load({"data_dir": tmp_path}, env={
        "STATUSCORE_QUORUM": "0.66", "STATUSCORE_PROBE_OFFLINE_AFTER": "3",
        "STATUSCORE_PROBE_MAX_AGE": "3600", "STATUSCORE_MAINTENANCE_INTERVAL": "60"})
    assert (settings.quorum, settings.probe_offline_after, settings.probe_max_age) == (0.66, 3.0, 3600.0)
    assert settings.maintenance_interval == 60.0


def test_it_takes_the_probe_settings_as_serve_flags_over_the_environment(tmp_path):
    args = build_parser().parse_args(["serve", "--quorum", "0.25", "--probe-offline-after", "30",
                                      "--probe-max-age", "7200"])
    settings = Settings.load({"data_dir": tmp_path, "quorum": args.quorum,
                              "probe_offline_after": args.probe_offline_after, "probe_max_age": args.probe_max_age},
                             env={"STATUSCORE_QUORUM": "0.75"})
    assert (settings.quorum, settings.probe_offline_after, settings.probe_max_age) == (0.25, 30.0, 7200.0)


@pytest.mark.parametrize("name, value", [
    ("QUORUM", "1"), ("QUORUM", "-0.1"), ("QUORUM", "half"),
    ("PROBE_OFFLINE_AFTER", "0"), ("PROBE_OFFLINE_AFTER", "soon"),
    ("PROBE_MAX_AGE", "10"), ("PROBE_MAX_AGE", "604800"),  # beyond the 2 days deduplication covers
])
def test_it_refuses_an_unusable_probe_setting_with_a_message(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name.lower() + "|" + name):
        Settings.load({"data_dir": tmp_path}, env={f"STATUSCORE_{name}": value})
