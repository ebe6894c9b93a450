"""`./install.sh` shows that it is working while pip installs (it used to be silent for ~50 s).

The real install.sh runs on a copy of itself next to a small package whose one dependency comes
from a package index served on 127.0.0.1 that answers slowly (a real local peer: pip talks HTTP
to it), so the install lasts a few seconds: long enough to see the progress lines, and nothing
ever reaches the internet. Piped (CI), it prints a plain line now and then; on a terminal, one
line redrawn in place."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import select
import shutil
import subprocess
import sys
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from tests.support.appliance import ROOT

pytestmark = pytest.mark.slow

DELAY = 2.0  # seconds the index takes per answer

# The package's build backend, in the package (PEP 517 backend-path): no build requirements, so
# pip needs nothing from an index to build it.
BACKEND = '''
import base64, hashlib, zipfile

def _wheel(directory):
    name = "statuscore-0.0.1-py3-none-any.whl"
    files = {
        "statuscore/__init__.py": "",
        "statuscore-0.0.1.dist-info/METADATA": "Metadata-Version: 2.1\\nName: statuscore\\nVersion: 0.0.1\\n"
                                               "Requires-Dist: slowdep\\n",
        "statuscore-0.0.1.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\n"
                                            "Tag: py3-none-any\\n",
    }
    record = ""
    with zipfile.ZipFile(f"{directory}/{name}", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record += f"{path},sha256={digest},{len(text.encode())}\\n"
        whl.writestr("statuscore-0.0.1.dist-info/RECORD", record + "statuscore-0.0.1.dist-info/RECORD,,\\n")
    return name

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory)

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory)
'''

PYPROJECT = '''[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "statuscore"
version = "0.0.1"
dependencies = ["slowdep"]
'''


def slowdep_wheel() -> bytes:
    files = {"slowdep/__init__.py": "",
             "slowdep-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: slowdep\nVersion: 1.0\n",
             "slowdep-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                            "Tag: py3-none-any\n"}
    buffer, record = io.BytesIO(), ""
    with zipfile.ZipFile(buffer, "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record += f"{path},sha256={digest},{len(text.encode())}\n"
        whl.writestr("slowdep-1.0.dist-info/RECORD", record + "slowdep-1.0.dist-info/RECORD,,\n")
    return buffer.getvalue()


class SlowIndex:
    """A PEP 503 simple index on 127.0.0.1 with one project, slowdep, each answer DELAY late."""

    def __init__(self):
        wheel = slowdep_wheel()
        digest = hashlib.sha256(wheel).hexdigest()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                time.sleep(DELAY)
                if self.path.rstrip("/") == "/simple/slowdep":
                    body, kind = (f'<a href="/files/slowdep-1.0-py3-none-any.whl#sha256={digest}">'
                                  "slowdep-1.0-py3-none-any.whl</a>").encode(), "text/html"
                elif self.path == "/files/slowdep-1.0-py3-none-any.whl":
                    body, kind = wheel, "application/octet-stream"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        self.thread = Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of install.sh beside the small package, as a checkout would have it."""
    shutil.copy(ROOT / "install.sh", tmp_path / "install.sh")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "backend.py").write_text(BACKEND)
    return tmp_path


def environment(index: SlowIndex) -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))},
            "PYTHON": sys.executable, "PIP_INDEX_URL": index.url, "PIP_RETRIES": "0", "PIP_TIMEOUT": "30",
            "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "STATUSCORE_PROGRESS_SECONDS": "1"}


def test_piped_it_prints_a_plain_progress_line_now_and_then(checkout):
    with SlowIndex() as index:
        done = subprocess.run([str(checkout / "install.sh")], cwd=checkout, env=environment(index),
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("Installing StatusCore into") for line in lines), done.stdout
    assert "  [1/2] updating pip" in lines and any(line.startswith("  [2/2] installing") for line in lines)
    progress = [line for line in lines if line.strip().startswith("... ")]
    assert progress, done.stdout  # the wait is shown, not silent
    assert any("package(s) so far: Collecting slowdep" in line for line in progress), done.stdout
    assert any(line.strip().startswith("done in ") for line in lines)
    assert "\r" not in done.stdout and "\x1b" not in done.stdout  # plain lines for logs
    assert lines[-1].startswith("Ready: ")
    assert (checkout / ".venv" / "pip.log").read_text().count("Collecting slowdep") == 1


def test_on_a_terminal_it_redraws_one_progress_line(checkout):
    with SlowIndex() as index:
        master, slave = os.openpty()
        proc = subprocess.Popen([str(checkout / "install.sh")], cwd=checkout, env=environment(index),
                                stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        raw = b""
        deadline = time.monotonic() + 300
        try:
            while proc.poll() is None or select.select([master], [], [], 0)[0]:
                assert time.monotonic() < deadline, raw.decode(errors="replace")
                if select.select([master], [], [], 0.2)[0]:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    raw += chunk
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            os.close(master)
    text = raw.decode(errors="replace")
    assert proc.returncode == 0, text
    redraws = [part for part in text.split("\r") if "package(s):" in part]
    assert redraws, text  # redrawn in place (\r), with the elapsed seconds and pip's step
    assert any(" s, 1 package(s): Collecting slowdep" in part for part in redraws), text
    assert "\x1b[K" in text and "... " not in text  # no plain log lines on a terminal
    assert "Ready: " in text
