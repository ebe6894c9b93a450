"""The data disk runs full under a running appliance, and space comes back.

The data dir is a small tmpfs of its own (mounting needs root: skipped otherwise, saying so).
100 http monitors at a 10 s interval write results all the time; the test fills the disk, makes
some monitors fail (so status changes must be saved too), then frees the space. While it is full:
- the log says what is wrong and what to do, once, on one line each (no traceback);
- the API keeps answering: logins, the monitor list, one monitor, the engine status; a write is
  refused with 503 and a sentence, not a 500;
- the engine keeps checking, and the results are kept in memory.
When space returns the results held in memory are written (none of the full period is missing),
the status changes are saved with their incidents and their alerts go out (once each), writes
work again; and after a restart both stores open with everything written before intact.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.reliability.stores import duckdb_rows, duplicate_results, events_by_monitor, sqlite_rows
from tests.support.appliance import ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer
from tests.support.receiver import Receiver

pytestmark = pytest.mark.slow

MONITORS, FAILING = 100, 10


def _cannot_mount() -> str | None:
    if os.geteuid() != 0:
        return "mounting a small tmpfs as the data disk needs root"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "mount/umount are not installed"
    return None


@pytest.fixture
def small_disk(tmp_path):
    """A 32 MiB tmpfs mounted for this test only (unmounted whatever happens)."""
    reason = _cannot_mount()
    if reason:
        pytest.skip(reason)
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(disk)],
                             capture_output=True, text=True, timeout=30)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


def fill(path: Path) -> None:
    """Write `path` until the disk has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            block = b"\0" * size
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    finally:
        os.close(fd)


def test_it_keeps_answering_and_recovers_when_the_data_disk_is_full(small_disk):
    data_dir = small_disk / "data"
    filler = small_disk / "filler"
    with HttpPeer() as peer, Receiver() as receiver:
        proc = ApplianceProcess(data_dir)
        proc.log_path = small_disk.parent / "serve.log"  # the log lives on another disk (as in journald)
        proc.start()
        try:
            api, admin = proc.api, proc.admin()

            def engine() -> dict:
                response = api.get("/api/admin/engine", admin)
                assert response.status_code == 200, response.text
                return response.json()

            hook = api.post("/api/settings/webhooks", admin, json={"url": receiver.url, "events": ["monitor.down"]})
            assert hook.status_code == 201, hook.text
            ids = [api.create_monitor(admin, name=f"m{n}", type="http", target=f"{peer.url}/m/{n}/", interval=10,
                                      timeout=5, retries=0)["id"] for n in range(MONITORS)]
            failing = set(ids[:FAILING])
            wait_for(lambda: engine()["history_rows_written"] >= MONITORS, timeout=20,
                     message="a first result of every monitor on disk")
            written_before = engine()["history_rows_written"]

            fill(filler)
            full_at = datetime.now(timezone.utc)
            checks = engine()["checks_completed"]
            peer.fail_paths(*(f"/m/{n}/" for n in range(FAILING)))
            status = wait_for(lambda: (s := engine())["history_write_error"] and s, timeout=30, interval=0.5,
                              message="the history writer to meet the full disk")
            assert "No space left on device" in status["history_write_error"]
            # Every failing monitor has been checked while full: their changes could not be saved.
            wait_for(lambda: "cannot save monitor status changes" in proc.log(), timeout=20,
                     message="a status change refused by the full disk")

            # The API answers: reads, logins; a write is refused in a sentence.
            assert api.get("/api/monitors", admin).status_code == 200
            assert api.get(f"/api/monitors/{ids[0]}", admin).status_code == 200
            assert api.get(f"/api/monitors/{ids[0]}/history", admin).status_code == 200
            assert proc.admin().token
            refused = api.post("/api/monitors", admin, json={"name": "new", "type": "http", "target": peer.url,
                                                            "interval": 10})
            assert refused.status_code == 503, refused.text
            assert "free space" in refused.json()["error"]
            # A whole round (each monitor once per interval) checked while the disk is full.
            wait_for(lambda: engine()["checks_completed"] > checks + MONITORS + 5, timeout=30, interval=0.5,
                     message="the engine to go on checking while the disk is full")
            full_until = datetime.now(timezone.utc)

            filler.unlink()
            wait_for(lambda: engine()["history_write_error"] is None, timeout=15,
                     message="history writes to resume once space is back")
            # The failing monitors' changes are saved at their next checks.
            wait_for(lambda: all(m["status"] == ("down" if m["id"] in failing else "up")
                                 for m in api.get("/api/monitors", admin).json()),
                     timeout=25, interval=0.5, message="the failing monitors down, with their changes saved")
            created = api.post("/api/monitors", admin, json={"name": "new", "type": "http", "target": peer.url,
                                                            "interval": 10})
            assert created.status_code == 201, created.text
            # The alerts of the changes saved late go out, each once.
            alerts = receiver.wait_until(lambda got: len(got) >= FAILING, timeout=20, message="the down alerts")
            assert sorted(m.json()["monitor"]["id"] for m in alerts) == sorted(failing)
            log = proc.log()
        finally:
            assert proc.stop() == 0, proc.log()[-3000:]

        assert len(receiver.messages) == FAILING  # none twice
        # ---- the log: what and what to do, once, one line each ------------------------------
        assert "Traceback" not in log, log[-4000:]
        errors = [line for line in log.splitlines() if " ERROR " in line]
        for needle in ("cannot write check results", "cannot save monitor status changes"):
            lines = [line for line in errors if needle in line]
            assert len(lines) == 1, (needle, errors)
            assert "No space left on device" in lines[0] or "disk is full" in lines[0], lines[0]
            assert "free disk space" in lines[0], lines[0]
        assert all("free" in line for line in errors if "space" in line or "full" in line), errors
        assert "writing check results again" in log and "saving monitor status changes again" in log

        # ---- nothing lost, nothing twice, both stores intact after a restart --------------------
        proc = ApplianceProcess(data_dir, port=proc.port)
        proc.log_path = small_disk.parent / "serve-again.log"
        proc.start()
        try:
            api, admin = proc.api, proc.admin()
            assert len(api.get("/api/monitors", admin).json()) == MONITORS + 1
            assert api.get(f"/api/monitors/{ids[0]}", admin).json()["status"] == "down"
        finally:
            assert proc.stop() == 0, proc.log()[-3000:]

    assert sqlite_rows(data_dir, "PRAGMA integrity_check") == [("ok",)]
    assert duplicate_results(data_dir) == []
    [(total,)] = duckdb_rows(data_dir, "SELECT count(*) FROM results")
    assert total >= written_before
    held = dict(duckdb_rows(data_dir, "SELECT monitor_id, count(*) FROM results WHERE checked_at BETWEEN ? AND ? "
                                      "GROUP BY monitor_id", full_at.replace(tzinfo=None),
                            full_until.replace(tzinfo=None)))
    assert set(held) == set(ids), "results checked while the disk was full were lost"
    events = events_by_monitor(data_dir)
    assert {m: events.get(m) for m in failing} == {m: ["monitor.down"] for m in failing}
    assert not set(events) - failing
    open_incidents = sqlite_rows(data_dir, "SELECT monitor_id FROM incident WHERE resolved_at IS NULL")
    assert sorted(m for (m,) in open_incidents) == sorted(failing)
