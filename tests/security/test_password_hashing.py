"""Passwords are hashed with scrypt at OWASP's minimum cost (N=2^17, r=8, p=1) unless a setting
says otherwise (the test suite's appliances say 2^14, for speed); a hash made at a weaker cost is
replaced at the next successful login; and concurrent logins do not each take 128 MiB at once."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

from appliance.config import Settings
from tests.support.appliance import ADMIN_EMAIL, ADMIN_PASSWORD, ApplianceProcess, InProcessAppliance

OWASP = "scrypt$131072$8$1$"


def stored_hash(data_dir, email: str) -> str:
    with sqlite3.connect(data_dir / "statuscore.sqlite") as db:
        return db.execute("SELECT password_hash FROM user WHERE email = ?", (email,)).fetchone()[0]


def test_the_default_cost_is_owasps_minimum(tmp_path):
    assert Settings.load({"data_dir": tmp_path}, env={}).password_hash_cost == 17
    server = InProcessAppliance(tmp_path / "data", password_hash_cost=17).start(engine=False)
    try:
        admin = server.admin()
        user = server.api.create_user(admin, "strong@example.test")
        assert stored_hash(server.settings.data_dir, user.email).startswith(OWASP)
    finally:
        server.stop()


def test_a_weaker_hash_is_replaced_at_the_next_login(tmp_path):
    data_dir = tmp_path / "data"
    old = InProcessAppliance(data_dir, password_hash_cost=14).start(engine=False)
    try:
        user = old.api.create_user(old.admin(), "old@example.test")
    finally:
        old.stop()
    weak = stored_hash(data_dir, user.email)
    assert weak.startswith("scrypt$16384$8$1$")

    new = InProcessAppliance(data_dir, password_hash_cost=17).start(engine=False)
    try:
        api = new.api
        assert api.post("/api/auth/login", json={"email": user.email, "password": "wrong-password"}).status_code == 401
        assert stored_hash(data_dir, user.email) == weak  # only a successful login rehashes
        assert api.get("/api/auth/me", user).status_code == 200  # the old token still works...
        again = api.login(user.email, user.password)
        strong = stored_hash(data_dir, user.email)
        assert strong.startswith(OWASP) and strong != weak
        assert api.get("/api/auth/me", user).status_code == 200  # ...and still does: same password
        assert api.login(user.email, user.password).id == again.id
        assert stored_hash(data_dir, user.email) == strong  # not rehashed twice
    finally:
        new.stop()


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_parallel_logins_hash_a_few_at_a_time(tmp_path):
    """20 logins at once at 128 MiB each would take 2.5 GB; two at a time stay far below 1 GB."""
    served = ApplianceProcess(tmp_path / "data", env={"STATUSCORE_PASSWORD_HASH_COST": "17",
                                                      "STATUSCORE_HTTP_THREADS": "24"}).start()
    try:
        api = served.api
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(lambda _: api.post("/api/auth/login", json={
                "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).status_code, range(20)))
        assert codes == [200] * 20
        assert peak_rss_mib(served.proc.pid) < 1024
    finally:
        served.stop()
