"""The single binary: built from this checkout by `./install.sh system` (PyInstaller), staged into
a temporary root, and run from there as the current user. It must do what the venv install does:
serve the API, the status page and the engine, log in, check a local server, run the console and
a probe, back up a running appliance, restore into a new data dir, upgrade in place and uninstall.

The build takes about a minute on two cores and is done once per test run; the tests share one
xdist worker, so no other worker sits waiting for the build. Set
STATUSCORE_TEST_BINARY=/path/to/statuscore to test an already built binary instead; the tests skip
when PyInstaller is missing (`./install.sh test` installs it: the `build` extra).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import select
import signal
import stat
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from tests.support.appliance import NOWHERE, ROOT, ApplianceProcess
from tests.support.net import free_port, wait_for
from tests.support.peers import HttpPeer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("binary")]

PREFIX = "opt/statuscore"
DATA = "var/lib/statuscore"
ENV_FILE = "etc/statuscore/statuscore.env"
UNIT = "etc/systemd/system/statuscore.service"
ADMIN = "admin@statuscore.local"
PASSWORD_LINE = re.compile(r"^Admin login: (\S+) / (\S+)$", re.M)


def install_sh(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "install.sh"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def clean_env(**extra: str) -> dict:
    """This environment without any STATUSCORE_* setting the caller may have, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSCORE_")}
    return {**env, **extra}


def run(binary: Path, *args: str, env: dict | None = None, stdin: str | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, input=stdin, timeout=timeout,
                          env=clean_env(**(env or {})))


def read_env_file(path: Path) -> dict:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {name: value for name, value in pairs}


@pytest.fixture(scope="session")
def built(request, tmp_path_factory) -> Path:
    """The binary, built once per test run: by the first worker to get here, through install.sh."""
    given = os.environ.get("STATUSCORE_TEST_BINARY")
    if given:
        return Path(given).resolve()
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed: install the 'build' extra (./install.sh test does), "
                    "or set STATUSCORE_TEST_BINARY to a built binary")
    # Under xdist every worker has its own basetemp inside one folder of this run: share that.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if hasattr(request.config, "workerinput") else base
    work = shared / "statuscore-binary"
    work.mkdir(exist_ok=True)
    binary, failed = work / "build" / "dist" / "statuscore", work / "FAILED"
    with open(work / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait here for the one build
        if failed.exists():
            pytest.fail(f"the binary build failed (in another worker):\n{failed.read_text()}")
        if not binary.exists():
            started = time.monotonic()
            done = install_sh("system", "--root", str(work / "root"), "--port", str(free_port()),
                              env={"STATUSCORE_BUILD_DIR": str(work / "build")}, timeout=840)
            if done.returncode != 0 or not binary.exists():
                failed.write_text(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
                pytest.fail(f"./install.sh system could not build the binary:\n{done.stdout}\n{done.stderr}")
            (work / "build-seconds").write_text(f"{time.monotonic() - started:.1f}\n")
    return binary


@pytest.fixture
def install(built, tmp_path):
    """install(root, *options) -> (completed process, admin password or None), from the built binary."""

    def install(root: Path, *options: str) -> tuple[subprocess.CompletedProcess, str | None]:
        done = install_sh("system", "--root", str(root), "--binary", str(built), *options, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        found = PASSWORD_LINE.search(done.stdout)
        return done, (found.group(2) if found else None)

    return install


def appliance_from(root: Path, data_dir: Path | None = None) -> ApplianceProcess:
    """The staged binary serving, as this user, with the staged settings but a temporary data dir
    and a free port (the settings file names /var/lib/statuscore, the target system's)."""
    settings = {k: v for k, v in read_env_file(root / ENV_FILE).items()
                if k not in ("STATUSCORE_DATA_DIR", "STATUSCORE_HOST", "STATUSCORE_PORT")}
    env = {**settings, "STATUSCORE_RATE_LIMIT": "100000/minute", "STATUSCORE_LOGIN_RATE_LIMIT": "100000/minute",
           "STATUSCORE_DNS_SERVERS": NOWHERE, "STATUSCORE_WHOIS_SERVER": NOWHERE}
    proc = ApplianceProcess(data_dir or root / DATA, env=env, command=[str(root / PREFIX / "bin" / "statuscore")])
    proc.env = {k: v for k, v in proc.env.items() if k not in ("STATUSCORE_ADMIN_EMAIL", "STATUSCORE_ADMIN_PASSWORD")}
    return proc


def test_it_stages_the_binary_settings_data_dir_and_unit_into_a_root(install, tmp_path):
    root = tmp_path / "root"
    done, password = install(root, "--port", "8099", "--host", "0.0.0.0")

    binary = root / PREFIX / "bin" / "statuscore"
    assert os.access(binary, os.X_OK) and (root / PREFIX / "README.md").is_file()
    assert run(binary, "--version").stdout.startswith("statuscore ")
    assert stat.S_IMODE((root / DATA).stat().st_mode) == 0o700
    assert stat.S_IMODE((root / ENV_FILE).stat().st_mode) == 0o600
    settings = read_env_file(root / ENV_FILE)
    assert settings["STATUSCORE_DATA_DIR"] == "/var/lib/statuscore"
    assert (settings["STATUSCORE_HOST"], settings["STATUSCORE_PORT"]) == ("0.0.0.0", "8099")
    assert len(settings["STATUSCORE_SECRET"]) >= 32

    unit = (root / UNIT).read_text()
    assert "@" not in unit.replace("multi-user.target", "")  # every placeholder filled in
    for line in ("ExecStart=/opt/statuscore/bin/statuscore serve", "EnvironmentFile=/etc/statuscore/statuscore.env",
                 "ReadWritePaths=/var/lib/statuscore", "User=statuscore", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "AmbientCapabilities=CAP_NET_RAW", "CapabilityBoundingSet=CAP_NET_RAW"):
        assert line in unit.splitlines(), line

    assert "no system user was created and no service started" in done.stdout
    assert password and len(password) >= 16  # the first admin, shown once
    doctor = run(binary, "doctor", "--data-dir", str(root / DATA), "--port", str(free_port()))
    assert "ok   data dir" in doctor.stdout and "ok   secret" in doctor.stdout, doctor.stdout + doctor.stderr


def test_it_serves_checks_backs_up_and_restores_with_the_installed_binary(install, tmp_path):
    root = tmp_path / "root"
    _, password = install(root)
    binary = root / PREFIX / "bin" / "statuscore"
    extra = run(binary, "user", "add", "--data-dir", str(root / DATA), "--email", "ops@example.test",
                "--name", "Ops", "--password-stdin", stdin="ops-password-1\n")
    assert extra.returncode == 0, extra.stderr

    with HttpPeer() as peer:
        proc = appliance_from(root).start(timeout=60)
        try:
            api = proc.api
            admin = api.login(ADMIN, password)  # the account install.sh made
            assert api.login("ops@example.test", "ops-password-1").email == "ops@example.test"
            monitor = api.create_monitor(admin, name="Binary Website", type="http", target=peer.url + "/",
                                         interval=10)
            url = f"/api/monitors/{monitor['id']}"
            wait_for(lambda: api.get(url, admin).json()["status"] == "up", timeout=30, message="monitor up")
            wait_for(lambda: api.get(url + "/history", admin).json()["history"], timeout=20,
                     message="a stored result")

            # The status page's templates and static files are inside the binary.
            assert api.put("/api/settings/status-page", admin,
                           json={"company_name": "Binary Corp", "slug": "binary"}).status_code == 200
            assert api.patch(url + "/public", admin, json={"public_status": True}).status_code == 200
            page = api.get("/status/binary")
            assert page.status_code == 200 and "Binary Corp" in page.text and "Binary Website" in page.text
            css = re.search(r'href="(/static/[^"?]+\.css)', page.text).group(1)
            assert api.get(css).status_code == 200
            feed = api.get("/status/binary/feed.atom")  # its Atom template too
            assert feed.status_code == 200 and "<feed" in feed.text

            check_probe(binary, proc, admin, tmp_path)
            check_console(binary, proc.url, ADMIN, password, "Binary Website", tmp_path)

            archive = tmp_path / "backup.tar.gz"
            done = run(binary, "backup", "--output", str(archive), "--server", proc.url, "--email", ADMIN,
                       env={"STATUSCORE_PASSWORD": password})
            assert done.returncode == 0, done.stderr
            assert stat.S_IMODE(archive.stat().st_mode) == 0o600
            stored = len(api.get(url + "/history", admin).json()["history"])
        finally:
            assert proc.stop() == 0, proc.log()
        assert "stopping: flushing check results" in proc.log()

    restored = tmp_path / "restored"
    done = run(binary, "restore", str(archive), "--data-dir", str(restored))
    assert done.returncode == 0, done.stderr
    proc = appliance_from(root, data_dir=restored).start(timeout=60)
    try:
        admin = proc.api.login(ADMIN, password)
        assert [m["name"] for m in proc.api.get("/api/monitors", admin).json()] == ["Binary Website"]
        assert len(proc.api.get(url + "/history", admin).json()["history"]) >= stored >= 1
    finally:
        proc.stop()


def check_probe(binary: Path, proc: ApplianceProcess, admin, tmp_path: Path) -> None:
    """`statuscore probe` from the binary reports in as a location of the appliance."""
    answer = proc.api.post("/api/admin/probes", admin, json={"name": "bin-probe", "display_name": "Binary probe"})
    assert answer.status_code == 201, answer.text
    probe = subprocess.Popen([str(binary), "probe", "--server", proc.url, "--token", answer.json()["token"],
                              "--location", "bin-probe", "--data-dir", str(tmp_path / "probe")],
                             env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        online = lambda: any(loc["name"] == "bin-probe" and loc["online"]  # noqa: E731
                             for loc in proc.api.get("/api/locations", admin).json())
        wait_for(online, timeout=30, interval=0.3, message="the probe online")
    finally:
        stop_process(probe)


def stop_process(popen: subprocess.Popen) -> None:
    if popen.poll() is None:
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(5)


ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x1b]*\x1b\\|\x1b[()#][0-9A-Za-z]|\x1b[=>78cDEHMNOZ]")


class Terminal:
    """A program on a pseudo-terminal of 120x40; what it draws, with the escape codes taken out."""

    def __init__(self, argv: list[str], env: dict):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                                     start_new_session=True)
        os.close(slave)
        self.raw = b""

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the program has gone and closed the terminal
                    return
                if not chunk:
                    return
                self.raw += chunk

    @property
    def text(self) -> str:
        return ANSI.sub(b"", self.raw).decode("utf-8", "replace")

    def wait_text(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if self.proc.poll() is not None:
                raise AssertionError(f"the console exited ({self.proc.returncode}) before showing {needle!r}:\n"
                                     f"{self.text[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the console never showed {needle!r}:\n{self.text[-3000:]}")
            self.pump(0.2)

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> int | None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait(5)
        os.close(self.master)
        return code


def check_console(binary: Path, server: str, email: str, password: str, monitor_name: str,
                  tmp_path: Path) -> None:
    """`statuscore console` from the binary: its stylesheet and screens load, it logs in, shows the
    dashboard with our monitor, opens the tools and admin screens, and quits cleanly."""
    term = Terminal([str(binary), "console", "--server", server, "--email", email],
                    env=clean_env(STATUSCORE_PASSWORD=password, TERM="xterm-256color",
                                  XDG_CONFIG_HOME=str(tmp_path / "config")))
    try:
        term.wait_text(monitor_name, timeout=60)  # logged in, dashboard drawn
        term.send(b"\x1bOS")  # F4: tools
        term.wait_text("Run MTR")
        term.send(b"\x1b[17~")  # F6: admin
        term.wait_text("Probes")
        term.send(b"\x11")  # ctrl+q
        deadline = time.monotonic() + 15
        while term.proc.poll() is None and time.monotonic() < deadline:
            term.pump(0.2)
        assert term.proc.poll() == 0, f"the console did not quit cleanly:\n{term.text[-3000:]}"
        assert "Traceback" not in term.text, term.text[-3000:]
    finally:
        term.close()


def test_it_upgrades_in_place_keeping_data_settings_and_secret(install, tmp_path):
    root = tmp_path / "root"
    _, password = install(root, "--port", "8101")
    before = read_env_file(root / ENV_FILE)
    store = (root / DATA / "statuscore.sqlite").read_bytes()

    done, again = install(root, "--port", "8102")
    assert again is None and "Upgraded" in done.stdout  # no second admin, no password shown
    after = read_env_file(root / ENV_FILE)
    assert after["STATUSCORE_SECRET"] == before["STATUSCORE_SECRET"]
    assert after["STATUSCORE_PORT"] == "8102"  # an option given again is applied
    assert (root / DATA / "statuscore.sqlite").read_bytes() == store
    assert stat.S_IMODE((root / ENV_FILE).stat().st_mode) == 0o600

    proc = appliance_from(root).start(timeout=60)
    try:
        assert proc.api.login(ADMIN, password).email == ADMIN  # the old login works
    finally:
        proc.stop()


def test_it_uninstalls_keeping_data_and_settings_unless_purged(install, tmp_path):
    root = tmp_path / "root"
    install(root)
    done = install_sh("uninstall", "--root", str(root))
    assert done.returncode == 0, done.stderr
    assert not (root / PREFIX).exists() and not (root / UNIT).exists()
    assert (root / DATA / "statuscore.sqlite").exists() and (root / ENV_FILE).exists()
    assert "--purge" in done.stdout

    secret = read_env_file(root / ENV_FILE)["STATUSCORE_SECRET"]
    _, password = install(root)  # reinstalling finds the old data and settings
    assert password is None and read_env_file(root / ENV_FILE)["STATUSCORE_SECRET"] == secret

    done = install_sh("uninstall", "--root", str(root), "--purge")
    assert done.returncode == 0, done.stderr
    assert not any(p.is_file() for p in root.rglob("*")), sorted(map(str, root.rglob("*")))


def test_it_refuses_a_system_install_without_root_or_a_binary(tmp_path):
    done = install_sh("system", "--root", str(tmp_path / "root"), "--binary", str(tmp_path / "missing"))
    assert done.returncode != 0 and "no executable binary" in done.stderr
    done = install_sh("system", "--prefix", "relative/path", "--root", str(tmp_path / "root"))
    assert done.returncode != 0 and "absolute" in done.stderr
    assert not (tmp_path / "root").exists()  # nothing was written


def test_the_binary_keeps_its_stores_on_postgresql(built, tmp_path, postgres_url):
    """psycopg (and its bundled libpq) are in the one file: with STATUSCORE_DATABASE_URL it serves
    from PostgreSQL and leaves no SQLite or DuckDB file in the data dir."""
    proc = ApplianceProcess(tmp_path / "data", env={"STATUSCORE_DATABASE_URL": postgres_url},
                            command=[str(built)]).start(timeout=60)
    try:
        admin = proc.admin()
        monitor = proc.api.create_monitor(admin, name="Site", type="http", target="http://127.0.0.1:9/")
        assert proc.api.get(f"/api/monitors/{monitor['id']}/history?hours=1", admin).status_code == 200
    finally:
        proc.stop()
    assert not list((tmp_path / "data").glob("*.sqlite")) and not list((tmp_path / "data").glob("*.duckdb"))
