"""`statuscore doctor`: check this machine's set-up and say what to fix."""

from __future__ import annotations

import argparse

from statuscore.settings_flags import add_setting_flag, load_settings


def add_to(commands) -> None:
    doctor = commands.add_parser("doctor", help="check this machine's set-up and say what to fix")
    add_setting_flag(doctor, "data_dir")
    add_setting_flag(doctor, "host", help="address the appliance listens on")
    add_setting_flag(doctor, "port", help="port the appliance listens on")
    add_setting_flag(doctor, "cluster", help="also show the cluster's nodes, leases and heartbeat lag")
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from appliance.doctor import run_checks

    settings = load_settings(args)
    problems = 0
    for check in run_checks(settings):
        mark = "ok  " if check.ok else "FIX "
        print(f"{mark} {check.name}: {check.message}")
        problems += 0 if check.ok else 1
    print("Everything looks right." if not problems else f"{problems} thing(s) to fix (see FIX lines).")
    return 0 if not problems else 1
