"""`statuscore`: the one executable. The composition root: the only module of `appliance` that
imports the server (flask, waitress) and the console (textual), and only inside the commands
that need them."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys

from appliance import __version__
from appliance.config import ConfigError, Settings
from appliance.secret import SecretError

log = logging.getLogger("statuscore")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"statuscore {__version__}")
        return 0
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    _setup_logging()
    os.umask(0o077)  # data files, secret and backups readable by the service user only
    try:
        return args.handler(args) or 0
    except (ConfigError, SecretError) as exc:
        print(f"statuscore: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statuscore", description="Self-hosted uptime monitoring.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the API, status pages and check engine")
    serve.add_argument("--host", help="address to listen on (STATUSCORE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (STATUSCORE_PORT, default 8080)")
    serve.add_argument("--data-dir", help="data folder (STATUSCORE_DATA_DIR)")
    serve.add_argument("--rate-limit", help="per-user API limit (STATUSCORE_RATE_LIMIT, default 100/minute)")
    serve.add_argument("--login-rate-limit", help="failed logins per IP and per email (default 10/minute)")
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
    serve.add_argument("--retention-days", type=int, help="days of raw results kept (default 90)")
    serve.add_argument("--token-ttl-seconds", type=int, help="login token lifetime (default 86400)")
    serve.set_defaults(handler=cmd_serve)

    user = commands.add_parser("user", help="manage users in a data dir")
    user_commands = user.add_subparsers(title="user commands", metavar="ACTION")
    add = user_commands.add_parser("add", help="create a user")
    add.add_argument("--data-dir", help="data folder (STATUSCORE_DATA_DIR)")
    add.add_argument("--email", required=True)
    add.add_argument("--name", default="")
    add.add_argument("--tier", choices=("free", "pro"), default="free")
    add.add_argument("--admin", action="store_true")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=cmd_user_add)

    console = commands.add_parser("console", help="the terminal admin console")
    console.add_argument("--server", help="appliance URL (STATUSCORE_SERVER, default http://127.0.0.1:8080)")
    console.add_argument("--email", help="log in at once, with the password from STATUSCORE_PASSWORD")
    console.set_defaults(handler=cmd_console)
    return parser


def _settings(args: argparse.Namespace, names: tuple[str, ...]) -> Settings:
    return Settings.load({name: getattr(args, name, None) for name in names})


def cmd_serve(args: argparse.Namespace) -> int:
    from waitress.server import create_server

    from appliance.service import Appliance
    from server import create_app

    settings = _settings(args, ("host", "port", "data_dir", "rate_limit", "login_rate_limit", "heartbeat_rate_limit", "location",
                                "mtr_rate_limit", "mtr_concurrency",
                                "location_display_name", "dns_servers", "whois_server", "whois_referral_port", "ca_file",
                                "check_workers", "http_threads", "retention_days", "token_ttl_seconds"))
    appliance = Appliance(settings)
    try:
        try:
            server = create_server(create_app(appliance), host=settings.host, port=settings.port,
                                   threads=settings.http_threads, ident="StatusCore")
        except OSError as exc:
            print(f"statuscore: cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
                  "stop the program using it or choose another --port", file=sys.stderr)
            return 2
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


def _raise_exit(_signum, _frame):
    raise SystemExit(0)


def cmd_user_add(args: argparse.Namespace) -> int:
    from appliance.storage.entities import Conflict, EntityStore

    settings = _settings(args, ("data_dir",))
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("statuscore: the passwords differ; nothing was created", file=sys.stderr)
            return 2
    else:
        print("statuscore: no terminal to ask for a password; pass it with --password-stdin", file=sys.stderr)
        return 2
    if len(password) < 8:
        print("statuscore: the password must have at least 8 characters", file=sys.stderr)
        return 2
    if "@" not in args.email:
        print(f"statuscore: {args.email!r} is not an email address", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = EntityStore(settings.entities_path)
    try:
        user = store.create_user(args.email, password, args.name, args.tier, args.admin)
    except Conflict as exc:
        print(f"statuscore: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    role = "admin" if user.is_admin else "user"
    print(f"Created {role} {user.email} (id {user.id}, tier {user.subscription_tier})")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from console.app import make_console  # textual only when the console runs

    server = args.server or os.environ.get("STATUSCORE_SERVER") or "http://127.0.0.1:8080"
    password = os.environ.get("STATUSCORE_PASSWORD") if args.email else None
    app = make_console(server, email=args.email, password=password)
    app.run()
    return app.return_code or 0


def _setup_logging() -> None:
    level = os.environ.get("STATUSCORE_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
