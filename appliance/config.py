"""Settings: built once from `serve` flags over `STATUSCORE_*` environment variables over defaults.

Nothing reads the environment after start-up; the Settings object is passed to whatever needs it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from appliance.hostport import parse_host_port
from appliance.passwords import MAX_LOG2_N, MIN_LOG2_N, OWASP_LOG2_N
from appliance.plans import DEFAULTS as PLAN_DEFAULTS, KINDS as LIMITED_KINDS, MAX_LIMIT, PLANS, setting_name

ENV_PREFIX = "STATUSCORE_"
_RATE = re.compile(r"^\s*\d+\s*(/|per)\s*\d*\s*(second|minute|hour|day)s?\s*$", re.I)


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message says which and what to do."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "statuscore"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8080
    rate_limit: str = "100/minute"
    login_rate_limit: str = "10/15 minutes"  # failed logins per (account, client address)
    heartbeat_rate_limit: str = "60/minute"  # calls per heartbeat URL
    mtr_rate_limit: str = "10/minute"  # MTR runs per user (on top of rate_limit)
    mtr_concurrency: int = 2  # MTR runs in progress at once, across all users
    token_ttl_seconds: int = 24 * 3600
    admin_email: str | None = None
    admin_password: str | None = None
    public_url: str | None = None  # how users reach this appliance (links in notifications)
    trusted_proxies: tuple[str, ...] = ()  # reverse proxies (addresses, networks) whose X-Forwarded-For is believed
    webhook_timeout: float = 10.0
    webhook_backoff: tuple[float, ...] = (15.0, 45.0, 135.0, 405.0)  # waits between attempts, seconds
    anomaly_sensitivity: str = "medium"  # low, medium, high, or a number (higher finds more)
    quorum: float = 0.5  # down when more than this share of the reporting locations see it down
    probe_offline_after: float = 90.0  # seconds of silence before a probe counts as offline
    probe_max_age: float = 6 * 3600.0  # oldest spooled probe result accepted, seconds
    location: str = "local"
    location_display_name: str = "Local"
    dns_servers: tuple[str, ...] = ()
    whois_server: str | None = None
    whois_referral_port: int = 43  # port of the registry/registrar servers IANA refers to
    ca_file: str | None = None  # extra CA certificates https checks trust (a private CA)
    check_workers: int = 64
    http_threads: int = 8
    max_connections: int = 1000  # open API connections; at the limit the idlest or slowest is closed
    header_timeout: float = 10.0  # seconds a client has to send a request's line and headers
    request_timeout: float = 30.0  # seconds a client has to send a whole request, body included
    idle_timeout: float = 60.0  # seconds an idle keep-alive connection is kept open
    retention_days: int = 90
    flush_interval: float = 0.5
    history_memory_limit: str = "256MB"  # DuckDB's buffer pool for the history
    maintenance_interval: float = 300.0  # seconds between history upkeep rounds
    status_page_cache_seconds: float = 5.0  # public status pages are assembled at most this often
    secret: str | None = None  # only from STATUSCORE_SECRET; otherwise the data dir's secret file
    password_hash_cost: int = OWASP_LOG2_N  # scrypt N = 2^this (r=8, p=1); below 17 only for tests
    password_hash_concurrency: int = 2  # password hashes computed at once (each 2^cost x 1 KiB of memory)
    # What one user may hold, per plan (appliance/plans.py; admins get the pro limits; 0: no limit).
    free_max_monitors: int = PLAN_DEFAULTS["free"]["monitors"]
    free_max_webhooks: int = PLAN_DEFAULTS["free"]["webhooks"]
    free_max_api_keys: int = PLAN_DEFAULTS["free"]["api_keys"]
    free_max_maintenance_windows: int = PLAN_DEFAULTS["free"]["maintenance_windows"]
    pro_max_monitors: int = PLAN_DEFAULTS["pro"]["monitors"]
    pro_max_webhooks: int = PLAN_DEFAULTS["pro"]["webhooks"]
    pro_max_api_keys: int = PLAN_DEFAULTS["pro"]["api_keys"]
    pro_max_maintenance_windows: int = PLAN_DEFAULTS["pro"]["maintenance_windows"]

    @property
    def entities_path(self) -> Path:
        return self.data_dir / "statuscore.sqlite"

    @property
    def history_path(self) -> Path:
        return self.data_dir / "history.duckdb"

    @property
    def alive_path(self) -> Path:
        """Touched every few seconds while serving: after a crash its time says when we stopped."""
        return self.data_dir / "alive"

    @property
    def secret_path(self) -> Path:
        return self.data_dir / "secret"

    @property
    def link_base(self) -> str:
        return (self.public_url or self.base_url).rstrip("/")

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @classmethod
    def load(cls, overrides: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None) -> "Settings":
        """Defaults, then the environment, then explicit overrides (CLI flags); None means 'not given'."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw.strip() != "":
                values[f.name] = _convert(f.name, raw.strip())
        for name, value in (overrides or {}).items():
            if value is not None:
                values[name] = _convert(name, value) if isinstance(value, str) else value
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not (1 <= self.port <= 65535):
            raise ConfigError(f"port {self.port} is out of range; use 1-65535")
        for name in ("rate_limit", "login_rate_limit", "heartbeat_rate_limit", "mtr_rate_limit"):
            if not _RATE.match(getattr(self, name)):
                raise ConfigError(
                    f"{name} {getattr(self, name)!r} is not a rate; write it like '100/minute'"
                )
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", self.location):
            raise ConfigError(
                f"location {self.location!r} is not a valid name; use lowercase letters, digits and hyphens"
            )
        if self.check_workers < 1 or self.http_threads < 1:
            raise ConfigError("check_workers and http_threads must be at least 1")
        if not 10 <= self.max_connections <= 100_000:
            raise ConfigError("max_connections must be between 10 and 100000")
        if not 1 <= self.header_timeout <= self.request_timeout <= 600:
            raise ConfigError("header_timeout and request_timeout must be 1-600 seconds, header_timeout "
                              "not above request_timeout")
        if not 1 <= self.idle_timeout <= 3600:
            raise ConfigError("idle_timeout must be between 1 and 3600 seconds")
        if not 1 <= self.mtr_concurrency <= 64:
            raise ConfigError("mtr_concurrency must be between 1 and 64")
        if not 0 <= self.status_page_cache_seconds <= 300:
            raise ConfigError("status_page_cache_seconds must be between 0 and 300")
        if self.retention_days < 1:
            raise ConfigError("retention_days must be at least 1")
        if self.token_ttl_seconds < 60:
            raise ConfigError("token_ttl_seconds must be at least 60")
        for text in self.dns_servers:
            _check_host_port("dns_servers", text, 53)
        if self.whois_server:
            _check_host_port("whois_server", self.whois_server, 43)
        if self.anomaly_sensitivity not in ("low", "medium", "high"):
            try:
                if float(self.anomaly_sensitivity) <= 0:
                    raise ValueError
            except ValueError:
                raise ConfigError("anomaly_sensitivity must be low, medium, high or a positive number") from None
        if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)", self.history_memory_limit.strip(), re.I):
            raise ConfigError(f"history_memory_limit {self.history_memory_limit!r} is not a size; write it like 256MB")
        if not 0.0 <= self.quorum < 1.0:
            raise ConfigError("quorum must be at least 0 and below 1 (0.5: more than half of the locations)")
        if not 1 <= self.probe_offline_after <= 86400:
            raise ConfigError("probe_offline_after must be between 1 and 86400 seconds")
        # At most the window the deduplication watermarks are rebuilt from after a restart.
        if not 60 <= self.probe_max_age <= 2 * 86400:
            raise ConfigError("probe_max_age must be between 60 and 172800 seconds (2 days)")
        if not 0 < self.webhook_timeout <= 300:
            raise ConfigError("webhook_timeout must be above 0 and at most 300 seconds")
        if not 1 <= len(self.webhook_backoff) <= 20 or not all(0 < w <= 86400 for w in self.webhook_backoff):
            raise ConfigError("webhook_backoff must be 1-20 comma-separated waits in seconds, each above 0 "
                              "and at most 86400 (e.g. 15,45,135,405)")
        if not 1 <= self.whois_referral_port <= 65535:
            raise ConfigError("whois_referral_port must be between 1 and 65535")
        if not MIN_LOG2_N <= self.password_hash_cost <= MAX_LOG2_N:
            raise ConfigError(f"password_hash_cost must be between {MIN_LOG2_N} and {MAX_LOG2_N} "
                              f"(scrypt N = 2^cost; {OWASP_LOG2_N} is OWASP's minimum)")
        if not 1 <= self.password_hash_concurrency <= 64:
            raise ConfigError("password_hash_concurrency must be between 1 and 64")
        for name in PLAN_LIMIT_FIELDS:
            if not 0 <= getattr(self, name) <= MAX_LIMIT:
                raise ConfigError(f"{name} must be between 0 (no limit) and {MAX_LIMIT:,}")
        for text in self.trusted_proxies:
            _check_proxy(text)


def _check_proxy(text: str) -> None:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}TRUSTED_PROXIES: {text!r} is not an IP address or network; list your "
                          "reverse proxies' addresses, e.g. 127.0.0.1,10.0.0.0/8") from None
    if network.prefixlen == 0:
        raise ConfigError(f"{ENV_PREFIX}TRUSTED_PROXIES: {text!r} would let every client name its own address; "
                          "list only your reverse proxies' addresses or networks")


def _check_host_port(name: str, text: str, default_port: int) -> None:
    try:
        parse_host_port(text, default_port)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}: {exc}") from None


PLAN_LIMIT_FIELDS = tuple(setting_name(plan, kind) for plan in PLANS for kind in LIMITED_KINDS)
_INT_FIELDS = {"port", "token_ttl_seconds", "check_workers", "http_threads", "retention_days",
               "whois_referral_port", "mtr_concurrency", "max_connections", "password_hash_cost",
               "password_hash_concurrency", *PLAN_LIMIT_FIELDS}


_FLOAT_FIELDS = {"flush_interval", "status_page_cache_seconds", "maintenance_interval", "quorum",
                 "probe_offline_after", "probe_max_age", "header_timeout", "request_timeout", "idle_timeout"}


def _convert(name: str, raw: str) -> object:
    try:
        if name == "data_dir":
            return Path(raw).expanduser()
        if name in _INT_FIELDS:
            return int(raw)
        if name in _FLOAT_FIELDS:
            return float(raw)
        if name in ("dns_servers", "trusted_proxies"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if name == "webhook_timeout":
            return float(raw)
        if name == "webhook_backoff":
            return tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"setting {ENV_PREFIX}{name.upper()}={raw!r} is not a number") from None
    return raw
