"""The data dir's instance id: a random name made once per data dir, so `statuscore doctor` can
tell the appliance serving this data dir from another one holding the same port (it asks
GET /api/health, which shows the id). Not a secret: it only tells appliances apart."""

from __future__ import annotations

import secrets
from pathlib import Path


def load_or_create_instance_id(path: Path) -> str | None:
    """The id kept at `path`, made on first use; None when it can be neither read nor written
    (a read-only data dir: the appliance still serves, doctor just cannot compare)."""
    found = read_instance_id(path)
    if found:
        return found
    made = secrets.token_hex(8)
    try:
        path.write_text(made + "\n", encoding="utf-8")
    except OSError:
        return None
    return made


def read_instance_id(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None
