"""Password hashing with scrypt from the standard library (memory-hard, no extra dependency).

- The cost defaults to OWASP's minimum for scrypt (Password Storage Cheat Sheet): N=2^17, r=8,
  p=1, i.e. 128 MiB of memory per hash. Only an explicit setting (STATUSCORE_PASSWORD_HASH_COST,
  the log2 of N; the test suite passes a low one for speed) makes it cheaper.
- A stored hash carries its parameters (`scrypt$N$r$p$salt$digest`), so hashes made with an older,
  weaker cost still verify; `needs_rehash` says when to store a new one (at the next login).
- At most `concurrency` hashes run at once (a semaphore): 20 logins in parallel wait their turn
  instead of taking 2.5 GB.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

MIN_PASSWORD_LENGTH = 8
OWASP_LOG2_N = 17  # N=2^17, r=8, p=1: OWASP's minimum for scrypt
MIN_LOG2_N, MAX_LOG2_N = 10, 20
_LEN = 32


@dataclass(frozen=True)
class ScryptCost:
    n: int = 2**OWASP_LOG2_N
    r: int = 8
    p: int = 1

    @classmethod
    def of(cls, log2_n: int) -> "ScryptCost":
        return cls(n=2**log2_n)

    @property
    def maxmem(self) -> int:
        """What hashlib.scrypt must be allowed to use (its default, 32 MiB, is below 2^17 x 8)."""
        return 128 * self.r * (self.n + self.p + 2) + (1 << 20)

    def weaker_than(self, other: "ScryptCost") -> bool:
        return self.n < other.n or self.r < other.r or self.p < other.p


class PasswordHasher:
    def __init__(self, cost: ScryptCost = ScryptCost(), concurrency: int = 2):
        self.cost = cost
        self._slots = threading.BoundedSemaphore(concurrency)

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        digest = self._scrypt(password, salt, self.cost, _LEN)
        c = self.cost
        return f"scrypt${c.n}${c.r}${c.p}${_b64(salt)}${_b64(digest)}"

    def verify(self, password: str, encoded: str | None) -> bool:
        """Constant-time check. With no stored hash, still spend the time, so a missing
        account cannot be told from a wrong password by timing."""
        if not encoded:
            self._scrypt(password, b"0" * 16, self.cost, _LEN)
            return False
        parsed = _parse(encoded)
        if parsed is None:
            return False
        cost, salt, expected = parsed
        return hmac.compare_digest(self._scrypt(password, salt, cost, len(expected)), expected)

    def needs_rehash(self, encoded: str | None) -> bool:
        """The stored hash was made with a weaker cost than this hasher's (or cannot be read)."""
        parsed = _parse(encoded or "")
        return parsed is None or parsed[0].weaker_than(self.cost)

    def _scrypt(self, password: str, salt: bytes, cost: ScryptCost, length: int) -> bytes:
        with self._slots:
            return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=cost.n, r=cost.r, p=cost.p,
                                  maxmem=cost.maxmem, dklen=length)


def _parse(encoded: str) -> tuple[ScryptCost, bytes, bytes] | None:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        cost = ScryptCost(int(n), int(r), int(p))
        power_of_two = cost.n & (cost.n - 1) == 0
        if scheme != "scrypt" or not (power_of_two and 2 <= cost.n <= 2**MAX_LOG2_N and 1 <= cost.r <= 32
                                      and 1 <= cost.p <= 16):
            return None
        return cost, base64.b64decode(salt), base64.b64decode(digest)
    except (ValueError, TypeError):
        return None


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
