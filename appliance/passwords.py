"""Password hashing with scrypt from the standard library (memory-hard, no extra dependency)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P, _LEN = 2**14, 8, 1, 32
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, _b64(salt), _b64(digest))


def verify_password(password: str, encoded: str | None) -> bool:
    """Constant-time check. With no stored hash, still spend the time, so a missing
    account cannot be told from a wrong password by timing."""
    if not encoded:
        hashlib.scrypt(password.encode("utf-8"), salt=b"0" * 16, n=_N, r=_R, p=_P, dklen=_LEN)
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
