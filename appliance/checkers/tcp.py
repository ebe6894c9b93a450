"""tcp monitors: a TCP connection to target:port completes within the timeout. response_time is
the time to connect; a failed check has none (no connection, nothing to time)."""

from __future__ import annotations

import socket
import time

from appliance.checkers.base import CheckerContext, CheckResult
from appliance.checkers.netio import connect


class TcpChecker:
    def __init__(self, context: CheckerContext | None = None):
        self.context = context or CheckerContext()

    def check(self, spec) -> CheckResult:
        started = time.monotonic()
        try:
            sock = connect(spec.target, spec.port, started + spec.timeout, self.context.source_address)
        except socket.timeout:
            return CheckResult.failure(f"no connection within {spec.timeout} s")
        except ConnectionRefusedError:
            return CheckResult.failure(f"connection to port {spec.port} refused")
        except socket.gaierror as exc:
            return CheckResult.failure(f"cannot resolve the host name ({exc.strerror})")
        except OSError as exc:
            return CheckResult.failure(f"connection failed: {exc.strerror or exc}")
        elapsed = _ms(started)
        sock.close()
        return CheckResult(True, elapsed)


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
