"""Fixtures for the HTTP tests of the API: `anonymous`, and servers without a check engine
for modules that only exercise the API (so no monitor target is ever contacted)."""

from __future__ import annotations

import pytest

from tests.support.appliance import InProcessAppliance


@pytest.fixture
def anonymous():
    """No token at all (for permission tables next to alice and bob)."""
    return None


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory):
    """The appliance over real HTTP with its check engine off: monitors are stored, never checked."""
    instance = InProcessAppliance(tmp_path_factory.mktemp("idle") / "data").start(engine=False)
    yield instance
    instance.stop()
