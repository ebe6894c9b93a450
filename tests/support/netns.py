"""A routed chain of network namespaces for tests that need a real multi-hop path:

    src (10.200.1.2) -- r1 (10.200.1.1 | 10.200.2.1) -- r2 (10.200.2.2 | 10.200.3.1) -- dst (10.200.3.2)

joined by veth pairs, with forwarding on in the routers. The addresses exist only inside these
namespaces (each has its own routing table), so nothing reaches the host's network, and
parallel test workers do not collide: namespace names carry the pid and a counter, and the
veth names live inside the namespaces. Needs root and `ip`; `unavailable()` says why not.
Always used as a context manager: the namespaces are deleted on the way out, even after a
failure half-way through the set-up.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys

_serial = itertools.count()

SRC, R1_IN, R1_OUT, R2_IN, R2_OUT, DST = ("10.200.1.2", "10.200.1.1", "10.200.2.1", "10.200.2.2",
                                         "10.200.3.1", "10.200.3.2")


def unavailable() -> str | None:
    """Why a NamespaceChain cannot be built here, or None when it can."""
    if sys.platform != "linux":
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "building network namespaces needs root"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = f"scprobe-{os.getpid()}-{next(_serial)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=10)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip() or made.returncode}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return None


class NamespaceChain:
    def __init__(self):
        tag = f"{os.getpid()}-{next(_serial)}"
        self.src, self.r1, self.r2, self.dst = (f"scmtr-{tag}-{name}" for name in ("src", "r1", "r2", "dst"))
        self.names = [self.src, self.r1, self.r2, self.dst]
        self._made: list[str] = []

    def __enter__(self) -> "NamespaceChain":
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _build(self) -> None:
        for name in self.names:
            _ip("netns", "add", name)
            self._made.append(name)
            _ip("-n", name, "link", "set", "lo", "up")
        for left, right in ((self.src, self.r1), (self.r1, self.r2), (self.r2, self.dst)):
            # created inside `left`, its peer moved into `right`: the names are per namespace
            _ip("-n", left, "link", "add", "eth-next", "type", "veth", "peer", "name", "eth-prev",
                "netns", right)
        for name, device, address in ((self.src, "eth-next", SRC), (self.r1, "eth-prev", R1_IN),
                                      (self.r1, "eth-next", R1_OUT), (self.r2, "eth-prev", R2_IN),
                                      (self.r2, "eth-next", R2_OUT), (self.dst, "eth-prev", DST)):
            _ip("-n", name, "addr", "add", f"{address}/24", "dev", device)
            _ip("-n", name, "link", "set", device, "up")
        _ip("-n", self.src, "route", "add", "default", "via", R1_IN)
        _ip("-n", self.r1, "route", "add", "10.200.3.0/24", "via", R2_IN)
        _ip("-n", self.r2, "route", "add", "10.200.1.0/24", "via", R1_OUT)
        _ip("-n", self.dst, "route", "add", "default", "via", R2_OUT)
        for router in (self.r1, self.r2):
            self.run(router, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])

    def run(self, namespace: str, argv: list[str], timeout: float = 60.0, **kwargs) -> subprocess.CompletedProcess:
        """Run a command inside one of the namespaces (output captured, failure raised)."""
        return subprocess.run(["ip", "netns", "exec", namespace, *argv], capture_output=True, text=True,
                              timeout=timeout, check=True, **kwargs)

    def close(self) -> None:
        for name in reversed(self._made):  # deleting a namespace deletes its veth ends too
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
        self._made.clear()


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")
