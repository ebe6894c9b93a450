"""The secret and the data files are private (files 0600, folders 0700) even when the caller's
umask is permissive (022): `statuscore serve` (secret, SQLite and its WAL, DuckDB and its WAL, the
temporary files of a backup), `statuscore user add`, `statuscore probe` (its spool), `statuscore
backup` (the archive) and `statuscore restore` (the restored data dir)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.appliance import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, ApplianceProcess
from tests.support.net import wait_for

pytestmark = pytest.mark.slow


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def loose(root: Path) -> list[str]:
    """Everything under `root` (itself included) that group or others may touch."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {oct(mode)}")
    return found


def statuscore(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "statuscore", *args], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=60, env={**os.environ, **(env or {})})


def test_it_keeps_the_data_dir_private_under_a_permissive_umask(tmp_path):
    data_dir = tmp_path / "data"
    with umask(0o022):
        data_dir.mkdir(mode=0o755)  # made by someone else, readable by all: tightened at start
        proc = ApplianceProcess(data_dir).start()
        try:
            api, admin = proc.api, proc.admin()
            api.create_monitor(admin, name="API", type="http", target="http://127.0.0.1:9/", interval=10)
            wait_for(lambda: api.get("/api/admin/engine", admin).json()["history_rows_written"] >= 1, timeout=10,
                     message="a result written to the history")
            backup = api.get("/api/admin/backup", admin)  # makes (and removes) temporary files in the data dir
            assert backup.status_code == 200
            assert {p.name for p in data_dir.iterdir()} >= {"secret", "statuscore.sqlite", "history.duckdb"}
            assert loose(data_dir) == []
            archive = tmp_path / "backup.tar.gz"
            made = statuscore("backup", "--output", str(archive), "--server", proc.url, "--email", ADMIN_EMAIL,
                              env={"STATUSCORE_PASSWORD": ADMIN_PASSWORD})
            assert made.returncode == 0, made.stderr
        finally:
            proc.stop()
        assert loose(data_dir) == []
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600

        restored = tmp_path / "restored"
        done = statuscore("restore", str(archive), "--data-dir", str(restored))
        assert done.returncode == 0, done.stderr
        assert loose(restored) == []

        users = tmp_path / "users"
        added = statuscore("user", "add", "--data-dir", str(users), "--email", "ops@example.test",
                           "--password-stdin", stdin="long-enough-password\n")
        assert added.returncode == 0, added.stderr
        assert loose(users) == []


def test_it_keeps_a_probes_spool_private_under_a_permissive_umask(tmp_path):
    spool = tmp_path / "probe"
    with umask(0o022):
        proc = subprocess.Popen([sys.executable, "-m", "statuscore", "probe", "--server", "http://127.0.0.1:9",
                                 "--token", "scp_nothing-listens-there", "--location", "lab", "--data-dir", str(spool)],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: spool.exists() and any(spool.iterdir()), timeout=15, message="the probe's spool")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert loose(spool) == []


def test_it_makes_a_world_readable_secret_private_and_says_so(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    secret = data_dir / "secret"
    secret.write_text("s" * 48 + "\n")
    secret.chmod(0o644)  # e.g. copied in from a backup by hand
    proc = ApplianceProcess(data_dir).start()
    try:
        assert proc.api.get("/api/auth/me", proc.admin()).status_code == 200  # the same secret, still used
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    finally:
        proc.stop()
    said = [line for line in proc.log().splitlines() if "secret file" in line]
    assert len(said) == 1 and "mode 0644" in said[0] and "set it to 0600" in said[0], said
    assert secret.read_text() == "s" * 48 + "\n"
