"""`statuscore doctor` names each problem and what to do about it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from appliance.config import Settings
from appliance.doctor import run_checks
from tests.support.appliance import ROOT
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


def test_it_accepts_a_port_taken_by_a_running_appliance(tmp_path, server):
    result = checks(tmp_path, port=server.settings.port)  # doctor run next to the live service
    assert result["port"].ok and "StatusCore appliance answers" in result["port"].message


def test_it_checks_the_postgresql_database_when_one_is_set(tmp_path, postgres_url):
    ok = checks(tmp_path, database_url=postgres_url)["database"]
    assert ok.ok and "PostgreSQL 1" in ok.message
    bad = checks(tmp_path, database_url=postgres_url.replace("?host=", "?host=/nonexistent"))["database"]
    assert not bad.ok and "STATUSCORE_DATABASE_URL" in bad.message


def test_it_has_no_database_line_for_the_embedded_stores(tmp_path):
    assert "database" not in checks(tmp_path)
