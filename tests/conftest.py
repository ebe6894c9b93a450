"""Shared fixtures: a real appliance over HTTP, and alice, bob and an admin logged in to it."""

from __future__ import annotations

import itertools
import os

import pytest

from tests.support.api import Api, User
from tests.support.appliance import ApplianceProcess, InProcessAppliance
from tests.support.postgres import PostgresServer, unavailable as postgres_unavailable

_emails = itertools.count()


# STATUSCORE_TEST_BACKEND=postgresql runs the API tests' appliances on the test PostgreSQL server
# (a database per module) instead of SQLite + DuckDB files: the same tests, the other backend.
ON_POSTGRES = os.environ.get("STATUSCORE_TEST_BACKEND", "sqlite") == "postgresql"


@pytest.fixture(scope="module")
def module_database(request):
    """None (files in the data dir), or a fresh PostgreSQL database's URL under ON_POSTGRES."""
    if not ON_POSTGRES:
        yield None
        return
    pg = request.getfixturevalue("postgres_server")
    url = pg.create_database()
    yield url
    pg.drop_database(url)


@pytest.fixture(scope="module")
def appliance_process(tmp_path_factory, module_database):
    """`statuscore serve` as a real subprocess, shared by the tests of one module."""
    env = {"STATUSCORE_DATABASE_URL": module_database} if module_database else None
    proc = ApplianceProcess(tmp_path_factory.mktemp("appliance") / "data", env=env).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, module_database):
    """The appliance served by waitress on a thread of the test process (stores reachable)."""
    instance = InProcessAppliance(tmp_path_factory.mktemp("inproc") / "data",
                                  database_url=module_database).start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def api(server) -> Api:
    return server.api


@pytest.fixture(scope="module")
def admin(server) -> User:
    return server.admin()


def _new_user(api: Api, admin: User, name: str, **fields) -> User:
    return api.create_user(admin, f"{name}-{next(_emails)}@example.test", **fields)


@pytest.fixture
def alice(api, admin) -> User:
    return _new_user(api, admin, "alice", full_name="Alice", subscription_tier="pro")


@pytest.fixture
def bob(api, admin) -> User:
    return _new_user(api, admin, "bob", full_name="Bob")


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster for the session (skips when PostgreSQL is not installed)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh empty database on the test server, dropped after the test: its URL."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def two_node_engines(postgres_url):
    """Two cluster nodes' views of one fresh database: an engine each, disposed after the test."""
    from appliance.storage.database import make_engine

    engines = [make_engine(postgres_url) for _ in range(2)]
    yield engines
    for engine in engines:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    """Where the entity store lives, once per backend: a SQLite file path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "entities.sqlite")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["duckdb", "postgresql"])
def history_target(request, tmp_path):
    """Where a history store lives, once per backend: a DuckDB file or a PostgreSQL URL."""
    if request.param == "duckdb":
        return tmp_path / "history.duckdb"
    return request.getfixturevalue("postgres_url")
