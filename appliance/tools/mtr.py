"""MTR: several traceroute rounds to a host, summarised per hop like `mtr --report`.

Each round sends one ICMP echo request per TTL (1..max_hops in the first round, 1..the
destination's distance once it is known) over one raw icmplib socket, then collects the
answers for at most `timeout` seconds: ICMP Time Exceeded names the router at that distance,
an Echo Reply (or Destination Unreachable) ends the path. A hop that does not answer in a
round counts that probe as lost. Rounds start at least `interval` seconds apart (routers
rate-limit their Time Exceeded answers), and the whole run stops within `max_duration`.

Host names of the hops come from reverse DNS (`socket.getnameinfo`) on a small worker pool,
each lookup bounded by a short deadline: a slow resolver costs the report its names, never
its time. Names are cached for an hour.

Raw ICMP sockets need root or CAP_NET_RAW (icmplib's traceroute primitives have no
unprivileged mode); without them a run fails at once with MTR_HELP. `Mtr` bounds how many runs
go at once (every raw ICMP socket sees every ICMP packet of the host, so many in parallel
only cost CPU). `build_report` and `target_host` are pure.
"""

from __future__ import annotations

import ipaddress
import socket
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Callable

from icmplib import ICMPRequest, ICMPv4Socket, ICMPv6Socket
from icmplib.exceptions import ICMPLibError, SocketPermissionError, TimeoutExceeded
from icmplib.utils import unique_identifier

from appliance import targets

MTR_HELP = "MTR needs raw ICMP sockets: run as root or grant CAP_NET_RAW"
DEFAULT_ROUNDS = 3
DEFAULT_MAX_HOPS = 30
DEFAULT_TIMEOUT = 1.0
DEFAULT_INTERVAL = 1.0  # like mtr: routers answer about one expired probe per second
DEFAULT_MAX_DURATION = 60.0
DEFAULT_CONCURRENCY = 2
MAX_ROUNDS = 100
MAX_HOPS = 64
RESOLVE_TIMEOUT = 3.0  # forward lookup of a target name
PTR_TIMEOUT = 1.0  # reverse lookups of all hops together
PTR_CACHE_TTL = 3600.0
PTR_CACHE_SIZE = 4096
UNKNOWN_HOST = "???"

# ICMP types: (echo reply, time exceeded, destination unreachable), per address family
_TYPES = {4: (0, 11, 3), 6: (129, 3, 1)}
_LATE_READS = 64  # answers read once the deadline has passed, at most ...
_LATE_WAIT = 0.005  # ... each waited for this long (what is already queued comes at once)
_RECEIVE_BUFFER = 4 << 20  # bytes asked for the raw socket's receive buffer (capped by rmem_max)
_DRAIN_SECONDS = 0.25  # at most this long spent throwing queued packets away before a round
_SEQ_STRIDE = 128  # sequence = round * stride + ttl, so a reply names its round and hop

Reply = tuple[str, float, str]  # (address, rtt in ms, kind: "hop" | "end")


class MtrError(Exception):
    """The run failed; the message says why in words an operator can act on."""


class MtrPermissionError(MtrError):
    """Raw ICMP sockets are not permitted to this process."""


class MtrBusy(MtrError):
    """Too many runs at once."""


class MtrResolveError(MtrError):
    """The target name does not resolve."""


@dataclass(frozen=True)
class HopStats:
    hop: int
    address: str | None  # None: no answer in any round
    host: str  # reverse DNS name, else the address, else "???"
    loss_pct: float
    sent: int
    received: int
    last: float | None  # ms; None when nothing came back
    avg: float | None
    best: float | None
    worst: float | None
    stdev: float | None

    def to_dict(self) -> dict:
        return {"hop": self.hop, "host": self.host, "address": self.address, "loss_pct": self.loss_pct,
                "sent": self.sent, "last": self.last, "avg": self.avg, "best": self.best,
                "worst": self.worst, "stdev": self.stdev}


@dataclass(frozen=True)
class MtrReport:
    target: str
    address: str  # what the target resolved to
    rounds: int  # rounds completed
    reached: bool  # the destination itself answered
    hops: tuple[HopStats, ...]

    def to_dict(self) -> dict:
        return {"target": self.target, "address": self.address, "rounds": self.rounds,
                "reached": self.reached, "hops": [hop.to_dict() for hop in self.hops]}


# ---- pure -----------------------------------------------------------------------------------


def target_host(kind: str, target: str | None) -> str:
    """The host an MTR to a monitor's target goes to; ValueError when there is none.

    URLs give their host, `sip:` targets theirs, `host:port` and `[v6]:port` lose the port,
    host names and addresses stay as they are."""
    text = (target or "").strip()
    if kind == "heartbeat" or not text:
        raise ValueError("this monitor has no target host to trace (heartbeat monitors are called by the job)")
    try:
        host = _host_in(kind, text)
    except ValueError:
        host = ""
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host or len(host) > targets.MAX_NAME or any(ch.isspace() or ord(ch) < 33 for ch in host):
        raise ValueError(f"cannot find a host in the target {text[:80]!r}")
    return host


def _host_in(kind: str, text: str) -> str:
    """The target's host; ValueError when it has none."""
    if kind in ("http", "https") or "://" in text:
        return targets.url_parts(text).host
    if kind == "sip" or text[:4].lower() == "sip:":
        return targets.read_sip(text).host
    return targets.split_port(text)[0]  # host, host:port or [v6]:port


def build_report(target: str, address: str, rounds: list[dict[int, Reply]],
                 names: dict[str, str] | None = None) -> MtrReport:
    """Summarise the answers of each round ({ttl: (address, rtt_ms, kind)}) per hop.

    The path ends at the lowest TTL any round saw an end answer for (Echo Reply or Destination
    Unreachable); without one, at the last hop that answered at all. Every hop up to there was
    probed in every round, so `sent` is the number of rounds."""
    names = names or {}
    ends = [ttl for answers in rounds for ttl, (_, _, kind) in answers.items() if kind == "end"]
    if ends:
        length = min(ends)
    else:
        answered = [ttl for answers in rounds for ttl in answers]
        length = max(answered) if answered else 0
    hops = []
    for ttl in range(1, length + 1):
        replies = [answers[ttl] for answers in rounds if ttl in answers]
        rtts = [rtt for _, rtt, _ in replies]
        sent = len(rounds)
        address_seen = Counter(addr for addr, _, _ in replies).most_common(1)
        hop_address = address_seen[0][0] if address_seen else None
        hops.append(HopStats(
            hop=ttl, address=hop_address,
            host=names.get(hop_address) or hop_address or UNKNOWN_HOST,
            loss_pct=round(100.0 * (sent - len(rtts)) / sent, 1) if sent else 0.0,
            sent=sent, received=len(rtts),
            last=_ms(rtts[-1]) if rtts else None,
            avg=_ms(statistics.fmean(rtts)) if rtts else None,
            best=_ms(min(rtts)) if rtts else None,
            worst=_ms(max(rtts)) if rtts else None,
            stdev=_ms(statistics.stdev(rtts)) if len(rtts) > 1 else (0.0 if rtts else None),
        ))
    reached = bool(hops) and hops[-1].address == address
    return MtrReport(target=target, address=address, rounds=len(rounds), reached=reached, hops=tuple(hops))


def _ms(value: float) -> float:
    """Milliseconds to three decimals (microseconds): loopback round trips are ~0.05 ms."""
    return round(max(0.0, value), 3)


# ---- the network ----------------------------------------------------------------------------


def system_resolve(host: str, timeout: float = RESOLVE_TIMEOUT) -> str:
    """The first address of a name (IPv4 first, as ping does), bounded in time."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass

    def lookup() -> str:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_RAW)
        infos.sort(key=lambda info: info[0] != socket.AF_INET)
        return infos[0][4][0]

    future = _pool().submit(lookup)
    try:
        return future.result(timeout)
    except FutureTimeout:
        future.cancel()
        raise MtrResolveError(f"cannot resolve {host}: no answer within {timeout:g} s") from None
    except (OSError, IndexError) as exc:
        reason = getattr(exc, "strerror", None) or "no address"
        raise MtrResolveError(f"cannot resolve {host}: {reason}") from None


def system_reverse(address: str) -> str | None:
    """The PTR name of an address from the system resolver (/etc/hosts first), or None."""
    try:
        ip = ipaddress.ip_address(address)
        sockaddr = (address, 0) if ip.version == 4 else (address, 0, 0, 0)
        name = socket.getnameinfo(sockaddr, socket.NI_NAMEREQD)[0]
    except (OSError, ValueError):
        return None
    return name.rstrip(".") or None


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """A few daemon workers for blocking name lookups (made on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="mtr-dns")
        return _POOL


class Mtr:
    """Runs MTR reports, at most `max_concurrent` at a time (MtrBusy beyond).

    resolve   host -> address, raising MtrResolveError (default: the system resolver, bounded)
    reverse   address -> name or None (default: getnameinfo); None turns names off
    interval  least seconds between the starts of two rounds
    max_duration  a run stops starting rounds once another could end after this many seconds
    """

    def __init__(self, max_concurrent: int = DEFAULT_CONCURRENCY, *, interval: float = DEFAULT_INTERVAL,
                 max_duration: float = DEFAULT_MAX_DURATION,
                 resolve: Callable[[str], str] = system_resolve,
                 reverse: Callable[[str], str | None] | None = system_reverse,
                 ptr_timeout: float = PTR_TIMEOUT, clock: Callable[[], float] = time.monotonic):
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.max_concurrent = max_concurrent
        self.interval = max(0.0, interval)
        self.max_duration = max_duration
        self.resolve = resolve
        self.reverse = reverse
        self.ptr_timeout = ptr_timeout
        self._clock = clock
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._names: dict[str, tuple[str | None, float]] = {}
        self._names_lock = threading.Lock()

    def run(self, host: str, rounds: int = DEFAULT_ROUNDS, max_hops: int = DEFAULT_MAX_HOPS,
            timeout: float = DEFAULT_TIMEOUT) -> MtrReport:
        if not 1 <= rounds <= MAX_ROUNDS:
            raise ValueError(f"rounds must be between 1 and {MAX_ROUNDS}")
        if not 1 <= max_hops <= MAX_HOPS:
            raise ValueError(f"max_hops must be between 1 and {MAX_HOPS}")
        if not 0 < timeout <= 60:
            raise ValueError("timeout must be more than 0 and at most 60 seconds")
        if not self._slots.acquire(blocking=False):
            raise MtrBusy(f"too many MTR runs are in progress (at most {self.max_concurrent} at a time); "
                          "try again in a moment")
        try:
            return self._run(host, rounds, max_hops, timeout)
        finally:
            self._slots.release()

    def _run(self, host: str, rounds: int, max_hops: int, timeout: float) -> MtrReport:
        started = self._clock()
        address = self.resolve(host)
        family = ipaddress.ip_address(address).version
        try:
            sock = (ICMPv4Socket if family == 4 else ICMPv6Socket)(privileged=True)
        except SocketPermissionError:
            raise MtrPermissionError(MTR_HELP) from None
        except ICMPLibError as exc:
            raise MtrError(f"cannot open an ICMP socket: {exc}") from None
        try:  # room for a burst of other ICMP while we read (it gets a copy of all of it)
            sock.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
        except (OSError, AttributeError):
            pass  # the default buffer: the drain before each round still keeps room
        results: list[dict[int, Reply]] = []
        ident = unique_identifier()
        limit = max_hops
        try:
            for index in range(rounds):
                round_start = self._clock()
                if index and round_start + timeout - started > self.max_duration:
                    break
                answers = _probe_round(sock, address, family, ident, index, limit, timeout)
                results.append(answers)
                ends = [ttl for ttl, (_, _, kind) in answers.items() if kind == "end"]
                if ends:
                    limit = min(limit, min(ends))
                if index + 1 < rounds:
                    pause = round_start + self.interval - self._clock()
                    if pause > 0:
                        time.sleep(pause)
        finally:
            sock.close()
        report = build_report(host, address, results)
        names = self._names_for([hop.address for hop in report.hops if hop.address])
        return build_report(host, address, results, names) if names else report

    # -- reverse DNS ------------------------------------------------------------------------

    def _names_for(self, addresses: list[str]) -> dict[str, str]:
        if self.reverse is None or not addresses:
            return {}
        now = self._clock()
        names: dict[str, str] = {}
        wanted = []
        with self._names_lock:
            for address in dict.fromkeys(addresses):
                cached = self._names.get(address)
                if cached is not None and cached[1] > now:
                    if cached[0]:
                        names[address] = cached[0]
                else:
                    wanted.append(address)
        futures = {address: _pool().submit(self.reverse, address) for address in wanted}
        deadline = self._clock() + self.ptr_timeout
        for address, future in futures.items():
            try:
                name = future.result(max(0.0, deadline - self._clock()))
            except FutureTimeout:
                future.cancel()  # not cached: the next run may get it
                continue
            except Exception:  # noqa: BLE001 - a broken lookup costs a name, not the report
                name = None
            name = _clean_name(name)
            with self._names_lock:
                if len(self._names) >= PTR_CACHE_SIZE:
                    self._names.clear()
                self._names[address] = (name, now + PTR_CACHE_TTL)
            if name:
                names[address] = name
        return names


def _clean_name(name) -> str | None:
    """A PTR answer is outside data: keep it only when it looks like a host name."""
    if not isinstance(name, str):
        return None
    name = name.strip().rstrip(".")
    if not name or len(name) > 253 or not name.isascii() or not all(
            ch.isalnum() or ch in "-._" for ch in name):
        return None
    return name


def _probe_round(sock, address: str, family: int, ident: int, index: int, limit: int,
                 timeout: float) -> dict[int, Reply]:
    """One probe per TTL 1..limit, then the answers that come back within `timeout`."""
    echo_reply, time_exceeded, unreachable = _TYPES[family]
    _drain(sock)
    sent: dict[int, tuple[int, float]] = {}  # sequence -> (ttl, send time)
    for ttl in range(1, limit + 1):
        sequence = index * _SEQ_STRIDE + ttl
        request = ICMPRequest(destination=address, id=ident, sequence=sequence, ttl=ttl)
        try:
            sock.send(request)
        except ICMPLibError as exc:
            if not sent:
                raise MtrError(f"cannot send probes to {address}: {exc}") from None
            break
        sent[sequence] = (ttl, request.time)
    answers: dict[int, Reply] = {}
    deadline = time.monotonic() + timeout
    late_reads = 0
    while sent:
        if _complete(answers, len(sent)):
            break
        left = deadline - time.monotonic()
        if left <= 0:
            # Past the deadline, still take what has already arrived: on a busy box this thread
            # may get the CPU back only after the deadline, and a reply waiting in the socket is
            # not a loss on the path (a bounded number, in case other ICMP keeps coming).
            late_reads += 1
            if late_reads > _LATE_READS:
                break
            left = _LATE_WAIT
        try:
            reply = sock.receive(None, left)
        except TimeoutExceeded:
            break
        except ICMPLibError as exc:
            raise MtrError(f"receiving ICMP answers failed: {exc}") from None
        if reply.id != ident or reply.sequence not in sent:
            continue  # another program's ICMP, or our own echo request seen on loopback
        if reply.type == time_exceeded:
            kind = "hop"
        elif reply.type in (echo_reply, unreachable):
            kind = "end"
        else:
            continue
        ttl, sent_at = sent[reply.sequence]
        if ttl not in answers:
            answers[ttl] = (reply.source, (reply.time - sent_at) * 1000.0, kind)
    return answers


def _drain(sock) -> None:
    """Throw away what queued up since the last round. A raw ICMP socket gets a copy of every
    ICMP packet on the host: other pings, other traces, our own echo requests on loopback. Left
    there, during the pause between rounds they can fill its buffer, and the kernel then drops
    this round's answers for want of room: loss that is not on the path."""
    until = time.monotonic() + _DRAIN_SECONDS  # a steady flood must not hold the trace up
    while time.monotonic() < until:
        try:
            sock.receive(None, _LATE_WAIT / 5)
        except TimeoutExceeded:
            return
        except ICMPLibError as exc:
            raise MtrError(f"receiving ICMP answers failed: {exc}") from None


def _complete(answers: dict[int, Reply], probes: int) -> bool:
    """Every hop up to the end of the path (or every probe) has answered."""
    ends = [ttl for ttl, (_, _, kind) in answers.items() if kind == "end"]
    last = min(ends) if ends else probes
    return all(ttl in answers for ttl in range(1, last + 1))
