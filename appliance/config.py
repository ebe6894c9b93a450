"""Settings: built once from `serve` flags over `STATUSCORE_*` environment variables over defaults.

Nothing reads the environment after start-up; the Settings object is passed to whatever needs it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping, get_type_hints

from appliance.config_fields import ENV_PREFIX, SAME_ROW, env_name, reader, setting
from appliance.targets import host_port
from appliance.passwords import MAX_LOG2_N, MIN_LOG2_N, OWASP_LOG2_N
from appliance.plans import DEFAULTS as PLAN_DEFAULTS, KINDS as LIMITED_KINDS, MAX_LIMIT, PLANS, setting_name

_RATE = re.compile(r"^\s*\d+\s*(/|per)\s*\d*\s*(second|minute|hour|day)s?\s*$", re.I)


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message says which and what to do."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "statuscore"


def plan_limit(plan: str, kind: str, doc: str = SAME_ROW) -> Any:
    """One limit of appliance/plans.py; README lists each plan's four in one row."""
    return setting(PLAN_DEFAULTS[plan][kind],
                   flag=f"most {LIMITED_KINDS[kind]} one {plan}-plan user may have, 0: no limit "
                        f"({env_name(setting_name(plan, kind))}, default {{default}})",
                   doc=doc, doc_name=None if doc != SAME_ROW else f"..._{kind.upper()}")


@dataclass(frozen=True)
class Settings:
    """Every setting, declared once (appliance/config_fields.py): the `serve` flags, the
    STATUSCORE_* variables and README's Configuration table come from here, in this order."""

    host: str = setting("127.0.0.1", flag="address to listen on (STATUSCORE_HOST, default {default})",
                        doc="where the API listens")
    port: int = setting(8080, flag="port to listen on (STATUSCORE_PORT, default {default})", doc=SAME_ROW)
    data_dir: Path = setting(default_factory=default_data_dir, flag="data folder (STATUSCORE_DATA_DIR)",
                             doc="entity store, history, secret",
                             doc_default="`~/.local/share/statuscore` (`./data` with `install.sh run`)")
    database_url: str | None = setting(
        None, doc="PostgreSQL database for the entities and the history instead of the data dir's SQLite and "
                  "DuckDB files, `postgresql://user:password@host:5432/dbname` (see [PostgreSQL](#postgresql))",
        doc_default="none (SQLite + DuckDB)")  # environment only: a password has no place in `ps` output
    cluster: bool = setting(
        False, flag="share the monitors with the other appliances on the same PostgreSQL database "
                    "(STATUSCORE_CLUSTER, needs STATUSCORE_DATABASE_URL)",
        doc="run as one node of a cluster sharing the monitors on the PostgreSQL database (see [Cluster](#cluster))",
        doc_default="off")
    cluster_lease_seconds: float = setting(
        15.0, doc="seconds a node's claim on its monitors lasts without a renewal (failover time; 2–600)")
    cluster_heartbeat_seconds: float = setting(
        3.0, doc="seconds between a node's heartbeats (lease renewal, edits by other nodes, rebalancing; "
                 "below half the lease)")
    rate_limit: str = setting("100/minute", flag="per-user API limit (STATUSCORE_RATE_LIMIT, default {default})",
                              doc="per-user API limit")
    login_rate_limit: str = setting(
        "10/15 minutes",
        flag="failed logins per account and client address (STATUSCORE_LOGIN_RATE_LIMIT, default '{default}')",
        doc="failed logins per account and client address, a budget that refills at that rate (five times it "
            "per address across accounts; see [Login throttling](#login-throttling))")
    trusted_proxies: tuple[str, ...] = setting(
        (), flag="reverse proxies whose X-Forwarded-For names the client, addresses or networks, "
                 "comma-separated (STATUSCORE_TRUSTED_PROXIES, default none)",
        doc="reverse proxies whose `X-Forwarded-For` names the client: addresses or networks, comma-separated "
            "(see [Behind a reverse proxy](#behind-a-reverse-proxy))",
        doc_default="none (the header is ignored)")
    heartbeat_rate_limit: str = setting("60/minute", flag="calls per heartbeat URL (default {default})",
                                        doc="calls per heartbeat URL (jobs call without logging in)")
    mtr_rate_limit: str = setting("10/minute", flag="MTR runs per user (STATUSCORE_MTR_RATE_LIMIT, default {default})",
                                  doc="MTR runs per user")  # on top of rate_limit
    mtr_concurrency: int = setting(2, flag="MTR runs in progress at once (STATUSCORE_MTR_CONCURRENCY, default {default})",
                                   doc="MTR runs in progress at once (1–64)")  # across all users
    admin_email: str | None = setting(None, doc="first admin on an empty data dir",
                                      doc_default="`admin@statuscore.local`")
    admin_password: str | None = setting(None, doc=SAME_ROW, doc_default="generated and printed once")
    location: str = setting("local", flag="this appliance's location name (STATUSCORE_LOCATION, default {default})",
                            doc="this appliance's location name")
    location_display_name: str = setting("Local", flag="its display name (default {default})",
                                         doc="its display name (webhooks, `/api/locations`)")
    dns_servers: tuple[str, ...] = setting(
        (), flag="resolvers for domain checks, host[:port],... (STATUSCORE_DNS_SERVERS)",
        doc="resolvers for domain checks, `host[:port]`, comma-separated", doc_default="the system's")
    whois_server: str | None = setting(None, flag="first WHOIS server, host[:port] (STATUSCORE_WHOIS_SERVER)",
                                       doc="first WHOIS server, `host[:port]`", doc_default="`whois.iana.org:43`")
    whois_referral_port: int = setting(
        43, flag="port of the registry/registrar WHOIS servers (STATUSCORE_WHOIS_REFERRAL_PORT, default {default})",
        doc="port of the registry and registrar servers the first one refers to")
    ca_file: str | None = setting(None, flag="extra CA certificates https checks trust (STATUSCORE_CA_FILE)",
                                  doc="extra CA certificates https checks trust (a private CA)", doc_default="none")
    check_workers: int = setting(64, flag="parallel checks (STATUSCORE_CHECK_WORKERS, default {default})",
                                 doc="checks run in parallel")
    http_threads: int = setting(8, flag="API threads (STATUSCORE_HTTP_THREADS, default {default})",
                                doc="API threads (heartbeat calls have two more of their own)")
    max_connections: int = setting(
        1000, flag="open API connections; at the limit the idlest or slowest is closed (default {default})",
        doc="open API connections; at the limit the idlest or slowest one is closed for a new one")
    header_timeout: float = setting(10.0, flag="seconds a client has to send a request's headers (default {default})",
                                    doc="seconds a client has to send a request's line and headers")
    request_timeout: float = setting(30.0, flag="seconds a client has to send a whole request (default {default})",
                                     doc="seconds a client has to send a whole request, body included")
    idle_timeout: float = setting(60.0, flag="seconds an idle keep-alive connection stays open (default {default})",
                                  doc="seconds an idle keep-alive connection stays open")
    retention_days: int = setting(90, flag="days of raw results kept (default {default})", doc="days of raw results kept")
    token_ttl_seconds: int = setting(24 * 3600, flag="login token lifetime (default {default})",
                                     doc="login token lifetime")
    quorum: float = setting(
        0.5, flag="down when more than this share of the reporting locations see it down (default {default})",
        doc="a monitor is down when more than this share of its reporting locations see it down (0 to below 1)")
    probe_offline_after: float = setting(
        90.0, flag="seconds of silence before a probe counts as offline (default {default})",
        doc="seconds without a call before a probe counts as offline (1–86400)")
    probe_max_age: float = setting(6 * 3600.0, flag="oldest spooled probe result accepted, seconds (default {default})",
                                   doc="oldest probe result accepted, in seconds (60–172800)",
                                   doc_default="`{default}` (6 h)")
    status_page_cache_seconds: float = setting(
        5.0, doc="how long a public status page is served from memory (0–300)")
    anomaly_sensitivity: str = setting("medium", doc="`low`, `medium`, `high`, or a number (higher finds more)")
    webhook_timeout: float = setting(10.0, doc="seconds a webhook receiver has to answer")
    webhook_backoff: tuple[float, ...] = setting((15.0, 45.0, 135.0, 405.0),
                                                 doc="seconds between delivery attempts, comma-separated")
    public_url: str | None = setting(None, doc="how users reach the appliance (links in notifications)",
                                     doc_default="`http://HOST:PORT`")
    history_memory_limit: str = setting(
        "256MB", doc="memory DuckDB may use for the history (larger queries spill to disk)")
    maintenance_interval: float = setting(
        300.0, doc="seconds between history upkeep rounds (rollups, retention, compaction)")
    flush_interval: float = setting(0.5)  # seconds between flushes of batched check results; not in README
    password_hash_cost: int = setting(
        OWASP_LOG2_N, flag="scrypt cost of new password hashes, log2 of N (STATUSCORE_PASSWORD_HASH_COST, "
                           "default {default}, OWASP's minimum; lower only for tests)",
        doc="scrypt cost of new password hashes, log2 of N (10–20; below 17 only for tests)",
        doc_default="`{default}` (OWASP's minimum)")  # scrypt N = 2^this, r=8, p=1
    password_hash_concurrency: int = setting(
        2, doc="password hashes computed at once (each takes 2^cost KiB, 128 MiB at 17)")
    # What one user may hold, per plan (appliance/plans.py; admins get the pro limits; 0: no limit).
    free_max_monitors: int = plan_limit(
        "free", "monitors", doc="most of each one free-plan user may have ([Limits per user](#limits-per-user)); "
                                "0: no limit")
    free_max_webhooks: int = plan_limit("free", "webhooks")
    free_max_api_keys: int = plan_limit("free", "api_keys")
    free_max_maintenance_windows: int = plan_limit("free", "maintenance_windows")
    pro_max_monitors: int = plan_limit("pro", "monitors", doc="the same for pro users and administrators")
    pro_max_webhooks: int = plan_limit("pro", "webhooks")
    pro_max_api_keys: int = plan_limit("pro", "api_keys")
    pro_max_maintenance_windows: int = plan_limit("pro", "maintenance_windows")
    secret: str | None = setting(None, doc="JWT secret (≥ 32 chars) instead of the data dir's `secret` file",
                                 doc_default="generated file")  # otherwise the data dir's secret file
    # Read by the command line before anything else (statuscore/cli.py), so every command logs alike.
    log_level: str = setting("INFO", doc="`DEBUG`, `INFO`, `WARNING`")

    @property
    def entities_path(self) -> Path:
        return self.data_dir / "statuscore.sqlite"

    @property
    def entities_target(self) -> Path | str:
        """Where the entity store lives: the PostgreSQL URL, or the SQLite file."""
        return self.database_url or self.entities_path

    @property
    def history_target(self) -> Path | str:
        """Where the history lives: the PostgreSQL URL, or the DuckDB file."""
        return self.database_url or self.history_path

    @property
    def history_path(self) -> Path:
        return self.data_dir / "history.duckdb"

    @property
    def alive_path(self) -> Path:
        """Touched every few seconds while serving: after a crash its time says when we stopped."""
        return self.data_dir / "alive"

    @property
    def instance_path(self) -> Path:
        """The data dir's instance id (appliance/instance.py), shown by GET /api/health."""
        return self.data_dir / "instance"

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
            raw = env.get(env_name(f.name))
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
        if self.cluster and not self.database_url:
            raise ConfigError("--cluster needs STATUSCORE_DATABASE_URL (a PostgreSQL database the nodes share); "
                              "set it on every node, or run without --cluster")
        if not 2 <= self.cluster_lease_seconds <= 600:
            raise ConfigError("cluster_lease_seconds must be between 2 and 600")
        if not 0.2 <= self.cluster_heartbeat_seconds <= self.cluster_lease_seconds / 2:
            raise ConfigError("cluster_heartbeat_seconds must be at least 0.2 and at most half of cluster_lease_seconds")
        if self.database_url is not None:
            from appliance.storage.database import check_url  # here: SQLAlchemy only when it is used

            problem = check_url(self.database_url)
            if problem:
                raise ConfigError(f"{ENV_PREFIX}DATABASE_URL: {problem}")


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
        host_port(text, default_port)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}: {exc}") from None


PLAN_LIMIT_FIELDS = tuple(setting_name(plan, kind) for plan in PLANS for kind in LIMITED_KINDS)
TYPES = get_type_hints(Settings)  # name -> type, which says how the setting's text is read


def _convert(name: str, raw: str) -> object:
    try:
        return reader(TYPES[name])(raw)
    except ValueError:
        raise ConfigError(f"setting {env_name(name)}={raw!r} is not a {'true/false value' if TYPES[name] is bool else 'number'}") from None
