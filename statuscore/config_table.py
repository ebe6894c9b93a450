"""README's Configuration table, generated from the settings' one declaration (appliance/config.py),
so the documentation cannot drift from the code. tests/statuscore/test_config_table.py checks that
README holds exactly this table; after changing a setting, rewrite it with

    python -m statuscore.config_table --write
"""

from __future__ import annotations

import sys
from dataclasses import Field, fields
from pathlib import Path

from appliance.config import Settings
from appliance.config_fields import SAME_ROW, declared, env_name, flag_name, with_default

README = Path(__file__).resolve().parents[1] / "README.md"
HEADER = ("| variable | flag | meaning | default |", "|---|---|---|---|")


def rows() -> list[list[Field]]:
    """The documented settings, grouped into README's rows (a SAME_ROW setting joins the one above)."""
    grouped: list[list[Field]] = []
    for f in fields(Settings):
        doc = declared(f).doc
        if doc == SAME_ROW:
            grouped[-1].append(f)
        elif doc:
            grouped.append([f])
    return grouped


def line(row: list[Field]) -> str:
    variables = ", ".join(f"`{declared(f).doc_name or env_name(f.name)}`" for f in row)
    flags = ", ".join(f"`{flag_name(f.name)}`" for f in row if declared(f).flag)
    defaults = ", ".join(with_default(declared(f).doc_default, f) for f in row)
    cells = (variables, flags, declared(row[0]).doc, defaults)
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def table() -> str:
    return "\n".join([*HEADER, *(line(row) for row in rows())]) + "\n"


def readme_table(text: str) -> str:
    """The table in README's text: from its header to the first line that is not a table row."""
    lines = text.splitlines(keepends=True)
    start = lines.index(HEADER[0] + "\n")
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "".join(lines[start:end])


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        text = README.read_text(encoding="utf-8")
        README.write_text(text.replace(readme_table(text), table()), encoding="utf-8")
    elif argv:
        print("usage: python -m statuscore.config_table [--write]", file=sys.stderr)
        return 2
    else:
        sys.stdout.write(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
