"""`statuscore doctor`: checks the set-up an appliance needs and says, per problem, what to do."""

from __future__ import annotations

import os
import socket
import stat
from dataclasses import dataclass

from appliance.checkers.ping import icmp_mode
from appliance.config import Settings
from appliance.instance import read_instance_id
from appliance.secret import SecretError, load_or_create_secret


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


def run_checks(settings: Settings) -> list[Check]:
    checks = [_data_dir(settings), _secret(settings), _icmp(), _port(settings)]
    if settings.database_url:
        checks.append(_database(settings.database_url))
        if settings.cluster:
            checks.append(_cluster(settings))
    return checks


def _cluster(settings: Settings) -> Check:
    """Cluster mode: the nodes on the database, how many monitors each checks, heartbeat lag."""
    import psycopg

    from appliance.storage.database import libpq_url

    try:
        with psycopg.connect(libpq_url(settings.database_url), connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT n.name, EXTRACT(EPOCH FROM now() - n.heartbeat_at), "
                "(SELECT count(*) FROM monitor_lease l WHERE l.node_id = n.node_id AND l.expires_at > now()) "
                "FROM cluster_node n ORDER BY n.name").fetchall()
    except psycopg.errors.UndefinedTable:
        return Check("cluster", True, "no node has started yet (the tables are made by the first `serve --cluster`)")
    except psycopg.Error as exc:
        return Check("cluster", False, f"cannot read the cluster's nodes ({' '.join(str(exc).split())[:200]})")
    lease = settings.cluster_lease_seconds
    live = [(name, age, leases) for name, age, leases in rows if float(age) < lease]
    shown = "; ".join(f"{name}: {leases} monitors, heartbeat {float(age):.1f} s ago"
                      + ("" if float(age) < lease else " (gone)") for name, age, leases in rows)
    if not live:
        return Check("cluster", False, f"no live node ({shown or 'none registered'}); start `statuscore serve "
                                       "--cluster` on the nodes")
    return Check("cluster", True, f"{len(live)} live node(s): {shown}")


def _database(url: str) -> Check:
    """STATUSCORE_DATABASE_URL: the server answers, and the role may make the tables it needs."""
    import psycopg

    from appliance.storage.database import libpq_url, redacted

    shown = redacted(url)
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            may_create = conn.execute("SELECT has_schema_privilege(current_schema(), 'CREATE')").fetchone()[0]
    except psycopg.Error as exc:
        return Check("database", False, f"cannot connect to {shown} ({' '.join(str(exc).split())[:200]}); check "
                                        "STATUSCORE_DATABASE_URL and that the PostgreSQL server is running")
    if not may_create:
        return Check("database", False, f"{shown}: PostgreSQL {version}, but this role may not create tables in "
                                        "its schema; make it the database's owner or GRANT CREATE on the schema")
    return Check("database", True, f"{shown}: PostgreSQL {version}")


def _data_dir(settings: Settings) -> Check:
    path = settings.data_dir
    if not path.exists():
        return Check("data dir", True, f"{path} does not exist yet; `statuscore serve` creates it (mode 0700)")
    if not os.access(path, os.W_OK | os.X_OK):
        return Check("data dir", False, f"{path} is not writable by this user; run as its owner or chown it")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("data dir", False, f"{path} is readable by others (mode {mode:o}); run: chmod 700 {path}")
    return Check("data dir", True, f"{path} (mode {mode:o})")


def _secret(settings: Settings) -> Check:
    if settings.secret:
        try:
            load_or_create_secret(settings.secret_path, settings.secret)
        except SecretError as exc:
            return Check("secret", False, str(exc))
        return Check("secret", True, "from STATUSCORE_SECRET")
    path = settings.secret_path
    if not path.exists():
        return Check("secret", True, f"{path} will be generated on first start")
    if not os.access(path, os.R_OK):
        return Check("secret", False, f"cannot read {path}; run as the data dir's owner")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("secret", False, f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    try:
        load_or_create_secret(path)
    except SecretError as exc:
        return Check("secret", False, str(exc))
    return Check("secret", True, f"{path} (mode {mode:o})")


def _icmp() -> Check:
    mode = icmp_mode()
    if mode == "unprivileged":
        return Check("ICMP (ping monitors)", True, "unprivileged ICMP sockets allowed")
    if mode == "privileged":
        return Check("ICMP (ping monitors)", True, "raw sockets allowed (root or CAP_NET_RAW); MTR works too")
    return Check("ICMP (ping monitors)", False,
                 "not permitted: run 'sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"' (and put it in "
                 "/etc/sysctl.d/), or grant CAP_NET_RAW to the binary (setcap cap_net_raw+ep)")


def _port(settings: Settings) -> Check:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    where = f"{settings.host}:{settings.port}"
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((settings.host, settings.port))
        except OSError as exc:
            return _port_taken(settings, where, exc.strerror)
    return Check("port", True, f"{where} is free")


def _port_taken(settings: Settings, where: str, why: str | None) -> Check:
    """Who holds the port: this data dir's appliance (fine: doctor runs next to the live service),
    another StatusCore appliance (its own data dir: say so), or something else."""
    health = _health(settings.base_url)
    if health is None:
        if _statuscore_answers(settings.base_url):  # an appliance from before GET /api/health
            return Check("port", False, f"{where}: a StatusCore appliance answers there, but it cannot say which "
                                        f"data dir it uses (an older version?); if it is not the one of "
                                        f"{settings.data_dir}, stop it or choose another --port")
        return Check("port", False, f"cannot listen on {where} ({why}); another program holds the port: "
                                    "stop it, or choose another --port")
    ours, theirs = read_instance_id(settings.instance_path), health.get("instance_id")
    if ours is not None and theirs == ours:
        return Check("port", True, f"{where}: this data dir's StatusCore appliance answers there "
                                   f"({settings.data_dir}, version {health.get('version')})")
    return Check("port", False, f"{where}: a different StatusCore appliance answers there (another data dir, not "
                                f"{settings.data_dir}); stop that one, or choose another --port for this one, or "
                                "run doctor with that appliance's --data-dir")


def _health(base_url: str) -> dict | None:
    """GET /api/health of whatever listens there, if it is a StatusCore appliance."""
    document = _get_json(base_url + "/api/health")
    if not isinstance(document, dict) or document.get("status") != "ok" or "instance_id" not in document:
        return None
    return document


def _statuscore_answers(base_url: str) -> bool:
    document = _get_json(base_url + "/api/openapi.json")
    return isinstance(document, dict) and "StatusCore" in str(document.get("info", {}).get("title", ""))


def _get_json(url: str):
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return json.loads(answer.read(1 << 20))
    except (OSError, ValueError):
        return None
