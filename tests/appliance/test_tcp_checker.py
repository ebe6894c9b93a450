"""The tcp checker against real loopback listeners (no other address is ever used)."""

from __future__ import annotations

import socket
import time

import pytest

from appliance.checkers.tcp import TcpChecker
from appliance.spec import MonitorSpec
from tests.support.net import free_port
from tests.support.peers import TcpListener


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


def test_it_is_down_after_the_listener_closes():
    listener = TcpListener().__enter__()
    port = listener.port
    assert TcpChecker().check(spec(port)).up
    listener.close()
    result = TcpChecker().check(spec(port))
    assert not result.up
    assert "refused" in result.error


def test_it_gives_up_within_the_timeout_when_the_accept_queue_is_full():
    # A listener that never accepts, with its (tiny) accept queue filled: Linux drops further
    # SYNs, so the connection neither completes nor is refused.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                fillers.append(filler)
                filler.settimeout(0.2)
                try:
                    filler.connect(("127.0.0.1", port))
                except OSError:
                    break  # the queue is full: this SYN was dropped
            else:
                pytest.skip("the kernel kept accepting connections into the backlog")
            started = time.monotonic()
            result = TcpChecker().check(spec(port, timeout=1))
            elapsed = time.monotonic() - started
        finally:
            for filler in fillers:
                filler.close()
    assert not result.up
    assert "within 1 s" in result.error
    assert elapsed < 3


@pytest.mark.skip(reason="an unroutable or filtered address would leave loopback; tests use 127.0.0.1 only")
def test_it_gives_up_on_an_unroutable_address():  # pragma: no cover
    pass
