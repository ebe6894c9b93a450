"""README's Configuration table is the one generated from the settings' declaration, so the
documentation cannot drift from the code."""

from __future__ import annotations

from appliance.config_fields import SAME_ROW, declared, env_name, flag_name
from statuscore.config_table import README, readme_table, rows, table


def test_readme_holds_the_generated_configuration_table():
    assert readme_table(README.read_text(encoding="utf-8")) == table(), (
        "README's Configuration table differs from appliance/config.py: run python -m statuscore.config_table --write")


def test_it_groups_settings_into_the_rows_readme_shows():
    lines = table().splitlines()
    host = next(line for line in lines if line.startswith(f"| `{env_name('host')}`"))
    assert host == "| `STATUSCORE_HOST`, `STATUSCORE_PORT` | `--host`, `--port` | where the API listens | `127.0.0.1`, `8080` |"
    admin = next(line for line in lines if "ADMIN_EMAIL" in line)
    assert admin.startswith("| `STATUSCORE_ADMIN_EMAIL`, `STATUSCORE_ADMIN_PASSWORD` | | first admin")
    assert all(declared(row[0]).doc not in (None, SAME_ROW) for row in rows())
    assert len(lines) == 2 + len(rows())


def test_it_shows_a_changed_default_without_anyone_editing_readme(monkeypatch):
    from appliance.config import Settings

    monkeypatch.setattr(Settings.__dataclass_fields__["retention_days"], "default", 30)
    line = next(line for line in table().splitlines() if flag_name("retention_days") in line)
    assert line.endswith("| days of raw results kept | `30` |")
