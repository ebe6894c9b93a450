"""`statuscore backup | export | import`: commands that talk to a running appliance over its API,
through console.ApiClient (statuscore/appliance_api.py logs in and words the failures)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from statuscore.appliance_api import with_api

EXPORT_TIMEOUT = 60.0
IMPORT_TIMEOUT = 120.0  # a large document is checked whole before anything is written


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


@with_api(refused="the appliance refused the backup")
def cmd_backup(args: argparse.Namespace, api) -> int:
    size = 0
    with api.backup() as chunks:
        # Created only once the appliance has agreed, for the owner only: the archive holds the secret.
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
    print(f"Backup written to {args.output} ({size / 1e6:.1f} MB). It contains the secret: keep it private.")
    return 0


@with_api(refused="export failed")
def cmd_export(args: argparse.Namespace, api) -> int:
    text = api.export_text(args.format, timeout=EXPORT_TIMEOUT)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Configuration written to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


@with_api(refused="import refused", details=True)
def cmd_import(args: argparse.Namespace, api) -> int:
    path = Path(args.file)
    try:
        body = path.read_bytes()  # sent as it is: the appliance reads and checks it
    except OSError as exc:
        print(f"statuscore: cannot read {path} ({exc.strerror})", file=sys.stderr)
        return 2
    report = api.import_text(body, "json" if path.suffix.lower() == ".json" else "yaml", dry_run=args.dry_run,
                             timeout=IMPORT_TIMEOUT)
    verb = "would be" if args.dry_run else "were"
    for action in ("created", "updated", "unchanged"):
        for item in report[action]:
            print(f"{action:9} {item['kind']:11} {item['name']}")
    print(f"{len(report['created'])} {verb} created, {len(report['updated'])} {verb} updated, "
          f"{len(report['unchanged'])} unchanged{' (dry run: nothing changed)' if args.dry_run else ''}.")
    return 0
