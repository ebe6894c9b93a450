"""`statuscore backup | export | import`: commands that talk to a running appliance over its API."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_SERVER = "http://127.0.0.1:8080"


def add_to(commands) -> None:
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


def _api_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="appliance URL (STATUSCORE_SERVER, default http://127.0.0.1:8080)")
    parser.add_argument("--email", help="log in as this user, the password from STATUSCORE_PASSWORD "
                        "(or put a token or API key in STATUSCORE_TOKEN)")


def server_url(args: argparse.Namespace) -> str:
    """--server, else STATUSCORE_SERVER, else the appliance on this machine."""
    return args.server or os.environ.get("STATUSCORE_SERVER") or DEFAULT_SERVER


class _CliError(Exception):
    pass


def _api_session(args: argparse.Namespace):
    """(server URL, auth headers) from --server/--email with STATUSCORE_PASSWORD, or STATUSCORE_TOKEN
    (a login token or an API key)."""
    import requests

    server = server_url(args).rstrip("/")
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
            print(f"statuscore: cannot reach {server_url(args)} ({type(exc).__name__}); is the appliance running?",
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
