"""Backups through the running appliance (DuckDB admits no second process) and a restore into
an empty data dir that brings back the monitors, their history and the logins."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tests.support.appliance import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer

pytestmark = pytest.mark.slow


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "statuscore", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_it_backs_up_a_running_appliance_and_restores_it_elsewhere(tmp_path):
    with HttpPeer() as peer:
        proc = ApplianceProcess(tmp_path / "live").start()
        try:
            admin = proc.admin()
            monitor = proc.api.create_monitor(admin, name="Website", type="http", target=peer.url + "/", interval=10)
            url = f"/api/monitors/{monitor['id']}/history"
            wait_for(lambda: proc.api.get(url, admin).json()["history"], timeout=20, message="a stored result")
            archive = tmp_path / "backup.tar.gz"
            done = cli("backup", "--output", str(archive), "--server", proc.url, "--email", ADMIN_EMAIL,
                       env={"STATUSCORE_PASSWORD": ADMIN_PASSWORD})
            assert done.returncode == 0, done.stderr
            assert stat.S_IMODE(archive.stat().st_mode) == 0o600
            stored = len(proc.api.get(url, admin).json()["history"])
        finally:
            proc.stop()

        refused = cli("restore", str(archive), "--data-dir", str(tmp_path / "live"))
        assert refused.returncode == 1 and "not empty" in refused.stderr

        restored_dir = tmp_path / "restored"
        done = cli("restore", str(archive), "--data-dir", str(restored_dir))
        assert done.returncode == 0, done.stderr
        assert stat.S_IMODE(restored_dir.stat().st_mode) == 0o700
        proc = ApplianceProcess(restored_dir).start()
        try:
            admin = proc.admin()  # the same login works
            monitors = proc.api.get("/api/monitors", admin).json()
            assert [m["name"] for m in monitors] == ["Website"]
            assert len(proc.api.get(url, admin).json()["history"]) >= stored >= 1
        finally:
            proc.stop()


def test_it_explains_a_backup_without_a_running_appliance(tmp_path):
    done = cli("backup", "--output", str(tmp_path / "b.tar.gz"), "--server", "http://127.0.0.1:9",
               env={"STATUSCORE_TOKEN": "x"})
    assert done.returncode == 1 and "is the appliance running" in done.stderr


def test_it_refuses_to_restore_something_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tarball")
    done = cli("restore", str(bogus), "--data-dir", str(tmp_path / "new"))
    assert done.returncode == 1 and "not a StatusCore backup" in done.stderr
