"""The tcp checker against real loopback listeners (no other address is ever used)."""

from __future__ import annotations

import time

import pytest

from appliance.checkers.tcp import TcpChecker
from appliance.spec import MonitorSpec
from tests.support.net import free_port
from tests.support.peers import TcpListener, full_accept_queue


def spec(port: int, target: str = "127.0.0.1", timeout: int = 5) -> MonitorSpec:
    return MonitorSpec(id=1, user_id=1, name="port", type="tcp", target=target, port=port, timeout=timeout)


def test_it_is_up_when_the_port_accepts_connections():
    with TcpListener() as listener:
        result = TcpChecker().check(spec(listener.port))
    assert result.up, result.error
    assert result.error is None
    assert result.response_time_ms is not None and result.response_time_ms >= 0


def test_it_resolves_a_host_name():
    with TcpListener() as listener:
        result = TcpChecker().check(spec(listener.port, target="localhost"))
    assert result.up, result.error


def test_it_is_down_with_a_readable_error_when_the_port_refuses():
    port = free_port()  # bound and released: nothing listens there now
    result = TcpChecker().check(spec(port))
    assert not result.up
    assert "refused" in result.error and str(port) in result.error
    assert result.response_time_ms is None  # no connection: nothing to time (the API shows null, not 0)


def test_it_is_down_after_the_listener_closes():
    listener = TcpListener().__enter__()
    port = listener.port
    assert TcpChecker().check(spec(port)).up
    listener.close()
    result = TcpChecker().check(spec(port))
    assert not result.up
    assert "refused" in result.error


def test_it_gives_up_within_the_timeout_when_the_accept_queue_is_full():
    with full_accept_queue() as port:
        if port is None:
            pytest.skip("the kernel kept accepting connections into the backlog")
        started = time.monotonic()
        result = TcpChecker().check(spec(port, timeout=1))
        elapsed = time.monotonic() - started
    assert not result.up
    assert "within 1 s" in result.error
    assert elapsed < 3
