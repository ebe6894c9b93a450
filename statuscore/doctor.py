"""`statuscore doctor`: check this machine's set-up and say what to fix."""

from __future__ import annotations

import argparse

from statuscore.settings_flags import load_settings


def add_to(commands) -> None:
    doctor = commands.add_parser("doctor", help="check this machine's set-up and say what to fix")
    doctor.add_argument("--data-dir", help="data folder (STATUSCORE_DATA_DIR)")
    doctor.add_argument("--host", help="address the appliance listens on")
    doctor.add_argument("--port", type=int, help="port the appliance listens on")
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from appliance.doctor import run_checks

    settings = load_settings(args, ("data_dir", "host", "port"))
    problems = 0
    for check in run_checks(settings):
        mark = "ok  " if check.ok else "FIX "
        print(f"{mark} {check.name}: {check.message}")
        problems += 0 if check.ok else 1
    print("Everything looks right." if not problems else f"{problems} thing(s) to fix (see FIX lines).")
    return 0 if not problems else 1
