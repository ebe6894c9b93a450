"""`statuscore serve`: the appliance (stores, engine, dispatcher) behind the HTTP server."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from appliance import __version__
from appliance.config import PLAN_LIMIT_FIELDS, Settings
from appliance.plans import KINDS as LIMITED_KINDS
from statuscore.settings_flags import load_settings

log = logging.getLogger("statuscore")


def add_to(commands) -> None:
    serve = commands.add_parser("serve", help="run the API, status pages and check engine")
    serve.add_argument("--host", help="address to listen on (STATUSCORE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (STATUSCORE_PORT, default 8080)")
    serve.add_argument("--data-dir", help="data folder (STATUSCORE_DATA_DIR)")
    serve.add_argument("--rate-limit", help="per-user API limit (STATUSCORE_RATE_LIMIT, default 100/minute)")
    serve.add_argument("--login-rate-limit",
                       help="failed logins per account and client address (STATUSCORE_LOGIN_RATE_LIMIT, "
                            "default '10/15 minutes')")
    serve.add_argument("--trusted-proxies",
                       help="reverse proxies whose X-Forwarded-For names the client, addresses or networks, "
                            "comma-separated (STATUSCORE_TRUSTED_PROXIES, default none)")
    serve.add_argument("--heartbeat-rate-limit", help="calls per heartbeat URL (default 60/minute)")
    serve.add_argument("--mtr-rate-limit", help="MTR runs per user (STATUSCORE_MTR_RATE_LIMIT, default 10/minute)")
    serve.add_argument("--mtr-concurrency", type=int,
                       help="MTR runs in progress at once (STATUSCORE_MTR_CONCURRENCY, default 2)")
    serve.add_argument("--location", help="this appliance's location name (STATUSCORE_LOCATION, default local)")
    serve.add_argument("--location-display-name", help="its display name (default Local)")
    serve.add_argument("--dns-servers", help="resolvers for domain checks, host[:port],... (STATUSCORE_DNS_SERVERS)")
    serve.add_argument("--whois-server", help="first WHOIS server, host[:port] (STATUSCORE_WHOIS_SERVER)")
    serve.add_argument("--whois-referral-port", type=int,
                       help="port of the registry/registrar WHOIS servers (STATUSCORE_WHOIS_REFERRAL_PORT, default 43)")
    serve.add_argument("--ca-file", help="extra CA certificates https checks trust (STATUSCORE_CA_FILE)")
    serve.add_argument("--check-workers", type=int, help="parallel checks (STATUSCORE_CHECK_WORKERS, default 64)")
    serve.add_argument("--http-threads", type=int, help="API threads (STATUSCORE_HTTP_THREADS, default 8)")
    serve.add_argument("--max-connections", type=int,
                       help="open API connections; at the limit the idlest or slowest is closed (default 1000)")
    serve.add_argument("--header-timeout", type=float,
                       help="seconds a client has to send a request's headers (default 10)")
    serve.add_argument("--request-timeout", type=float,
                       help="seconds a client has to send a whole request (default 30)")
    serve.add_argument("--idle-timeout", type=float,
                       help="seconds an idle keep-alive connection stays open (default 60)")
    serve.add_argument("--retention-days", type=int, help="days of raw results kept (default 90)")
    serve.add_argument("--token-ttl-seconds", type=int, help="login token lifetime (default 86400)")
    serve.add_argument("--quorum", type=float,
                       help="down when more than this share of the reporting locations see it down (default 0.5)")
    serve.add_argument("--probe-offline-after", type=float,
                       help="seconds of silence before a probe counts as offline (default 90)")
    serve.add_argument("--probe-max-age", type=float,
                       help="oldest spooled probe result accepted, seconds (default 21600)")
    serve.add_argument("--password-hash-cost", type=int,
                       help="scrypt cost of new password hashes, log2 of N (STATUSCORE_PASSWORD_HASH_COST, "
                            "default 17, OWASP's minimum; lower only for tests)")
    for name in PLAN_LIMIT_FIELDS:  # --free-max-monitors ... --pro-max-maintenance-windows
        plan, _, kind = name.partition("_max_")
        serve.add_argument("--" + name.replace("_", "-"), type=int,
                           help=f"most {LIMITED_KINDS[kind]} one {plan}-plan user may have, 0: no limit "
                                f"(STATUSCORE_{name.upper()}, default {Settings.__dataclass_fields__[name].default})")
    serve.set_defaults(handler=cmd_serve)


def _leave_out_cryptography() -> None:
    """Tokens are HS256 (hmac); PyJWT imports `cryptography`, when installed, only to offer RSA
    and EC keys: ~8 MB of RSS that `serve` never uses (the one-file binary leaves it out too)."""
    if "cryptography" not in sys.modules:
        sys.modules["cryptography"] = None  # `import cryptography` fails; PyJWT goes without it


def cmd_serve(args: argparse.Namespace) -> int:
    _leave_out_cryptography()
    from appliance.service import Appliance
    from server import create_app
    from server.http_server import Limits, make_server

    settings = load_settings(args, ("host", "port", "data_dir", "rate_limit", "login_rate_limit", "heartbeat_rate_limit",
                                    "location", "mtr_rate_limit", "mtr_concurrency",
                                    "location_display_name", "dns_servers", "whois_server", "whois_referral_port",
                                    "ca_file", "check_workers", "http_threads", "retention_days", "token_ttl_seconds",
                                    "quorum", "probe_offline_after", "probe_max_age", "max_connections",
                                    "header_timeout", "request_timeout", "idle_timeout", "trusted_proxies",
                                    "password_hash_cost", *PLAN_LIMIT_FIELDS))
    appliance = Appliance(settings)
    try:
        try:
            server = make_server(create_app(appliance), settings.host, settings.port, settings.http_threads,
                                 Limits.from_settings(settings), on_blind=appliance.intake_blind,
                                 proxy_headers=bool(settings.trusted_proxies))
        except OSError as exc:
            print(f"statuscore: cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
                  "stop the program using it or choose another --port", file=sys.stderr)
            return 2
        _raise_open_files_limit(settings.max_connections)
        admin = appliance.ensure_admin()
        appliance.start()
        print(f"StatusCore {__version__} listening on {settings.base_url}  (data: {settings.data_dir})",
              flush=True)
        if admin is not None and admin.password:
            print(f"Created the admin account {admin.email} with password {admin.password}\n"
                  "  (shown only this once: log in and change it with POST /api/auth/password)", flush=True)
        elif admin is not None:
            print(f"Created the admin account {admin.email} (password from STATUSCORE_ADMIN_PASSWORD)",
                  flush=True)
        signal.signal(signal.SIGTERM, _raise_exit)
        try:
            server.run()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            server.close()
    finally:
        log.info("stopping: flushing check results")
        appliance.stop()
    return 0


def _raise_open_files_limit(connections: int) -> None:
    """Each connection is a file descriptor; systemd and shells often allow only 1,024 (soft) of a
    much higher hard limit. Take what the connections, checks and stores need, up to the hard limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 1024
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        except (ValueError, OSError):
            new = soft
        if new < wanted:
            log.warning("only %d open files are allowed (ulimit -n); %d connections need about %d: raise "
                        "the limit (LimitNOFILE= in the systemd unit) or lower --max-connections",
                        new, connections, wanted)


def _raise_exit(_signum, _frame):
    # A second TERM (e.g. sent to both the one-file binary's launcher, which forwards it, and its
    # child) must not interrupt the final flush.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(0)
