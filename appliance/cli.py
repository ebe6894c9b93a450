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
from pathlib import Path

from appliance import __version__
from appliance.config import PLAN_LIMIT_FIELDS, ConfigError, Settings
from appliance.plans import KINDS as LIMITED_KINDS
from appliance.secret import SecretError
from appliance.storage import HistoryUnavailable

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
    except (ConfigError, SecretError, HistoryUnavailable) as exc:
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

    probe = commands.add_parser("probe", help="run as a remote location of an appliance")
    probe.add_argument("--server", required=True, help="the appliance's URL, e.g. https://status.example.com")
    probe.add_argument("--token", help="the probe token from POST /api/admin/probes (or STATUSCORE_PROBE_TOKEN)")
    probe.add_argument("--location", required=True, help="this probe's location name, as registered")
    probe.add_argument("--source-address", help="bind outgoing checks to this local address")
    probe.add_argument("--data-dir", help="where results are spooled while the appliance is unreachable")
    probe.add_argument("--ca-file", help="extra CA certificates https checks trust")
    probe.add_argument("--check-workers", type=int, default=16, help="checks run in parallel (default 16)")
    probe.set_defaults(handler=cmd_probe)

    backup = commands.add_parser("backup", help="download a consistent backup from a running appliance")
    backup.add_argument("--output", required=True, help="file to write (.tar.gz, mode 0600)")
    _api_flags(backup)
    backup.set_defaults(handler=cmd_backup)

    export = commands.add_parser("export", help="print your configuration (monitors, webhooks, ...) as YAML or JSON")
    export.add_argument("--format", choices=("yaml", "json"), default="yaml")
    export.add_argument("--output", help="write to this file instead of standard output")
    _api_flags(export)
    export.set_defaults(handler=cmd_export)

    imp = commands.add_parser("import", help="apply a configuration file (matched by name; never deletes)")
    imp.add_argument("file", help="a .yaml/.yml or .json file as `statuscore export` writes")
    imp.add_argument("--dry-run", action="store_true", help="only show what would change")
    _api_flags(imp)
    imp.set_defaults(handler=cmd_import)

    restore = commands.add_parser("restore", help="restore a backup into an empty data dir (appliance stopped)")
    restore.add_argument("file", help="the backup archive")
    restore.add_argument("--data-dir", help="data folder to create (STATUSCORE_DATA_DIR)")
    restore.set_defaults(handler=cmd_restore)

    doctor = commands.add_parser("doctor", help="check this machine's set-up and say what to fix")
    doctor.add_argument("--data-dir", help="data folder (STATUSCORE_DATA_DIR)")
    doctor.add_argument("--host", help="address the appliance listens on")
    doctor.add_argument("--port", type=int, help="port the appliance listens on")
    doctor.set_defaults(handler=cmd_doctor)

    console = commands.add_parser("console", help="the terminal admin console")
    console.add_argument("--server", help="appliance URL (STATUSCORE_SERVER, default http://127.0.0.1:8080)")
    console.add_argument("--email", help="log in at once, with the password from STATUSCORE_PASSWORD")
    console.set_defaults(handler=cmd_console)
    return parser


def _api_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="appliance URL (STATUSCORE_SERVER, default http://127.0.0.1:8080)")
    parser.add_argument("--email", help="log in as this user, the password from STATUSCORE_PASSWORD "
                        "(or put a token or API key in STATUSCORE_TOKEN)")


def _settings(args: argparse.Namespace, names: tuple[str, ...]) -> Settings:
    return Settings.load({name: getattr(args, name, None) for name in names})


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

    settings = _settings(args, ("host", "port", "data_dir", "rate_limit", "login_rate_limit", "heartbeat_rate_limit", "location",
                                "mtr_rate_limit", "mtr_concurrency",
                                "location_display_name", "dns_servers", "whois_server", "whois_referral_port", "ca_file",
                                "check_workers", "http_threads", "retention_days", "token_ttl_seconds",
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


def cmd_user_add(args: argparse.Namespace) -> int:
    from appliance.passwords import PasswordHasher, ScryptCost
    from appliance.storage.entities import Conflict, EntityStore
    from appliance.validation import text_problem

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
    for flag, text in (("--email", args.email), ("--name", args.name)):
        problem = text_problem(text)
        if problem:
            print(f"statuscore: {flag} {problem}", file=sys.stderr)
            return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = EntityStore(settings.entities_path, hasher=PasswordHasher(ScryptCost.of(settings.password_hash_cost)))
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


def cmd_probe(args: argparse.Namespace) -> int:
    from appliance.config import default_data_dir
    from appliance.probe import ProbeAgent

    token = args.token or os.environ.get("STATUSCORE_PROBE_TOKEN")
    if not token:
        print("statuscore: give the probe token with --token or STATUSCORE_PROBE_TOKEN", file=sys.stderr)
        return 2
    data_dir = Path(args.data_dir or os.environ.get("STATUSCORE_DATA_DIR") or default_data_dir() / "probe")
    agent = ProbeAgent(args.server, token, args.location, data_dir, source_address=args.source_address,
                       ca_file=args.ca_file, workers=args.check_workers)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    print(f"StatusCore probe {__version__}: location {args.location}, reporting to {args.server} "
          f"(spool in {data_dir})", flush=True)
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.stop()
    return 0


class _CliError(Exception):
    pass


def _api_session(args: argparse.Namespace):
    """(server URL, auth headers) from --server/--email with STATUSCORE_PASSWORD, or STATUSCORE_TOKEN
    (a login token or an API key)."""
    import requests

    server = (args.server or os.environ.get("STATUSCORE_SERVER") or "http://127.0.0.1:8080").rstrip("/")
    token = os.environ.get("STATUSCORE_TOKEN")
    if not token:
        password = os.environ.get("STATUSCORE_PASSWORD")
        if not args.email or password is None:
            raise _CliError("log in with --email and STATUSCORE_PASSWORD, or set STATUSCORE_TOKEN "
                            "(a login token or an API key)")
        login = requests.post(f"{server}/api/auth/login", json={"email": args.email, "password": password}, timeout=30)
        if login.status_code != 200:
            raise _CliError(f"login failed: {_api_error(login)}")
        token = login.json()["token"]
    return server, {"Authorization": f"Bearer {token}"}


def _with_api(command):
    """Run a command that talks to an appliance; connection problems become one readable line."""

    def run(args: argparse.Namespace) -> int:
        import requests  # only for these commands: `serve` does not need it

        try:
            return command(args, *_api_session(args))
        except _CliError as exc:
            print(f"statuscore: {exc}", file=sys.stderr)
            return 2
        except requests.RequestException as exc:
            server = args.server or os.environ.get("STATUSCORE_SERVER") or "http://127.0.0.1:8080"
            print(f"statuscore: cannot reach {server} ({type(exc).__name__}); is the appliance running?",
                  file=sys.stderr)
            return 1
    return run


def _backup(args: argparse.Namespace, server: str, headers: dict) -> int:
    import requests

    with requests.get(f"{server}/api/admin/backup", headers=headers, stream=True, timeout=600) as response:
        if response.status_code != 200:
            print(f"statuscore: the appliance refused the backup: {_api_error(response)}", file=sys.stderr)
            return 1
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        size = 0
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_content(1 << 20):
                out.write(chunk)
                size += len(chunk)
    print(f"Backup written to {args.output} ({size / 1e6:.1f} MB). It contains the secret: keep it private.")
    return 0


def _export(args: argparse.Namespace, server: str, headers: dict) -> int:
    import requests

    response = requests.get(f"{server}/api/export", params={"format": args.format}, headers=headers, timeout=60)
    if response.status_code != 200:
        print(f"statuscore: export failed: {_api_error(response)}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(response.text, encoding="utf-8")
        print(f"Configuration written to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(response.text)
    return 0


def _import(args: argparse.Namespace, server: str, headers: dict) -> int:
    import requests

    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"statuscore: cannot read {path} ({exc.strerror})", file=sys.stderr)
        return 2
    kind = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
    response = requests.post(f"{server}/api/import", params={"dry_run": "true" if args.dry_run else "false"},
                             data=body, headers={**headers, "Content-Type": kind}, timeout=120)
    if response.status_code != 200:
        details = "; ".join(f"{k}: {v}" for k, v in (_json_or_empty(response).get("details") or {}).items())
        print(f"statuscore: import refused: {_api_error(response)}{' (' + details + ')' if details else ''}",
              file=sys.stderr)
        return 1
    report = response.json()
    verb = "would be" if args.dry_run else "were"
    for action in ("created", "updated", "unchanged"):
        for item in report[action]:
            print(f"{action:9} {item['kind']:11} {item['name']}")
    print(f"{len(report['created'])} {verb} created, {len(report['updated'])} {verb} updated, "
          f"{len(report['unchanged'])} unchanged{' (dry run: nothing changed)' if args.dry_run else ''}.")
    return 0


def _json_or_empty(response) -> dict:
    try:
        data = response.json()
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}


cmd_backup = _with_api(_backup)
cmd_export = _with_api(_export)
cmd_import = _with_api(_import)


def _api_error(response) -> str:
    try:
        return response.json().get("error") or f"HTTP {response.status_code}"
    except ValueError:
        return f"HTTP {response.status_code}"


def cmd_restore(args: argparse.Namespace) -> int:
    from appliance.backup import BackupError, restore_backup

    settings = _settings(args, ("data_dir",))
    try:
        manifest = restore_backup(Path(args.file), settings.data_dir)
    except BackupError as exc:
        print(f"statuscore: {exc}", file=sys.stderr)
        return 1
    print(f"Restored a backup of {manifest.get('created_at')} (StatusCore {manifest.get('version')}, "
          f"{manifest.get('monitors')} monitors, {manifest.get('results')} results) into {settings.data_dir}.\n"
          f"Start it with: statuscore serve --data-dir {settings.data_dir}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from appliance.doctor import run_checks

    settings = _settings(args, ("data_dir", "host", "port"))
    problems = 0
    for check in run_checks(settings):
        mark = "ok  " if check.ok else "FIX "
        print(f"{mark} {check.name}: {check.message}")
        problems += 0 if check.ok else 1
    print("Everything looks right." if not problems else f"{problems} thing(s) to fix (see FIX lines).")
    return 0 if not problems else 1


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
