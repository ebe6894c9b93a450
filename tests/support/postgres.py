"""A throwaway PostgreSQL server for tests: Debian's binaries (install.sh test installs the
`postgresql` package), a cluster made with initdb in a temp dir, started with pg_ctl, listening
only on a unix socket in that dir, and removed at the end.

initdb refuses to run as root: when the tests run as root, the cluster belongs to `nobody` (the
temp dir is chowned to it and every server command runs through runuser). Clients connect over
the socket with trust authentication as the `postgres` superuser.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"
_names = itertools.count(1)


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable() -> str | None:
    """Why no test server can be started here, or None."""
    if bin_dir() is None:
        return "PostgreSQL is not installed (./install.sh test installs Debian's postgresql package)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb refuses root and cannot switch to nobody"
    return None


class PostgresServer:
    """One cluster; `create_database()` gives each test a fresh, empty database."""

    def __init__(self):
        self.bin = bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="statuscore-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse root
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            self.as_user = ["runuser", "-u", "nobody", "--"]
        self.started = False

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run([*self.as_user, *args], cwd=self.dir, capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()} "
                               f"{result.stdout.strip()[-500:]} {tail}")

    def start(self, durable: bool = False, options: str = "") -> "PostgresServer":
        """durable: fsync and Debian's default memory (benchmarks); otherwise tuned for tests.
        options: more `-c name=value` settings (a benchmark's pg_stat_statements)."""
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")
        # Socket only, no TCP. Throwaway data: no durability, so tests are not slowed by fsyncs.
        settings = f"-c listen_addresses='' -c unix_socket_directories='{self.dir}' -c max_connections=200"
        if not durable:
            settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB"
        self.options = f"{settings} {options}".strip()
        self._pg_ctl_start()
        return self

    def _pg_ctl_start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", self.options,
                  "-w", "-t", "60", "start")
        self.started = True

    def halt(self) -> None:
        """Stop the server as a crash would (immediate), keeping its data: start() it again."""
        if self.started:
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            finally:
                self.started = False

    def resume(self) -> None:
        self._pg_ctl_start()

    def stop(self) -> None:
        try:
            self.halt()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A URL in the form STATUSCORE_DATABASE_URL takes (socket dir as the host query)."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.dir}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.dir), user=SUPERUSER, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        """A new empty database (a copy of template0); returns its URL."""
        name = f"test_{os.getpid()}_{next(_names)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.split("/")[-1].split("?")[0]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
