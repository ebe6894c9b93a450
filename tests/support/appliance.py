"""Run the real appliance for tests: as a `statuscore serve` subprocess (the real thing, can be
killed with -9) or in this process with waitress on a thread (faster; gives the test the stores).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests

from tests.support.api import Api, User
from tests.support.net import free_port, wait_for

NOWHERE = "127.0.0.1:9"  # the discard port: refused at once
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "admin-password-1"
ROOT = Path(__file__).resolve().parents[2]
# A password hash at OWASP's scrypt cost (2^17) takes ~0.6 s and 128 MiB here, and the suite creates
# hundreds of users: test appliances are told, by the setting, to hash at 2^14.
TEST_PASSWORD_HASH_COST = 14


def cheap_hasher():
    """For tests that build an EntityStore themselves."""
    from appliance.passwords import PasswordHasher, ScryptCost

    return PasswordHasher(ScryptCost.of(TEST_PASSWORD_HASH_COST))


def _ready(url: str) -> bool:
    try:
        return requests.get(url + "/api/openapi.json", timeout=1).status_code == 200
    except requests.RequestException:
        return False


class ApplianceProcess:
    """`statuscore serve` in a subprocess on a free loopback port.

    `command` runs another `statuscore` (e.g. the PyInstaller binary) instead of this checkout's; it
    then gets a session of its own, so a kill reaches the one-file launcher's child too."""

    def __init__(self, data_dir: Path, env: dict | None = None, args: list[str] | None = None,
                 port: int | None = None, command: list[str] | None = None):
        self.data_dir = Path(data_dir)
        self.command = list(command) if command else [sys.executable, "-m", "statuscore"]
        self.own_session = command is not None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "STATUSCORE_DATA_DIR": str(self.data_dir),
            "STATUSCORE_PORT": str(self.port),
            "STATUSCORE_HOST": "127.0.0.1",
            "STATUSCORE_ADMIN_EMAIL": ADMIN_EMAIL,
            "STATUSCORE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "STATUSCORE_RATE_LIMIT": "100000/minute",
            "STATUSCORE_LOGIN_RATE_LIMIT": "100000/minute",
            "STATUSCORE_PASSWORD_HASH_COST": str(TEST_PASSWORD_HASH_COST),
            # Never the real internet: domain checks ask nobody unless a test sets its own servers.
            "STATUSCORE_DNS_SERVERS": NOWHERE,
            "STATUSCORE_WHOIS_SERVER": NOWHERE,
            **(env or {}),
        }
        self.args = args or []
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-serve.log"

    def start(self, timeout: float = 30.0) -> "ApplianceProcess":
        return self.launch().wait_ready(timeout)

    def launch(self) -> "ApplianceProcess":
        """Start the process without waiting for it: several can then start side by side."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*self.command, "serve", *self.args],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=self.own_session)
        log.close()
        return self

    def wait_ready(self, timeout: float = 30.0) -> "ApplianceProcess":
        try:
            wait_for(lambda: self.proc.poll() is not None or _ready(self.url), timeout=timeout,
                     message=f"statuscore serve on {self.url}")
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise RuntimeError(f"statuscore serve exited with {self.proc.returncode}:\n{self.log()}")
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            return self.proc.wait(5)

    def kill(self) -> None:
        """kill -9: no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self._kill()
            self.proc.wait(5)

    def _kill(self) -> None:
        if self.own_session:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
                return
            except ProcessLookupError:
                pass
        self.proc.kill()

    @property
    def api(self) -> Api:
        return Api(self.url)

    def admin(self) -> User:
        return self.api.login(ADMIN_EMAIL, ADMIN_PASSWORD)


class InProcessAppliance:
    """The Appliance and its Flask app served by waitress on a thread of the test process."""

    def __init__(self, data_dir: Path, **settings):
        from appliance.config import Settings
        from appliance.service import Appliance

        values = {"data_dir": Path(data_dir), "host": "127.0.0.1", "port": free_port(),
                  "admin_email": ADMIN_EMAIL, "admin_password": ADMIN_PASSWORD,
                  "rate_limit": "100000/minute", "login_rate_limit": "100000/minute",
                  "password_hash_cost": TEST_PASSWORD_HASH_COST,
                  "dns_servers": (NOWHERE,), "whois_server": NOWHERE, **settings}
        self.settings = Settings.load(values, env={})
        self.appliance = Appliance(self.settings)
        self.url = self.settings.base_url
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self, engine: bool = True) -> "InProcessAppliance":
        from server import create_app
        from server.http_server import Limits, make_server

        self.appliance.ensure_admin()
        if engine:
            self.appliance.start()
        self._server = make_server(create_app(self.appliance), "127.0.0.1", self.settings.port,
                                   self.settings.http_threads, Limits.from_settings(self.settings),
                                   on_blind=self.appliance.intake_blind,
                                   proxy_headers=bool(self.settings.trusted_proxies))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for(lambda: _ready(self.url), timeout=10, message="in-process server")
        return self

    def stop(self) -> None:
        if self._server is not None:
            from waitress import wasyncore

            server = self._server
            # close() alone leaves the clients' keep-alive connections in the loop's map, and the
            # loop runs until they time out; close everything on the loop's own thread instead.
            try:
                server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            except OSError:  # the wake-up pipe is unusable: close from here (the loop sees it within 1 s)
                wasyncore.close_all(server._map, ignore_all=True)
        if self._thread is not None:
            self._thread.join(5)
        if self._server is not None:
            self._server.task_dispatcher.shutdown()
            self._server.closed.set()
            self._server.priority.shutdown()
        self.appliance.stop()

    @property
    def api(self) -> Api:
        return Api(self.url)

    def admin(self) -> User:
        return self.api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
