"""Remote probes (SQLite): registration, rename, revoke; tokens are stored as SHA-256 hashes
(they are random 256-bit strings, so a fast hash is enough and lookups can use an index)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import select

from appliance.models import Probe
from appliance.storage.entities import Conflict

TOKEN_PREFIX = "scp_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ProbeStore:
    def __init__(self, entities):
        self.entities = entities

    def register(self, name: str, display_name: str) -> tuple[Probe, str]:
        """A new probe and its token (returned once, never stored in clear)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        probe = Probe(name=name, display_name=display_name, token_hash=hash_token(token))
        with self.entities.session() as s:
            s.add(probe)
            try:
                s.commit()
            except IntegrityError:
                raise Conflict(f"a probe named {name} already exists") from None
            s.refresh(probe)
            return probe, token

    def all(self) -> list[Probe]:
        with self.entities.session() as s:
            return list(s.exec(select(Probe).order_by(Probe.id)))

    def get(self, probe_id: int) -> Probe | None:
        with self.entities.session() as s:
            return s.get(Probe, probe_id)

    def by_token(self, token: str) -> Probe | None:
        with self.entities.session() as s:
            return s.exec(select(Probe).where(Probe.token_hash == hash_token(token))).first()

    def rename(self, probe_id: int, display_name: str) -> Probe | None:
        with self.entities.session() as s:
            probe = s.get(Probe, probe_id)
            if probe is None:
                return None
            probe.display_name = display_name
            s.add(probe)
            s.commit()
            s.refresh(probe)
            return probe

    def delete(self, probe_id: int) -> Probe | None:
        with self.entities.session() as s:
            probe = s.get(Probe, probe_id)
            if probe is None:
                return None
            s.delete(probe)
            s.commit()
            return probe

    def touch(self, probe_id: int, at: datetime) -> None:
        try:
            with self.entities.session() as s:
                probe = s.get(Probe, probe_id)
                if probe is not None:
                    probe.last_seen_at = at
                    s.add(probe)
                    s.commit()
        except SQLAlchemyError:
            pass  # bookkeeping (the disk may be full): the probe is online in memory all the same
