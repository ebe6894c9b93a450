"""API keys (SQLite): created with the key shown once, stored as a SHA-256 hash (the key is 256
random bits, so a fast hash is enough and allows an indexed lookup). Lookups are cached briefly;
revoking clears the cache at once."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from appliance.models import ApiKey, User
from appliance.timeutil import as_utc, utcnow

KEY_PREFIX = "sc_"
CACHE_SECONDS = 30.0
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeyStore:
    def __init__(self, entities):
        self.entities = entities
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, ApiKey | None, User | None]] = {}

    def create(self, user_id: int, name: str, scope: str) -> tuple[ApiKey, str]:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKey(user_id=user_id, name=name, scope=scope, prefix=key[:10], key_hash=hash_key(key))
        return self.entities.add_owned(row, "api_keys"), key

    def list(self, user_id: int) -> list[ApiKey]:
        with self.entities.session() as s:
            return list(s.exec(select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id)))

    def revoke(self, key_id: int, user_id: int) -> bool:
        with self.entities.session() as s:
            row = s.get(ApiKey, key_id)
            if row is None or row.user_id != user_id:
                return False
            s.delete(row)
            s.commit()
        with self._lock:
            self._cache.clear()
        return True

    def authenticate(self, key: str) -> tuple[ApiKey, User] | None:
        """The key's record and its user, or None for an unknown or revoked key."""
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is None or now - cached[0] > CACHE_SECONDS:
            with self.entities.session() as s:
                row = s.exec(select(ApiKey).where(ApiKey.key_hash == digest)).first()
                user = s.get(User, row.user_id) if row else None
            cached = (now, row, user)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = cached
        _, row, user = cached
        if row is None or user is None:
            return None
        stamp = utcnow()
        if row.last_used_at is None or stamp - as_utc(row.last_used_at) > TOUCH_EVERY:
            row.last_used_at = stamp
            try:
                with self.entities.session() as s:
                    stored = s.get(ApiKey, row.id)
                    if stored is not None:
                        stored.last_used_at = stamp
                        s.add(stored)
                        s.commit()
            except SQLAlchemyError:
                pass  # a bookkeeping write (the disk may be full): the key works all the same
        return row, user

    def forget_user(self, user_id: int) -> None:
        with self._lock:
            self._cache.clear()


def last_used(row: ApiKey) -> datetime | None:
    return as_utc(row.last_used_at) if row.last_used_at else None
