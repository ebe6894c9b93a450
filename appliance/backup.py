"""Backups of a running appliance and restores into an empty data dir.

DuckDB allows no second process on its file, so a backup is taken by the appliance itself:
SQLite through its online backup API, the history on the writer thread (after the queued rows
are written) with DuckDB's COPY FROM DATABASE. The archive also holds the secret, so restored
logins and webhook signatures keep working: keep backups as private as the data dir.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from appliance import __version__
from appliance.timeutil import iso, utcnow

MEMBERS = ("statuscore.sqlite", "history.duckdb", "secret")
MANIFEST = "MANIFEST.json"


class BackupError(RuntimeError):
    pass


def create_backup(appliance, destination: Path) -> dict:
    """Write a .tar.gz backup of the appliance's stores to `destination`; returns the manifest."""
    settings = appliance.settings
    with tempfile.TemporaryDirectory(dir=settings.data_dir, prefix=".backup-") as tmp:
        work = Path(tmp)
        source = sqlite3.connect(settings.entities_path)
        target = sqlite3.connect(work / "statuscore.sqlite")
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        appliance.history.copy_to(work / "history.duckdb")
        if settings.secret_path.exists():
            shutil.copyfile(settings.secret_path, work / "secret")
        manifest = {"format": 1, "version": __version__, "created_at": iso(utcnow()),
                    "results": appliance.history.count(), "monitors": len(appliance.entities.list_monitors())}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
            for name in (MANIFEST, *MEMBERS):
                if (work / name).exists():
                    tar.add(work / name, arcname=name)
    return manifest


def restore_backup(archive: Path, data_dir: Path) -> dict:
    """Unpack a backup into an empty (or new) data dir; refuses anything else."""
    data_dir = Path(data_dir)
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty; restore into a new or empty data dir")
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} is not a StatusCore backup ({exc})") from None
    with tar:
        names = tar.getnames()
        if MANIFEST not in names or "statuscore.sqlite" not in names:
            raise BackupError(f"{archive} is not a StatusCore backup (no manifest or entity store)")
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)
        for name in (MANIFEST, *MEMBERS):
            if name not in names:
                continue
            member = tar.getmember(name)
            if not member.isfile():  # only plain files with our fixed names: no paths, no links
                raise BackupError(f"{archive} has an unexpected entry {name!r}")
            source = tar.extractfile(member)
            target = data_dir / name
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out)
        manifest = json.loads((data_dir / MANIFEST).read_text())
        (data_dir / MANIFEST).unlink()
    return manifest
