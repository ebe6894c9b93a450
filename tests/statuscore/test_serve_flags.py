"""`serve`'s flags come from the settings' one declaration (appliance/config.py): one per setting
declared with flag help, read as its STATUSCORE_* variable is, and winning over it."""

from __future__ import annotations

import os
from dataclasses import fields

import pytest

from appliance.config import Settings
from appliance.config_fields import declared, default_of, env_name, flag_name, shown
from statuscore.cli import build_parser
from statuscore.settings_flags import load_settings

FLAGGED = [f for f in fields(Settings) if declared(f).flag]
# Values other than the defaults, where the default would prove little.
SAMPLES = {"host": "::1", "port": "9090", "rate_limit": "5/second", "trusted_proxies": "127.16.0.0/12, 127.0.0.1",
           "location": "eu-1", "dns_servers": "127.0.0.53,[::1]:5353", "whois_server": "whois.example:4343",
           "ca_file": "/etc/ssl/private-ca.pem", "header_timeout": "2.5", "quorum": "0.25", "free_max_monitors": "0"}


def serve_flags() -> dict[str, str]:
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    return {action.option_strings[0]: action.dest for action in serve._actions if action.dest != "help"}


def sample(f) -> str:
    return SAMPLES.get(f.name) or shown(default_of(f))


def test_it_has_a_flag_for_each_setting_declared_with_one_and_no_other():
    assert serve_flags() == {flag_name(f.name): f.name for f in FLAGGED}
    assert {"admin_password", "secret", "webhook_backoff"}.isdisjoint(serve_flags().values())  # environment only


def test_it_reads_a_flag_as_the_environment_reads_its_variable(tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("STATUSCORE_")]:
        monkeypatch.delenv(name)
    texts = {f.name: "true" if f.type == "bool" else sample(f) for f in FLAGGED}
    texts["data_dir"] = str(tmp_path)
    # A switch (--cluster) is given bare, as its variable is "true"; cluster mode needs a database.
    argv = ["serve"] + [part for f in FLAGGED
                        for part in ((flag_name(f.name),) if f.type == "bool" else (flag_name(f.name), texts[f.name]))]
    database = "postgresql://statuscore@db.example:5432/statuscore"
    monkeypatch.setenv("STATUSCORE_DATABASE_URL", database)
    from_flags = load_settings(build_parser().parse_args(argv))
    from_env = Settings.load(env={**{env_name(name): text for name, text in texts.items()},
                                  "STATUSCORE_DATABASE_URL": database})
    assert from_flags.cluster is True
    assert from_flags == from_env
    assert (from_flags.port, from_flags.quorum, from_flags.trusted_proxies) == (9090, 0.25, ("127.16.0.0/12", "127.0.0.1"))


def test_a_flag_wins_over_its_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("STATUSCORE_PORT", "7070")
    monkeypatch.setenv("STATUSCORE_MTR_CONCURRENCY", "3")
    settings = load_settings(build_parser().parse_args(["serve", "--port", "9090", "--data-dir", str(tmp_path)]))
    assert (settings.port, settings.mtr_concurrency, settings.data_dir) == (9090, 3, tmp_path)


@pytest.mark.parametrize("flag", [f for f in FLAGGED if f.type in ("int", "float")], ids=lambda f: f.name)
def test_it_refuses_text_for_a_number_as_a_usage_error(flag, capsys):
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["serve", flag_name(flag.name), "many"])
    assert caught.value.code == 2 and f"{flag_name(flag.name)}: invalid" in capsys.readouterr().err

