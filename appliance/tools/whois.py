"""WHOIS (RFC 3912) client shared by the domain checker and the WHOIS API tool.

python-whois hard-codes port 43 and its own server table, so the conversation is ours and only
its parser (`whois.parser.WhoisEntry.load`) is borrowed. A lookup asks the first server
(whois.iana.org:43 unless configured) and follows referrals:

    IANA `refer:` / `whois:`  ->  TLD registry  ->  `Registrar WHOIS Server:`  ->  registrar
    IANA `refer:`             ->  regional internet registry  (`ReferralServer:` once more)

bounded in hops (no server twice), in time (one deadline for the whole chain) and in size (each
answer is cut at `max_bytes`). Only a checked domain name or IP address is ever sent, and
referral targets must be plain host names; they are asked on `referral_port` (43), or wherever
the `resolve` hook says (tests and air-gapped installs point them at their own servers).

Answers are cached (hours by default, failures for minutes) so a monitored domain costs a few
WHOIS queries a day, however often its monitor runs.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable, Mapping, Union

from appliance import targets

DEFAULT_SERVER = "whois.iana.org"
WHOIS_PORT = 43
DEFAULT_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 256 * 1024
MAX_HOPS = 4
CACHE_TTL = 6 * 3600.0  # a domain is asked at most ~4 times a day
ERROR_TTL = 15 * 60.0  # a failed lookup is not retried sooner than this
STALE_TTL = 7 * 24 * 3600.0  # how long an old answer may stand in when a refresh fails
CACHE_SIZE = 1024
# python-whois' patterns (its e-mail one above all) take time quadratic in the line length, so
# the parser sees only the start of an answer with every line cut short; records fit easily.
PARSE_CHARS = 64 * 1024
PARSE_LINE = 200
MAX_TARGET = 253

Route = tuple[str, int]
Resolve = Union[Mapping[str, Route], Callable[[str], Union[Route, None]]]

_REFERRAL_KEYS = ("refer", "whois", "registrar whois server", "whois server", "referralserver")
_REFERRAL = re.compile(
    r"^[ \t]*(refer|whois|registrar whois server|whois server|referralserver)[ \t]*:[ \t]*(\S*)[ \t\r]*$",
    re.IGNORECASE | re.MULTILINE,
)
_IANA_REFER = re.compile(r"^[ \t]*refer[ \t]*:[ \t]*\S", re.IGNORECASE | re.MULTILINE)
_FIELD = re.compile(r"([A-Za-z][\w-]{0,40})[ \t]*:(.*)")
_NOT_FOUND = re.compile(
    r"^[ \t]*(?:%+[ \t]*)?(?:no match|not found|no data found|no entries found|no object found|"
    r"domain not found|status:[ \t]*(?:free|available)|the queried object does not exist)",
    re.IGNORECASE | re.MULTILINE,
)


class WhoisError(Exception):
    """The lookup failed (no server answered in time, refused, unparseable); the message says why."""


class WhoisNotFound(WhoisError):
    """The registry answered: there is no registration for this name."""


class WhoisTimeout(WhoisError):
    """A WHOIS server did not answer in time (and nothing else answered what was asked)."""


@dataclass(frozen=True)
class WhoisResult:
    target: str
    kind: str  # "domain" or "ip"
    registrar: str | None = None
    creation_date: datetime | None = None  # aware, UTC
    expiration_date: datetime | None = None  # aware, UTC; the earliest when the record lists several
    name_servers: tuple[str, ...] = ()  # sorted, lowercase, no trailing dot
    raw: str = ""  # every answer of the chain, each after a "% <server>" line, cut at max_bytes
    servers: tuple[str, ...] = ()  # the servers asked, in order
    truncated: bool = False  # an answer (or raw) was longer than max_bytes and was cut
    incomplete: str | None = None  # why the chain stopped early (a referred server failed), if it did
    network_name: str | None = None  # ip only
    network_range: str | None = None  # ip only: inetnum / inet6num / NetRange / CIDR as written
    organisation: str | None = None  # ip only: org-name / OrgName / Organization / descr
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def to_dict(self) -> dict:
        """The WHOIS tool's shape (datetimes left as datetimes for the JSON layer to format)."""
        out = {
            "target": self.target, "kind": self.kind, "registrar": self.registrar,
            "creation_date": self.creation_date, "expiration_date": self.expiration_date,
            "name_servers": list(self.name_servers), "raw": self.raw,
        }
        if self.kind == "ip":
            out.update(network_name=self.network_name, range=self.network_range,
                       organisation=self.organisation)
        return out


def normalize_target(text: object) -> tuple[str, str]:
    """("domain", name) or ("ip", address) for a WHOIS target; ValueError for anything else.

    Only ASCII host names (internationalised names in their xn-- form) and IP addresses pass:
    no spaces, control characters, slashes, shell characters, scope ids or over-long input.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("the WHOIS target is empty; give a domain name or an IP address")
    shown = repr(text[:60]) + ("..." if len(text) > 60 else "")
    if len(text) > MAX_TARGET + 1:
        raise ValueError(f"{shown} is longer than {MAX_TARGET} characters; give a domain name or an IP address")
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"{shown} contains characters other than ASCII letters, digits, dots and hyphens "
                         "(write internationalised names in their xn-- form)")
    address = targets.ip(text)
    if address is not None:
        return "ip", address
    name = text.lower()
    if name.endswith("."):
        name = name[:-1]
    if not targets.is_domain_name(name):
        raise ValueError(f"{shown} is not a domain name (like example.com) or an IP address")
    return "domain", name


class WhoisCache:
    """Thread-safe, size-bounded cache of lookup outcomes with per-entry freshness.

    An entry is fresh for its ttl; an old answer may still be read as stale (for a checker that
    wants the last known expiry while WHOIS is unreachable) until `stale_ttl`. The least recently
    used entries go first when the cache is full.
    """

    def __init__(self, max_entries: int = CACHE_SIZE, clock: Callable[[], float] = time.monotonic):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict = OrderedDict()  # key -> (value, fresh_until, keep_until)

    def get(self, key, stale_ok: bool = False):
        """The value if fresh (or, with stale_ok, not yet past keep time); else None."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, fresh_until, keep_until = entry
            if now >= keep_until:
                del self._entries[key]
                return None
            if now >= fresh_until and not stale_ok:
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key, value, ttl: float, keep: float | None = None) -> None:
        now = self._clock()
        fresh_until = now + ttl
        keep_until = max(fresh_until, now + keep) if keep is not None else fresh_until
        with self._lock:
            self._entries[key] = (value, fresh_until, keep_until)
            self._entries.move_to_end(key)
            if len(self._entries) > self.max_entries:
                for old in [k for k, (_, _, until) in self._entries.items() if until <= now]:
                    del self._entries[old]
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


@dataclass(frozen=True)
class _Failure:
    message: str
    not_found: bool
    timed_out: bool = False


@dataclass
class _Answer:
    server: str
    text: str
    truncated: bool


class WhoisClient:
    """Asks WHOIS servers for a domain or an IP address and parses the most specific answer.

    server         first server, "host[:port]" (None: whois.iana.org:43)
    timeout        default deadline in seconds for a whole lookup (all hops together)
    referral_port  port of the servers that answers refer to (WHOIS is port 43)
    resolve        where to reach a referred server: a function host -> (address, port) or None
                   (None: do not follow), or a mapping host -> (address, port), which is then the
                   complete table (a referral to a host it does not list is not followed)
    max_bytes      an answer longer than this is cut (and the result marked truncated)
    max_hops       servers asked per lookup at most, the first one included
    cache_ttl, error_ttl, stale_ttl, cache_size, clock   the answer cache (see WhoisCache)
    source_address local address to send from (probes)

    Thread-safe; concurrent lookups of the same target share one conversation.
    """

    def __init__(self, server: str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                 referral_port: int = WHOIS_PORT, resolve: Resolve | None = None,
                 max_bytes: int = MAX_RESPONSE_BYTES, max_hops: int = MAX_HOPS,
                 cache_ttl: float = CACHE_TTL, error_ttl: float = ERROR_TTL, stale_ttl: float = STALE_TTL,
                 cache_size: int = CACHE_SIZE, clock: Callable[[], float] = time.monotonic,
                 cache: WhoisCache | None = None, source_address: str | None = None):
        try:
            self.server = targets.host_port(server or DEFAULT_SERVER, WHOIS_PORT)
        except ValueError as exc:
            raise ValueError(f"WHOIS server {server!r}: {exc}") from None
        if not 1 <= referral_port <= 65535:
            raise ValueError("referral_port must be between 1 and 65535")
        if max_hops < 1 or max_bytes < 1024 or timeout <= 0:
            raise ValueError("max_hops must be at least 1, max_bytes at least 1024 and timeout positive")
        self.timeout = float(timeout)
        self.referral_port = referral_port
        self.max_bytes = max_bytes
        self.max_hops = max_hops
        self.cache_ttl = cache_ttl
        self.error_ttl = error_ttl
        self.stale_ttl = stale_ttl
        self.source_address = source_address
        self.cache = cache if cache is not None else WhoisCache(cache_size, clock)
        self._resolve = resolve
        self._lock = threading.Lock()
        self._inflight: dict[tuple[str, str], threading.Event] = {}

    # -- public -------------------------------------------------------------------------------

    def lookup(self, target: str, timeout: float | None = None, *, use_cache: bool = True) -> WhoisResult:
        """The WHOIS record of a domain name or an IP address.

        Raises ValueError for an invalid target (before any network traffic), WhoisNotFound when
        the registry has no such registration, WhoisError when the lookup failed."""
        key = normalize_target(target)
        limit = self.timeout if timeout is None else float(timeout)
        deadline = time.monotonic() + max(limit, 0.001)
        while True:
            with self._lock:
                if use_cache:
                    hit = self.cache.get(key)
                    if hit is None:
                        hit = self.cache.get((*key, "failure"))
                    if hit is not None:
                        return _unwrap(hit)
                waiting = self._inflight.get(key)
                if waiting is None:
                    done = self._inflight[key] = threading.Event()
                    break
            left = deadline - time.monotonic()
            if left <= 0 or not waiting.wait(left):
                raise WhoisTimeout(f"no WHOIS answer for {key[1]} within {limit:g} s (another lookup of it is running)")
            if not use_cache:
                hit = self.cache.get(key) or self.cache.get((*key, "failure"))
                if hit is not None:
                    return _unwrap(hit)
        try:
            try:
                result = self._lookup(key, deadline, limit)
            except WhoisError as exc:
                # Kept apart from the last good answer, which stays readable as stale.
                self.cache.put((*key, "failure"), _Failure(str(exc), isinstance(exc, WhoisNotFound),
                                                         isinstance(exc, WhoisTimeout)),
                               self.error_ttl)
                raise
            self.cache.put(key, result, self.cache_ttl, keep=self.stale_ttl)
            return result
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            done.set()

    def cached(self, target: str, stale_ok: bool = False) -> WhoisResult | None:
        """The cached record (fresh, or with stale_ok also an older one), without any traffic."""
        try:
            key = normalize_target(target)
        except ValueError:
            return None
        value = self.cache.get(key, stale_ok=stale_ok)
        return value if isinstance(value, WhoisResult) else None

    # -- the conversation ---------------------------------------------------------------------

    def _lookup(self, key: tuple[str, str], deadline: float, limit: float) -> WhoisResult:
        kind, target = key
        host, port = self.server
        route: Route = (host, port)
        answers: list[_Answer] = []
        visited: set = set()
        stopped: str | None = None
        timed_out = False  # the chain stopped because a server did not answer in time
        for _ in range(self.max_hops):
            visited.update({host, route})
            try:
                data, truncated = self._ask(route, target, deadline)
            except OSError as exc:
                problem = _describe(exc, host, limit)
                timed_out = isinstance(exc, socket.timeout)
                if not answers:
                    raise (WhoisTimeout if timed_out else WhoisError)(problem) from None
                stopped = problem
                break
            if not data.strip():
                problem = f"the WHOIS server {host} closed the connection without answering"
                if not answers:
                    raise WhoisError(problem)
                stopped = problem
                break
            text = _decode(data)
            answers.append(_Answer(host, text, truncated))
            referral = _referral(text, host)
            if referral is None:
                break
            next_route = None if referral in visited else self._route(referral)
            if referral in visited or next_route in visited:
                if _IANA_REFER.search(text):  # nothing but a referral back to where we were
                    stopped = f"the WHOIS servers refer to each other in a loop ({host} -> {referral})"
                break
            if next_route is None:
                stopped = f"the referral to {referral} was not followed (no route to it)"
                break
            host, route = referral, next_route
        else:  # every hop referred onwards
            stopped = f"stopped after {self.max_hops} WHOIS servers (the next would have been {host})"

        raw, raw_cut = _join(answers, self.max_bytes)
        common = dict(target=target, kind=kind, raw=raw, servers=tuple(a.server for a in answers),
                      truncated=raw_cut or any(a.truncated for a in answers), incomplete=stopped)
        # An IANA-style answer that refers onwards describes the TLD or the /8, not our target.
        data = [a for i, a in enumerate(answers) if i == len(answers) - 1 or not _IANA_REFER.search(a.text)]
        if len(data) == 1 and _IANA_REFER.search(data[0].text) and stopped:
            raise (WhoisTimeout if timed_out else WhoisError)(stopped)
        data.reverse()  # most specific first
        if kind == "ip":
            return _ip_result(target, data, common, stopped)
        return _domain_result(target, data, common, stopped)

    def _route(self, host: str) -> Route | None:
        resolve = self._resolve
        if resolve is None:
            return (host, self.referral_port)
        if isinstance(resolve, Mapping):
            return resolve.get(host)
        return resolve(host)

    def _ask(self, route: Route, query: str, deadline: float) -> tuple[bytes, bool]:
        address, port = route
        source = (self.source_address, 0) if self.source_address else None
        sock = socket.create_connection((address, port), timeout=_left(deadline), source_address=source)
        try:
            sock.settimeout(_left(deadline))
            sock.sendall(query.encode("ascii") + b"\r\n")
            chunks: list[bytes] = []
            size = 0
            while size < self.max_bytes:
                sock.settimeout(_left(deadline))
                chunk = sock.recv(min(65536, self.max_bytes - size))
                if not chunk:
                    return b"".join(chunks), False
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks), True
        finally:
            sock.close()


# -- parsing ----------------------------------------------------------------------------------


def _domain_result(target: str, answers: list[_Answer], common: dict, stopped: str | None) -> WhoisResult:
    entries = [_parse_domain(target, a.text) for a in answers]
    found = [e for e in entries if e is not None and _has_data(e)]
    if not found:
        if stopped:
            raise WhoisError(stopped)
        if any(e is None for e in entries) or any(_NOT_FOUND.search(a.text) for a in answers):
            raise WhoisNotFound(f"the WHOIS registry has no registration for {target}")
        raise WhoisNotFound(f"the WHOIS answer for {target} holds no registration data")
    expiration = creation = registrar = None
    name_servers: tuple[str, ...] = ()
    for entry in found:  # each field from the most specific answer that has it
        expiration = expiration or _earliest(entry.get("expiration_date"))
        creation = creation or _earliest(entry.get("creation_date"))
        registrar = registrar or _text(entry.get("registrar"))
        name_servers = name_servers or _name_servers(entry.get("name_servers"))
    return WhoisResult(registrar=registrar, creation_date=creation, expiration_date=expiration,
                       name_servers=name_servers, **common)


def _parse_domain(domain: str, text: str):
    """A WhoisEntry, or None when the parser says the name is not registered."""
    from whois.exceptions import PywhoisError  # imported on first use: python-whois and dateutil
    from whois.parser import WhoisEntry, cast_date  # cost ~1.6 MB most appliances rarely need

    text = "\n".join(line[:PARSE_LINE] for line in text[:PARSE_CHARS].split("\n"))
    try:
        return WhoisEntry.load(domain, text)
    except PywhoisError as exc:
        if type(exc).__name__ == "WhoisDomainNotFoundError":
            return None
    except Exception:  # noqa: BLE001 - a parser bug must not cost us the rest of the answer
        pass
    # Fall back to field-by-field reading (e.g. one date in a format the parser rejects).
    entry = {}
    for name, pattern in WhoisEntry._regex.items():
        values = []
        for match in re.findall(pattern, text, re.IGNORECASE | re.MULTILINE):
            value = (match if isinstance(match, str) else match[0]).strip()
            if "_date" in name:
                try:
                    value = cast_date(value)
                except Exception:  # noqa: BLE001
                    continue
            if value:
                values.append(value)
        entry[name] = values[-1] if name == "registrar" and values else (values or None)
    return entry


def _has_data(entry) -> bool:
    return any(entry.get(name) for name in ("domain_name", "expiration_date", "creation_date", "registrar"))


def _ip_result(target: str, answers: list[_Answer], common: dict, stopped: str | None) -> WhoisResult:
    address = ipaddress.ip_address(target)
    for answer in answers:
        block = _network_block(answer.text[:PARSE_CHARS], address)
        if block is None:
            continue
        net, whole = block
        organisation = (_first(net, "organization", "org-name", "orgname")
                        or _first(whole, "org-name", "orgname")
                        or _first(net, "descr", "owner", "organisation"))
        if organisation:
            organisation = re.sub(r"\s*\([A-Z0-9-]+\)$", "", organisation)  # ARIN's "(HANDLE)"
        created = _earliest(_first(net, "regdate", "created"))
        return WhoisResult(network_name=_first(net, "netname", "network-name", "net-name"),
                           network_range=_first(net, "inetnum", "inet6num", "netrange", "cidr"),
                           organisation=organisation or None, creation_date=created, **common)
    if stopped:
        raise WhoisError(stopped)
    raise WhoisNotFound(f"the WHOIS answers hold no network record for {target}")


def _network_block(text: str, address) -> tuple[dict, dict] | None:
    """The fields of the most specific network object containing the address, and of the whole answer."""
    whole: dict[str, list[str]] = {}
    best, best_size = None, None
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        fields: dict[str, list[str]] = {}
        for line in chunk.split("\n"):
            if line[:1] in ("%", "#"):
                continue
            match = _FIELD.match(line[:PARSE_LINE])
            value = match.group(2).strip() if match else ""
            if value:
                key = match.group(1).lower()
                fields.setdefault(key, []).append(value)
                whole.setdefault(key, []).append(value)
        span = _first(fields, "inetnum", "inet6num", "netrange", "cidr")
        if not span:
            continue
        size = _span_size(fields, address)
        if best is None or (size is not None and (best_size is None or size < best_size)):
            best, best_size = fields, size
    return (best, whole) if best is not None else None


def _span_size(fields: dict, address) -> int | None:
    for key in ("inetnum", "inet6num", "netrange", "cidr"):
        for value in fields.get(key, ()):
            try:
                if "-" in value:
                    low, high = (ipaddress.ip_address(part.strip()) for part in value.split("-", 1))
                    if low.version == address.version and low <= address <= high:
                        return int(high) - int(low)
                else:
                    for part in value.split(","):
                        net = ipaddress.ip_network(part.strip(), strict=False)
                        if net.version == address.version and address in net:
                            return net.num_addresses - 1
            except ValueError:
                continue
    return None


def _first(fields: dict, *keys: str) -> str | None:
    for key in keys:
        for value in fields.get(key, ()):
            if value and value.strip():
                return value.strip()[:300]
    return None


def _earliest(value) -> datetime | None:
    from whois.parser import cast_date

    items = value if isinstance(value, (list, tuple)) else [value]
    found = []
    for item in items:
        if isinstance(item, str) and item.strip():
            try:
                item = cast_date(item.strip())
            except Exception:  # noqa: BLE001 - an unreadable date is no date
                continue
        if isinstance(item, datetime):
            found.append(item.replace(tzinfo=timezone.utc) if item.tzinfo is None
                         else item.astimezone(timezone.utc))
        elif isinstance(item, date):
            found.append(datetime(item.year, item.month, item.day, tzinfo=timezone.utc))
    return min(found) if found else None


def _text(value) -> str | None:
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, str) and item.strip():
            return item.strip()[:300]
    return None


def _name_servers(value) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else [value]
    names = set()
    for item in items:
        if not isinstance(item, str) or not item.split():
            continue
        name = item.split()[0].lower().rstrip(".")
        if targets.is_host_name(name):
            names.add(name)
    return tuple(sorted(names))


def _referral(text: str, current: str) -> str | None:
    """The next server an answer points to (a checked host name), or None."""
    found: dict[str, str] = {}
    for key, value in _REFERRAL.findall(text):
        found.setdefault(key.lower(), value)
    for key in _REFERRAL_KEYS:
        value = found.get(key, "").strip()
        lowered = value.lower()
        if not value or lowered.startswith(("rwhois://", "http://", "https://")):
            continue
        if lowered.startswith("whois://"):
            value = value[len("whois://"):]
        value = value.split("/", 1)[0]
        if value.count(":") == 1:  # host:port -> the port is not taken from an answer
            value = value.split(":", 1)[0]
        try:
            host = targets.ascii_host(value)
        except ValueError:
            continue
        return None if host == current.lower() else host
    return None


def _join(answers: list[_Answer], max_bytes: int) -> tuple[str, bool]:
    text = "\n".join(f"% {a.server}\n{a.text.rstrip()}\n" for a in answers)
    if len(text) <= max_bytes:
        return text, False
    return text[:max_bytes], True


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n")


def _unwrap(value):
    if isinstance(value, _Failure):
        kind = WhoisNotFound if value.not_found else (WhoisTimeout if value.timed_out else WhoisError)
        raise kind(value.message)
    return value


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout("timed out")
    return left


def _describe(exc: OSError, host: str, limit: float) -> str:
    if isinstance(exc, socket.timeout):
        return f"the WHOIS server {host} did not answer within {limit:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return f"the WHOIS server {host} refused the connection"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the WHOIS server {host} ({exc.strerror})"
    return f"the WHOIS server {host} failed: {exc.strerror or exc}"
