"""The JWT signing secret: generated once per data dir, readable only by its owner.

There is deliberately no built-in default: a server that cannot read its secret refuses to start.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger("statuscore")

MIN_SECRET_LENGTH = 32


class SecretError(RuntimeError):
    pass


def load_or_create_secret(path: Path, from_env: str | None = None) -> str:
    if from_env:
        if len(from_env) < MIN_SECRET_LENGTH:
            raise SecretError(
                f"STATUSCORE_SECRET is shorter than {MIN_SECRET_LENGTH} characters; "
                "generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return from_env
    if not path.exists():
        _create(path)
    _make_private(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(
            f"cannot read the secret file {path} ({exc.strerror}); "
            "run as the user that owns the data dir, or fix its permissions"
        ) from None
    if len(text) < MIN_SECRET_LENGTH:
        raise SecretError(
            f"the secret file {path} is empty or too short; delete it to have a new one generated "
            "(existing logins will have to sign in again)"
        )
    return text


def _make_private(path: Path) -> None:
    """A secret file others may read (copied in, or made under a loose umask) is set to 0600, with
    one line in the log; one we cannot fix (not our file) stops the start."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return  # reading it says what is wrong
    if not mode & 0o077:
        return
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        raise SecretError(
            f"the secret file {path} can be read by other users (mode {mode:04o}) and cannot be made private "
            f"({exc.strerror}); run chmod 600 on it as its owner"
        ) from None
    log.warning("the secret file %s could be read by other users (mode %04o); set it to 0600", path, mode)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not both write a different secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
