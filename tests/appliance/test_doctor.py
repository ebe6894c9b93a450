"""`statuscore doctor` names each problem and what to do about it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from appliance.config import Settings
from appliance.doctor import run_checks
from tests.support.appliance import ROOT, ApplianceProcess
from tests.support.net import free_port


def checks(tmp_path, **values):
    settings = Settings.load({"data_dir": tmp_path / "data", "port": free_port(), **values}, env={})
    return {c.name: c for c in run_checks(settings)}


def test_it_passes_on_a_fresh_machine(tmp_path):
    result = checks(tmp_path)
    assert result["data dir"].ok and result["secret"].ok and result["port"].ok


def test_it_flags_a_data_dir_and_secret_others_can_read(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    (data / "secret").write_text("s" * 64)
    os.chmod(data / "secret", 0o644)
    result = checks(tmp_path)
    assert not result["data dir"].ok and "chmod 700" in result["data dir"].message
    assert not result["secret"].ok and "chmod 600" in result["secret"].message


def test_it_flags_a_port_in_use(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = checks(tmp_path, port=port)
    assert not result["port"].ok and "another --port" in result["port"].message


def test_the_command_exits_non_zero_when_something_needs_fixing(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        done = subprocess.run([sys.executable, "-m", "statuscore", "doctor", "--data-dir", str(tmp_path / "d"),
                               "--port", str(sock.getsockname()[1])], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 1
    assert "FIX  port" in done.stdout


def test_it_accepts_a_port_taken_by_this_data_dirs_appliance(server):
    settings = Settings.load({"data_dir": server.settings.data_dir, "port": server.settings.port}, env={})
    port = {c.name: c for c in run_checks(settings)}["port"]  # doctor run next to the live service
    assert port.ok and "this data dir's StatusCore appliance answers" in port.message


def doctor(data_dir, port: int) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "statuscore", "doctor", "--data-dir", str(data_dir),
                           "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    line = next(line for line in done.stdout.splitlines() if line[5:].startswith("port:"))
    return done.returncode, line


def test_it_says_so_when_another_data_dirs_appliance_holds_the_port(tmp_path):
    """The issue: `ok port` while a different appliance (another data dir) answered there."""
    theirs = ApplianceProcess(tmp_path / "theirs").start()
    try:
        code, line = doctor(tmp_path / "ours", theirs.port)  # never served: not the one answering
        assert code == 1
        assert line.startswith("FIX  port:") and "a different StatusCore appliance answers there" in line
        assert str(tmp_path / "ours") in line and "choose another --port" in line

        served = ApplianceProcess(tmp_path / "served", port=free_port()).start()  # a data dir with its own id
        served.stop()
        code, line = doctor(tmp_path / "served", theirs.port)
        assert line.startswith("FIX  port:") and "different StatusCore appliance" in line

        code, line = doctor(tmp_path / "theirs", theirs.port)  # its own data dir: fine
        assert line.startswith("ok   port:") and "this data dir's StatusCore appliance answers" in line
    finally:
        theirs.stop()


def test_it_checks_the_postgresql_database_when_one_is_set(tmp_path, postgres_url):
    ok = checks(tmp_path, database_url=postgres_url)["database"]
    assert ok.ok and "PostgreSQL 1" in ok.message
    bad = checks(tmp_path, database_url=postgres_url.replace("?host=", "?host=/nonexistent"))["database"]
    assert not bad.ok and "STATUSCORE_DATABASE_URL" in bad.message


def test_it_has_no_database_line_for_the_embedded_stores(tmp_path):
    assert "database" not in checks(tmp_path)
