"""`statuscore user add`: create a user straight in a data dir's entity store."""

from __future__ import annotations

import argparse
import getpass
import sys

from statuscore.settings_flags import add_setting_flag, load_settings


def add_to(commands) -> None:
    user = commands.add_parser("user", help="manage users in a data dir")
    user_commands = user.add_subparsers(title="user commands", metavar="ACTION")
    add = user_commands.add_parser("add", help="create a user")
    add_setting_flag(add, "data_dir")
    add.add_argument("--email", required=True)
    add.add_argument("--name", default="")
    add.add_argument("--tier", choices=("free", "pro"), default="free")
    add.add_argument("--admin", action="store_true")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=cmd_user_add)


def cmd_user_add(args: argparse.Namespace) -> int:
    from appliance.passwords import PasswordHasher, ScryptCost
    from appliance.storage.entities import Conflict, EntityStore
    from appliance.validation import text_problem

    settings = load_settings(args)
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
    store = EntityStore(settings.entities_target, hasher=PasswordHasher(ScryptCost.of(settings.password_hash_cost)))
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
