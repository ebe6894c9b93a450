"""`statuscore restore`: a backup archive into an empty data dir, with the appliance stopped."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from statuscore.settings_flags import add_setting_flag, load_settings


def add_to(commands) -> None:
    restore = commands.add_parser("restore", help="restore a backup into an empty data dir (appliance stopped)")
    restore.add_argument("file", help="the backup archive")
    add_setting_flag(restore, "data_dir", help="data folder to create (STATUSCORE_DATA_DIR)")
    restore.set_defaults(handler=cmd_restore)


def cmd_restore(args: argparse.Namespace) -> int:
    from appliance.backup import BackupError, restore_backup

    settings = load_settings(args)
    try:
        manifest = restore_backup(Path(args.file), settings.data_dir)
    except BackupError as exc:
        print(f"statuscore: {exc}", file=sys.stderr)
        return 1
    print(f"Restored a backup of {manifest.get('created_at')} (StatusCore {manifest.get('version')}, "
          f"{manifest.get('monitors')} monitors, {manifest.get('results')} results) into {settings.data_dir}.\n"
          f"Start it with: statuscore serve --data-dir {settings.data_dir}")
    return 0
