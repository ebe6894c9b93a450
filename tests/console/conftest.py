"""The console against a real appliance: the module-scoped `server` (tests/conftest.py, engine
on) and a local HTTP peer as the monitors' target; `console` builds the app as the CLI does."""

from __future__ import annotations

import pytest

from console.app import make_console
from tests.support.peers import HttpPeer

REFRESH = 0.3  # seconds between dashboard refreshes in tests


@pytest.fixture(scope="module")
def peer():
    with HttpPeer() as instance:
        yield instance


@pytest.fixture
def console(server, tmp_path):
    """make_console(...) for this server, with a short refresh and a token file in tmp_path."""

    def build(user=None, **kwargs):
        options = {"token_file": tmp_path / "token", "refresh_interval": REFRESH}
        if user is not None:
            options.update(email=user.email, password=user.password)
        options.update(kwargs)
        return make_console(server.url, **options)

    return build

