"""ping monitors: ICMP echo with icmplib; up when any reply comes back.

Unprivileged ICMP sockets are preferred: they need `net.ipv4.ping_group_range` to include the
process's group (`sysctl -w net.ipv4.ping_group_range="0 2147483647"`). Without them we fall back
to raw sockets (root or CAP_NET_RAW), with a small bound on pings in flight: every raw ICMP
socket receives every reply, so many at once degrade badly.
"""

from __future__ import annotations

import logging
import socket
import threading

import icmplib
from icmplib.exceptions import ICMPLibError, NameLookupError

from appliance.checkers.base import CheckerContext, CheckResult

log = logging.getLogger("statuscore.checkers")

COUNT = 3
INTERVAL = 0.2
RAW_IN_FLIGHT = 8
PING_HELP = ("ICMP is not permitted for this process: allow unprivileged pings with "
             "'sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"' or grant CAP_NET_RAW")


def icmp_mode() -> str | None:
    """'unprivileged', 'privileged' or None, by trying to open each kind of socket."""
    for mode, kind in (("unprivileged", socket.SOCK_DGRAM), ("privileged", socket.SOCK_RAW)):
        try:
            socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP).close()
            return mode
        except OSError:
            continue
    return None


class PingChecker:
    def __init__(self, context: CheckerContext | None = None, mode: str | None = "detect"):
        self.context = context or CheckerContext()
        self.mode = icmp_mode() if mode == "detect" else mode
        self._raw_slots = threading.BoundedSemaphore(RAW_IN_FLIGHT)
        if self.mode is None:
            log.warning(PING_HELP)

    def check(self, spec) -> CheckResult:
        if self.mode is None:
            return CheckResult.failure(PING_HELP)
        privileged = self.mode == "privileged"
        per_reply = max(0.5, spec.timeout - (COUNT - 1) * INTERVAL)
        try:
            if privileged:
                if not self._raw_slots.acquire(timeout=spec.timeout):
                    return CheckResult.failure("too many pings in flight; try a longer interval")
                try:
                    host = self._ping(spec.target, per_reply, privileged)
                finally:
                    self._raw_slots.release()
            else:
                host = self._ping(spec.target, per_reply, privileged)
        except NameLookupError:
            return CheckResult.failure("cannot resolve the host name")
        except ICMPLibError as exc:
            return CheckResult.failure(f"ping failed: {exc}")
        except OSError as exc:
            return CheckResult.failure(f"ping failed: {exc.strerror or exc}")
        loss = round(host.packet_loss, 3) if host.packets_sent else 1.0
        details = {"packet_loss": loss, "packets_sent": host.packets_sent,
                   "packets_received": host.packets_received}
        if host.packets_received == 0:  # no reply: no round-trip time to report
            error = (f"no echo reply ({host.packets_sent} sent)" if host.packets_sent
                     else "could not send any ping (no route to the host?)")
            return CheckResult(False, None, error, details)
        return CheckResult(True, host.avg_rtt, None, details)

    def _ping(self, target: str, per_reply: float, privileged: bool):
        return icmplib.ping(target, count=COUNT, interval=INTERVAL, timeout=per_reply,
                            source=self.context.source_address, privileged=privileged)
