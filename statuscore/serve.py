"""`statuscore serve`: the appliance (stores, engine, dispatcher) behind the HTTP server."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from appliance import __version__
from statuscore.settings_flags import add_setting_flags, load_settings

log = logging.getLogger("statuscore")


def add_to(commands) -> None:
    serve = commands.add_parser("serve", help="run the API, status pages and check engine")
    add_setting_flags(serve)
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

    settings = load_settings(args)
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
