"""Login throttling: how many password guesses a client gets, in memory (one process serves all),
or in cluster mode in PostgreSQL (SharedMeters: one budget across the nodes behind a balancer).

Three rules, checked and counted in one step under one lock, before the password is verified:
- per (account, client address): `rate.amount` failed logins, a budget that refills at that many
  per `rate.period` (10 per 15 minutes: 10 in a row, then one every 90 s). This is what blocks a
  guesser, and only for that account from that address;
- per client address, across accounts (credential stuffing): CLIENT_FACTOR times that budget;
- per account, a backoff: once an account has had more failures than the budget from anywhere
  (refilling at the same rate), every client waits between its attempts at it: 1 s, doubled with
  each further failure, at most BACKOFF_CAP seconds. A client that has not failed at the account
  is never held back by other clients' failures, so a stranger cannot lock anyone out.

An attempt is counted when it is let through (so N concurrent guesses get at most the budget
checked); a successful login gives it back and clears that client's failures at that account.
The clock is injected: the rules are tested without sleeping. Where the meters live is a
`Meters` (MemoryMeters, SharedMeters): a session that hands out the meters of one attempt, under
a lock held for the session.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from server.proxies import parse_address

CLIENT_FACTOR = 5
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
MAX_ENTRIES = 50_000  # per table; beyond it the least recently used entries are forgotten
_PRUNE_EVERY = 1024


@dataclass(frozen=True)
class Rate:
    amount: int
    period: float  # seconds

    @property
    def per_second(self) -> float:
        return self.amount / self.period


class Throttled(Exception):
    """The attempt was refused; `retry_after` seconds until it would be let through."""

    def __init__(self, retry_after: float, limit: int, reason: str, first: bool):
        super().__init__(reason)
        self.retry_after = retry_after
        self.limit = limit  # the budget of the rule that refused
        self.reason = reason  # "account", "client" or "backoff"
        self.first = first  # the first refusal since this client's last attempt let through


class _Meter:
    """A leaky bucket: `level` failures, draining at the rule's rate."""

    __slots__ = ("level", "at", "last_attempt", "refused")

    def __init__(self, now: float):
        self.level, self.at = 0.0, now
        self.last_attempt: float | None = None
        self.refused = False

    @classmethod
    def of(cls, row) -> "_Meter":
        """From a stored row: [level, at, last_attempt, refused, ...]."""
        meter = cls(row[1])
        meter.level, meter.last_attempt, meter.refused = row[0], row[2], bool(row[3])
        return meter

    def drain(self, now: float, rate: float) -> float:
        self.level = max(0.0, self.level - (now - self.at) * rate)
        self.at = now
        return self.level


class Attempt:
    """A login attempt let through; counted as a failure unless succeeded() or cancelled()."""

    def __init__(self, throttle: "LoginThrottle", account: str, client: str):
        self._throttle, self.account, self.client = throttle, account, client
        self._open = True

    def succeeded(self) -> None:
        """The password was right: give the attempt back and forget this client's failures here
        (at this account, and in the client's and the account's totals)."""
        if self._open:
            self._open = False
            self._throttle._give_back(self.account, self.client, clear_pair=True)

    def cancelled(self) -> None:
        """Nothing was checked (an error on our side): give the attempt back."""
        if self._open:
            self._open = False
            self._throttle._give_back(self.account, self.client, clear_pair=False)


PAIR, CLIENT, ACCOUNT = "pair", "client", "account"


class MemoryMeters:
    """The meters in this process: three tables, least recently used first."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES):
        self.clock = clock
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self.tables: dict[str, dict] = {PAIR: {}, CLIENT: {}, ACCOUNT: {}}
        self._operations = 0

    @contextmanager
    def session(self, keys: dict[str, object], rates: dict[str, "Rate"]) -> Iterator["_Session"]:
        with self._lock:
            session = _Session(self.clock(), {kind: self.tables[kind].get(key) for kind, key in keys.items()})
            yield session
            for kind, key in keys.items():
                table, meter = self.tables[kind], session.meters[kind]
                if meter is None:
                    table.pop(key, None)
                else:  # the most recently used go to the end
                    table.pop(key, None)
                    table[key] = meter
            if session.counted:
                self._tidy(session.now, rates)

    def _tidy(self, now: float, rates: dict[str, "Rate"]) -> None:
        """Forget what no longer matters, now and then; keep each table under max_entries."""
        self._operations += 1
        if self._operations % _PRUNE_EVERY and all(len(t) <= self.max_entries for t in self.tables.values()):
            return
        for kind, table in self.tables.items():
            for key in [k for k, m in table.items() if _spent(m, now, rates[kind])]:
                del table[key]
            if len(table) > self.max_entries:  # forget the least recently used, with room to spare
                for key in list(itertools.islice(table, len(table) - self.max_entries * 9 // 10)):
                    del table[key]


class SharedMeters:
    """Cluster mode: the meters in PostgreSQL (appliance/storage/shared_limits.py), read and written
    in one transaction under one lock for all nodes; times by the database's clock unless a clock
    is given (tests)."""

    def __init__(self, store, clock: Callable[[], float] | None = None):
        self.store = store
        self.clock = clock

    @contextmanager
    def session(self, keys: dict[str, object], rates: dict[str, "Rate"]) -> Iterator["_Session"]:
        names = {kind: _stored_key(kind, key) for kind, key in keys.items()}
        with self.store.meters(list(names.values())) as (db_now, rows):
            now = db_now if self.clock is None else self.clock()
            meters = {}
            for kind, name in names.items():
                row = rows.get(name)
                meters[kind] = None if row is None else _Meter.of(row)
            session = _Session(now, meters)
            yield session
            for kind, name in names.items():
                meter = session.meters[kind]
                if meter is None:
                    rows.pop(name, None)
                else:
                    rows[name] = [meter.level, meter.at, meter.last_attempt, meter.refused, rates[kind].per_second]


def _stored_key(kind: str, key) -> str:
    return f"{kind}:{key[0]}\n{key[1]}" if kind == PAIR else f"{kind}:{key}"


class _Session:
    """One attempt's (or give-back's) meters: None where there is none."""

    def __init__(self, now: float, meters: dict[str, "_Meter | None"]):
        self.now = now
        self.meters = meters
        self.counted = False

    def count(self, kind: str) -> "_Meter":
        """One more failure (until given back) on this meter; a meter is made only here, for an
        attempt let through."""
        meter = self.meters[kind] or _Meter(self.now)
        meter.level += 1
        self.meters[kind] = meter
        self.counted = True
        return meter


class LoginThrottle:
    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = MAX_ENTRIES, meters: MemoryMeters | SharedMeters | None = None):
        self.rate = rate
        self.client_rate = Rate(rate.amount * CLIENT_FACTOR, rate.period)
        self.meters = meters or MemoryMeters(clock, max_entries)
        self._rates = {PAIR: self.rate, CLIENT: self.client_rate, ACCOUNT: self.rate}

    def attempt(self, account: str, client: str) -> Attempt:
        """Let one attempt at `account` from `client` through and count it, or raise Throttled."""
        refused = None
        with self.meters.session({PAIR: (account, client), CLIENT: client, ACCOUNT: account}, self._rates) as s:
            now = s.now
            pair, by_client, by_account = s.meters[PAIR], s.meters[CLIENT], s.meters[ACCOUNT]
            for meter, rate in ((pair, self.rate), (by_client, self.client_rate), (by_account, self.rate)):
                if meter is not None:
                    meter.drain(now, rate.per_second)
            refusals = []
            if pair is not None:
                if pair.level + 1 > self.rate.amount + 1e-9:
                    refusals.append(((pair.level + 1 - self.rate.amount) / self.rate.per_second,
                                     self.rate.amount, "account", pair))
                delay = self.backoff(by_account.level if by_account else 0.0)
                if delay and pair.last_attempt is not None and now < pair.last_attempt + delay:
                    refusals.append((pair.last_attempt + delay - now, self.rate.amount, "backoff", pair))
            if by_client is not None and by_client.level + 1 > self.client_rate.amount + 1e-9:
                refusals.append(((by_client.level + 1 - self.client_rate.amount) / self.client_rate.per_second,
                                 self.client_rate.amount, "client", by_client))
            if refusals:
                wait, limit, reason, meter = max(refusals, key=lambda refusal: refusal[0])
                first, meter.refused = not meter.refused, True
                refused = Throttled(wait, limit, reason, first)
            else:
                pair = s.count(PAIR)
                s.count(CLIENT).refused = False
                s.count(ACCOUNT)
                pair.last_attempt, pair.refused = now, False
        if refused is not None:  # raised after the session, so the refusal's mark is kept
            raise refused
        return Attempt(self, account, client)

    def backoff(self, account_failures: float) -> float:
        """Seconds each client waits between attempts at an account with this many recent failures."""
        beyond = math.ceil(account_failures - self.rate.amount - 1e-9)
        if beyond <= 0:
            return 0.0
        return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(beyond - 1, 32))

    def _give_back(self, account: str, client: str, clear_pair: bool) -> None:
        """Take this attempt off the meters, or (clear_pair) all of this client's failures at
        this account: the account's owner has shown they were typos."""
        with self.meters.session({PAIR: (account, client), CLIENT: client, ACCOUNT: account}, self._rates) as s:
            now, pair = s.now, s.meters[PAIR]
            taken = 1.0
            if pair is not None:
                pair.drain(now, self.rate.per_second)
                taken = max(1.0, pair.level) if clear_pair else 1.0
                pair.level = max(0.0, pair.level - taken)
                if clear_pair:
                    s.meters[PAIR] = None
            for kind, rate in ((CLIENT, self.client_rate), (ACCOUNT, self.rate)):
                meter = s.meters[kind]
                if meter is not None:
                    meter.level = max(0.0, meter.drain(now, rate.per_second) - taken)


def _spent(meter: "_Meter", now: float, rate: Rate) -> bool:
    drained = meter.level - (now - meter.at) * rate.per_second <= 0
    waited = meter.last_attempt is None or now - meter.last_attempt >= BACKOFF_CAP
    return drained and waited


def client_key(address: str | None) -> str:
    """The throttled unit of a client address: the address itself, or for IPv6 its /64 (one
    subscriber usually holds a whole /64 and could otherwise take a fresh budget per address)."""
    ip = parse_address(address or "")
    if ip is None:
        return address or "unknown"
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
