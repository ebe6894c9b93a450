"""`statuscore doctor`: checks the set-up an appliance needs and says, per problem, what to do."""

from __future__ import annotations

import os
import socket
import stat
from dataclasses import dataclass

from appliance.checkers.ping import icmp_mode
from appliance.config import Settings
from appliance.secret import SecretError, load_or_create_secret


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


def run_checks(settings: Settings) -> list[Check]:
    return [_data_dir(settings), _secret(settings), _icmp(), _port(settings)]


def _data_dir(settings: Settings) -> Check:
    path = settings.data_dir
    if not path.exists():
        return Check("data dir", True, f"{path} does not exist yet; `statuscore serve` creates it (mode 0700)")
    if not os.access(path, os.W_OK | os.X_OK):
        return Check("data dir", False, f"{path} is not writable by this user; run as its owner or chown it")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("data dir", False, f"{path} is readable by others (mode {mode:o}); run: chmod 700 {path}")
    return Check("data dir", True, f"{path} (mode {mode:o})")


def _secret(settings: Settings) -> Check:
    if settings.secret:
        try:
            load_or_create_secret(settings.secret_path, settings.secret)
        except SecretError as exc:
            return Check("secret", False, str(exc))
        return Check("secret", True, "from STATUSCORE_SECRET")
    path = settings.secret_path
    if not path.exists():
        return Check("secret", True, f"{path} will be generated on first start")
    if not os.access(path, os.R_OK):
        return Check("secret", False, f"cannot read {path}; run as the data dir's owner")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("secret", False, f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    try:
        load_or_create_secret(path)
    except SecretError as exc:
        return Check("secret", False, str(exc))
    return Check("secret", True, f"{path} (mode {mode:o})")


def _icmp() -> Check:
    mode = icmp_mode()
    if mode == "unprivileged":
        return Check("ICMP (ping monitors)", True, "unprivileged ICMP sockets allowed")
    if mode == "privileged":
        return Check("ICMP (ping monitors)", True, "raw sockets allowed (root or CAP_NET_RAW); MTR works too")
    return Check("ICMP (ping monitors)", False,
                 "not permitted: run 'sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"' (and put it in "
                 "/etc/sysctl.d/), or grant CAP_NET_RAW to the binary (setcap cap_net_raw+ep)")


def _port(settings: Settings) -> Check:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((settings.host, settings.port))
        except OSError as exc:
            if _statuscore_answers(settings.base_url):  # e.g. doctor run on a server whose service is up
                return Check("port", True, f"{settings.host}:{settings.port}: a StatusCore appliance answers there")
            return Check("port", False, f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
                                        "an appliance may already run there, or choose another --port")
    return Check("port", True, f"{settings.host}:{settings.port} is free")


def _statuscore_answers(base_url: str) -> bool:
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(base_url + "/api/openapi.json", timeout=1) as answer:
            document = json.loads(answer.read(1 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and "StatusCore" in str(document.get("info", {}).get("title", ""))
