"""How a setting is declared, once: a field of appliance.config.Settings made with `setting(...)`.

Its environment variable (STATUSCORE_<NAME>) and `serve` flag (--<name>) follow from its name, how
their text is read follows from its type, and its metadata holds what `statuscore serve --help`
and README's Configuration table say about it. statuscore/settings_flags.py builds the flags from
it and statuscore/config_table.py the README table.
"""

from __future__ import annotations

import types
from dataclasses import MISSING, Field, dataclass, field
from pathlib import Path
from typing import Any, Callable, Union, get_args, get_origin

ENV_PREFIX = "STATUSCORE_"
SAME_ROW = "same row as the setting above"  # `doc` of a setting README lists with the one before it


@dataclass(frozen=True)
class Declared:
    flag: str | None  # help of its `serve` flag; None: set in the environment only
    doc: str | None  # README's "meaning" column; None: not in the table; SAME_ROW: in the row above
    doc_default: str  # README's "default" column
    doc_name: str | None  # how README writes the variable when not in full (`..._WEBHOOKS`)


def setting(default: Any = MISSING, *, default_factory: Any = MISSING, flag: str | None = None,
            doc: str | None = None, doc_default: str = "`{default}`", doc_name: str | None = None) -> Any:
    """A Settings field. In `flag` and `doc_default`, {default} stands for the default value as
    shown (so neither can go stale when the default changes)."""
    return field(default=default, default_factory=default_factory,
                 metadata={"setting": Declared(flag, doc, doc_default, doc_name)})


def declared(f: Field) -> Declared:
    return f.metadata.get("setting") or Declared(None, None, "", None)


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def default_of(f: Field) -> Any:
    return f.default_factory() if f.default is MISSING else f.default


def shown(value: Any) -> str:
    """A value as help and README write it: 90 not 90.0, a tuple comma-separated."""
    if isinstance(value, tuple):
        return ",".join(shown(part) for part in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def with_default(text: str, f: Field) -> str:
    return text.format(default=shown(default_of(f))) if "{default}" in text else text


def _words(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _numbers(raw: str) -> tuple[float, ...]:
    return tuple(float(part) for part in raw.split(",") if part.strip())


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _bool(text: str) -> bool:
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)


_READERS: dict[Any, Callable[[str], Any]] = {
    bool: _bool, int: int, float: float, Path: _path, tuple[str, ...]: _words, tuple[float, ...]: _numbers,
}


def reader(kind: Any) -> Callable[[str], Any]:
    """How the text of a setting of this type is read (text settings are kept as they are);
    raises ValueError for text that is not such a value."""
    if get_origin(kind) in (Union, types.UnionType):  # `str | None`: the type without None
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    return _READERS.get(kind, str)
