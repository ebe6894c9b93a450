"""How a command reaches a running appliance: its URL, a logged-in console.ApiClient, and every
failure as the one line the command prints. (console.client, and with it requests, is imported
only when such a command runs: `serve` needs neither.)"""

from __future__ import annotations

import argparse
import functools
import os
import sys

LOGIN_TIMEOUT = 30.0


class CliError(Exception):
    """Something the user must do first; the command says what, with exit status 2."""


def server_url(args: argparse.Namespace) -> str:
    """--server, else STATUSCORE_SERVER, else the appliance on this machine."""
    from console.client import DEFAULT_SERVER

    return args.server or os.environ.get("STATUSCORE_SERVER") or DEFAULT_SERVER


def logged_in(args: argparse.Namespace):
    """An ApiClient with STATUSCORE_TOKEN (a login token or an API key), or logged in as --email
    with STATUSCORE_PASSWORD."""
    from console.client import ApiClient, ApiError, ServerUnreachable

    api = ApiClient(server_url(args), token=os.environ.get("STATUSCORE_TOKEN") or None, timeout=LOGIN_TIMEOUT)
    if api.token:
        return api
    password = os.environ.get("STATUSCORE_PASSWORD")
    if not args.email or password is None:
        raise CliError("log in with --email and STATUSCORE_PASSWORD, or set STATUSCORE_TOKEN "
                       "(a login token or an API key)")
    try:
        api.login(args.email, password)
    except ServerUnreachable:
        raise
    except ApiError as exc:
        raise CliError(f"login failed: {refusal(exc)}") from None
    return api


def refusal(exc, details: bool = False) -> str:
    """The server's own sentence (its HTTP status when it gave none), and with `details` its
    per-field problems."""
    text = exc.server_said or f"HTTP {exc.status}"
    problems = "; ".join(f"{field}: {problem}" for field, problem in exc.details.items()) if details else ""
    return f"{text} ({problems})" if problems else text


def with_api(refused: str, details: bool = False):
    """A command `(args, api) -> exit status` run logged in; a refusal by the appliance is printed
    after `refused` (exit 1), and an appliance out of reach is one line saying so (exit 1)."""

    def wrap(command):
        @functools.wraps(command)
        def run(args: argparse.Namespace) -> int:
            from console.client import ApiError, ServerUnreachable

            try:
                return command(args, logged_in(args))
            except CliError as exc:
                print(f"statuscore: {exc}", file=sys.stderr)
                return 2
            except ServerUnreachable as exc:
                print(f"statuscore: cannot reach {server_url(args)} ({exc.reason}); is the appliance running?",
                      file=sys.stderr)
                return 1
            except ApiError as exc:
                print(f"statuscore: {refused}: {refusal(exc, details)}", file=sys.stderr)
                return 1
        return run
    return wrap
