"""EntityStore: the SQLModel engine on SQLite (WAL, foreign keys on) or on PostgreSQL
(STATUSCORE_DATABASE_URL; see database.py), and its repositories.

Objects returned are detached snapshots (expire_on_commit=False): callers may read them freely
but change data only through the store's methods.
"""

from __future__ import annotations

import secrets
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Sequence

from sqlalchemy import event, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from appliance.models import ENGINE_COLUMNS, Incident, Monitor, StateChange, User
from appliance.passwords import PasswordHasher
from appliance.plans import PlanLimits
from appliance.state import is_alert
from appliance.monitor_types import TYPES
from appliance.storage import migrations
from appliance.storage.database import is_postgres, make_engine, redacted
from appliance.timeutil import as_utc, iso, utcnow


class Conflict(ValueError):
    """A unique value (email, slug) is taken."""


@dataclass(frozen=True)
class Transition:
    """What the engine asks the store to persist when a monitor's confirmed status changes."""

    monitor_id: int
    old_status: str
    new_status: str
    at: datetime
    cause: str
    locations: tuple[str, ...] = ()


class EntityStore:
    def __init__(self, target: Path | str, limits: PlanLimits | None = None, hasher: PasswordHasher | None = None):
        """`target`: a SQLite file, or a postgresql:// URL."""
        self.postgres = is_postgres(target)
        self.path = redacted(str(target)) if self.postgres else Path(target)  # for messages
        self.hasher = hasher or PasswordHasher()
        self.limits = limits  # what each plan may hold; None: no limits (tools, benchmarks)
        self.engine = make_engine(target)
        # Monitors are read on every API call and written rarely (never per check): keep a
        # snapshot of them, dropped on any commit to this store, except the engine's own writes
        # of ENGINE_COLUMNS (a status change), which patch it instead: reloading every monitor
        # after each status change cost more than all the checks at 10,000 monitors.
        self._generation = 0
        self._snapshot: tuple[int, tuple[Monitor, ...], dict[int, Monitor]] | None = None
        self._snapshot_lock = threading.Lock()
        self._engine_write = threading.local()  # set while this thread commits an engine-owned write
        self._engine_seen: dict[int, tuple] = {}  # reread_engine_columns: the last read, as the driver gave it
        self._config_generation = 0  # moves when monitors are reloaded, not when a status is patched
        self._patched_at: dict[int, int] = {}  # monitor id -> the generation its snapshot row was last patched at
        # Cluster mode: monitor_id -> a condition true only while this node holds the monitor's
        # lease; every status write carries it, in its own transaction (appliance/cluster.py).
        self.fence = None
        event.listen(self.engine, "commit", self._changed)
        migrations.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def add_owned(self, row, kind: str):
        """Insert a row a user owns (`row.user_id`) unless they already have as many of `kind` as
        their plan allows (raises plans.LimitReached). The count and the insert are one write
        transaction that first takes a lock parallel creates wait for (SQLite's write lock with
        BEGIN IMMEDIATE; on PostgreSQL the owner's row, FOR UPDATE), so parallel creates at the
        limit cannot both pass, whichever path (API, import) they come by."""
        model = type(row)
        with self.session() as s:
            user = self.lock_owner(s, row.user_id)
            if self.limits is not None and user is not None:
                have = s.exec(select(func.count()).select_from(model).where(model.user_id == row.user_id)).one()
                self.limits.check(user, kind, have)
            s.add(row)
            s.commit()
            s.refresh(row)
            return row

    def lock_owner(self, s: Session, user_id: int) -> User | None:
        """Begin a write transaction on `s` that serialises with every other one changing what
        this user owns; returns the user."""
        if self.postgres:
            return s.get(User, user_id, with_for_update=True)
        s.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return s.get(User, user_id)

    # ---- users -------------------------------------------------------------------------------
    def count_users(self) -> int:
        with self.session() as s:
            return s.exec(select(func.count()).select_from(User)).one()

    def create_user(self, email: str, password: str, full_name: str = "", tier: str = "free",
                    is_admin: bool = False) -> User:
        user = User(email=email.lower(), full_name=full_name, password_hash=self.hasher.hash(password),
                    subscription_tier=tier, is_admin=is_admin)
        with self.session() as s:
            s.add(user)
            try:
                s.commit()
            except IntegrityError:
                raise Conflict(f"a user with email {email} already exists") from None
            s.refresh(user)
            return user

    def get_user(self, user_id: int) -> User | None:
        with self.session() as s:
            return s.get(User, user_id)

    def user_by_email(self, email: str) -> User | None:
        with self.session() as s:
            return s.exec(select(User).where(User.email == email.lower())).first()

    def user_by_status_page_slug(self, slug: str) -> User | None:
        with self.session() as s:
            return s.exec(select(User).where(User.status_page_slug == slug)).first()

    def list_users(self) -> list[User]:
        with self.session() as s:
            return list(s.exec(select(User).order_by(User.id)))

    def update_user(self, user_id: int, **changes) -> User | None:
        """Apply column changes; `password` is hashed and bumps the token version."""
        with self.session() as s:
            user = s.get(User, user_id)
            if user is None:
                return None
            if "password" in changes:
                user.password_hash = self.hasher.hash(changes.pop("password"))
                user.token_version += 1
            if "email" in changes:
                changes["email"] = changes["email"].lower()
            for key, value in changes.items():
                setattr(user, key, value)
            s.add(user)
            try:
                s.commit()
            except IntegrityError:
                raise Conflict("that email or status page slug is already taken") from None
            s.refresh(user)
            return user

    def replace_password_hash(self, user_id: int, old: str, new: str) -> None:
        """The same password hashed again (a stronger cost): no token is revoked. Compare-and-set,
        so a password changed meanwhile is never overwritten."""
        with self.session() as s:
            s.exec(update(User).where(User.id == user_id, User.password_hash == old).values(password_hash=new))
            s.commit()

    def delete_user(self, user_id: int) -> list[int]:
        """Delete a user and (by cascade) everything they own; returns their monitor ids."""
        with self.session() as s:
            user = s.get(User, user_id)
            if user is None:
                return []
            ids = list(s.exec(select(Monitor.id).where(Monitor.user_id == user_id)))
            s.delete(user)
            s.commit()
            return ids

    # ---- monitors ----------------------------------------------------------------------------
    def create_monitor(self, user_id: int, fields: dict) -> Monitor:
        return self.add_owned(new_monitor(user_id, fields), "monitors")

    def get_monitor(self, monitor_id: int, user_id: int | None = None) -> Monitor | None:
        """With user_id, another user's monitor is simply not found. (A shared snapshot: read it,
        change monitors only through this store.)"""
        monitor = self._monitors()[1].get(monitor_id)
        if monitor is None or (user_id is not None and monitor.user_id != user_id):
            return None
        return monitor

    def list_monitors(self, user_id: int | None = None) -> list[Monitor]:
        everything = self._monitors()[0]
        if user_id is None:
            return list(everything)
        return [m for m in everything if m.user_id == user_id]

    @property
    def generation(self) -> int:
        """Changes with every commit to this store (for caches of what it holds)."""
        return self._generation

    @property
    def config_generation(self) -> int:
        """Changes when any monitor's configuration may have changed (not on status changes: for
        caches of what derives from the configuration only)."""
        return self._config_generation

    def invalidate(self) -> None:
        """Another appliance changed the database (cluster mode): drop what is cached."""
        self._drop()

    def reread_engine_columns(self) -> int:
        """Cluster mode: other nodes' status writes do not move the change counter; read the
        ENGINE_COLUMNS of every monitor again and patch the snapshot. Returns how many changed."""
        snapshot, read_at = self._snapshot, self._generation
        if snapshot is None:
            return 0  # the next read loads everything anyway
        # Every monitor's columns as the driver gives them (no ORM, no type conversion: cheap at
        # 10,000 rows), compared with the last read; only rows that differ are read typed.
        names = ", ".join(f'"{name}"' for name in ENGINE_COLUMNS)
        with self.engine.connect() as c:  # no commit: nothing dropped
            cursor = c.connection.dbapi_connection.cursor()  # plain tuples: no Row objects
            try:
                cursor.execute(f"SELECT id, {names} FROM monitor")
                raw = {row[0]: row for row in cursor.fetchall()}
            finally:
                cursor.close()
            moved = [m for m, values in raw.items() if self._engine_seen.get(m) != values]
            rows = []
            for start in range(0, len(moved), 1000):
                rows += c.execute(select(Monitor.id, *(getattr(Monitor, n) for n in ENGINE_COLUMNS))
                                  .where(Monitor.id.in_(moved[start:start + 1000]))).all()
        changes = {}
        for monitor_id, *values in rows:
            cached = snapshot[2].get(monitor_id)
            if cached is not None:
                differ = {n: v for n, v in zip(ENGINE_COLUMNS, values) if getattr(cached, n) != v}
                if differ:
                    changes[monitor_id] = differ
        skipped = self._patch(changes, read_at=(read_at, snapshot[2]))
        for monitor_id in skipped:  # newer here than what we read: compared again next time
            raw.pop(monitor_id, None)
        self._engine_seen = raw
        return len(changes) - len(skipped)

    def _fenced(self, monitor_id: int) -> tuple:
        return () if self.fence is None else (self.fence(monitor_id),)

    def _changed(self, _connection) -> None:
        if not getattr(self._engine_write, "on", False):  # else the writer patches the snapshot
            self._drop()

    def _drop(self) -> None:
        with self._snapshot_lock:
            self._generation += 1
            self._config_generation += 1
            self._snapshot = None

    @contextmanager
    def _engine_columns_only(self):
        """Around a commit that writes only ENGINE_COLUMNS of monitors (plus outbox, incidents):
        the commit does not drop the snapshot; the caller patches it (_patch) after."""
        self._engine_write.on = True
        try:
            yield
        finally:
            self._engine_write.on = False

    def _patch(self, changes: dict[int, dict], read_at: tuple[int, dict] | None = None) -> set[int]:
        """Committed values of ENGINE_COLUMNS into the snapshot (in the form a reload gives:
        aware UTC times). The generation moves, so a snapshot being read meanwhile (which may
        predate these writes) is not kept, and callers' caches follow.

        read_at: (generation, snapshot) when the values were read from the database (not
        written here): a monitor patched since, or a snapshot reloaded since, is newer than
        them and kept. Returns the monitors left as they were for that reason."""
        if not changes:
            return set()
        with self._snapshot_lock:
            snapshot = self._snapshot
            if read_at is not None:
                if snapshot is None or snapshot[2] is not read_at[1]:
                    return set(changes)
                newer = {m for m in changes if self._patched_at.get(m, -1) > read_at[0]}
                changes = {m: v for m, v in changes.items() if m not in newer}
            else:
                newer = set()
            self._generation += 1
            if snapshot is None or snapshot[0] != self._generation - 1:
                self._snapshot = None
                return newer
            for monitor_id, values in changes.items():
                cached = snapshot[2].get(monitor_id)
                if cached is None:
                    continue
                self._patched_at[monitor_id] = self._generation
                for name, value in values.items():
                    setattr(cached, name, as_utc(value) if isinstance(value, datetime) else value)
            self._snapshot = (self._generation, snapshot[1], snapshot[2])
            return newer

    def _monitors(self) -> tuple[tuple[Monitor, ...], dict[int, Monitor]]:
        snapshot = self._snapshot
        if snapshot is not None and snapshot[0] == self._generation:
            return snapshot[1], snapshot[2]
        generation = self._generation
        with self.session() as s:
            rows = tuple(s.exec(select(Monitor).order_by(Monitor.id)))
        by_id = {m.id: m for m in rows}
        with self._snapshot_lock:
            if generation == self._generation:  # no commit while we read: the snapshot is current
                self._snapshot = (generation, rows, by_id)
        return rows, by_id

    def monitor_by_heartbeat_token(self, token: str) -> Monitor | None:
        with self.session() as s:
            return s.exec(select(Monitor).where(Monitor.heartbeat_token == token)).first()

    def set_monitor_fields(self, monitor_id: int, **values) -> None:
        """Engine-owned columns (heartbeat_since, expiry notices): no ownership check, no
        updated_at bump."""
        engine_only = set(values) <= set(ENGINE_COLUMNS)
        with self.session() as s:
            s.exec(update(Monitor).where(Monitor.id == monitor_id).values(**values))
            if not engine_only:
                s.commit()
                return
            with self._engine_columns_only():
                s.commit()
        self._patch({monitor_id: values})

    def update_monitor(self, monitor_id: int, user_id: int, changes: dict) -> Monitor | None:
        with self.session() as s:
            monitor = s.get(Monitor, monitor_id)
            if monitor is None or monitor.user_id != user_id:
                return None
            change_monitor(monitor, changes)
            s.add(monitor)
            s.commit()
            s.refresh(monitor)
            return monitor

    def delete_monitor(self, monitor_id: int, user_id: int) -> bool:
        with self.session() as s:
            monitor = s.get(Monitor, monitor_id)
            if monitor is None or monitor.user_id != user_id:
                return False
            s.delete(monitor)
            s.commit()
            return True

    # ---- transitions and incidents -----------------------------------------------------------
    def record_transition(self, t: Transition) -> StateChange | None:
        """Persist a confirmed status change, its outbox row and the incident, atomically.

        Compare-and-set on the stored status: if another path already recorded this change
        (or the monitor was deleted), nothing is written and None is returned.
        """
        with self.session() as s:
            values = {"status": t.new_status, "status_since": t.at}
            if t.new_status == "down":
                values["last_alert_at"] = t.at
            changed = s.exec(
                update(Monitor)
                .where(Monitor.id == t.monitor_id, Monitor.status == t.old_status, *self._fenced(t.monitor_id))
                .values(**values)
            ).rowcount
            if not changed:
                s.rollback()
                return None
            details: dict = {"cause": t.cause, "locations": list(t.locations)}
            if t.new_status == "down":
                incident = Incident(monitor_id=t.monitor_id, started_at=t.at, cause=t.cause,
                                    locations=list(t.locations))
                s.add(incident)
                s.flush()  # its id goes into the notification
                details["incident_id"] = incident.id
            elif t.old_status == "down":
                resolved = list(s.exec(select(Incident).where(
                    Incident.monitor_id == t.monitor_id, Incident.resolved_at.is_(None))
                    .order_by(Incident.started_at)))
                for incident in resolved:
                    incident.resolved_at = t.at
                    s.add(incident)
                if resolved:  # the recovery names the outage it ends: why, and how long it lasted
                    latest = resolved[-1]
                    details.update(incident_details(latest, t.at))
                    details["cause"] = latest.cause or t.cause
            row = None
            # Into down (a new monitor's first verdict too) and down back to up; pending -> up
            # is no news.
            if is_alert(t.old_status, t.new_status):
                row = StateChange(
                    monitor_id=t.monitor_id, created_at=t.at, old_status=t.old_status,
                    new_status=t.new_status, event=f"monitor.{t.new_status}", details=details,
                )
                s.add(row)
            with self._engine_columns_only():
                s.commit()
        self._patch({t.monitor_id: values})
        return row

    def due_reminders(self, now: datetime) -> list[Monitor]:
        """Down monitors whose reminder interval has passed since their last alert (from the
        monitor snapshot: asked every few seconds, it costs no query while nothing changes)."""
        return [m for m in self._monitors()[0]
                if m.status == "down" and m.is_active and m.reminder_minutes is not None
                and now - as_utc(m.last_alert_at or m.status_since or now) >= timedelta(minutes=m.reminder_minutes)]

    def record_reminder(self, monitor: Monitor, at: datetime, details: dict) -> bool:
        """Another monitor.down event for a monitor still down (compare-and-set on the last alert)."""
        with self.session() as s:
            changed = s.exec(update(Monitor).where(Monitor.id == monitor.id, Monitor.status == "down",
                                                   Monitor.last_alert_at == monitor.last_alert_at,
                                                   *self._fenced(monitor.id))
                             .values(last_alert_at=at)).rowcount
            if not changed:
                s.rollback()
                return False
            incident = s.exec(select(Incident).where(Incident.monitor_id == monitor.id, Incident.resolved_at.is_(None))
                              .order_by(Incident.started_at.desc())).first()
            facts = incident_details(incident, at) if incident is not None else {}
            s.add(StateChange(monitor_id=monitor.id, created_at=at, old_status="down", new_status="down",
                              event="monitor.down", details={**details, **facts, "reminder": True}))
            with self._engine_columns_only():
                s.commit()
        self._patch({monitor.id: {"last_alert_at": at}})
        return True

    def record_expiry_notice(self, monitor_id: int, kind: str, expires_at: datetime, details: dict) -> bool:
        """One `<kind>.expiring` outbox row per expiry date (kind: ssl or domain), also across
        restarts: compare-and-set on the date we last notified for."""
        column = {"ssl": Monitor.ssl_expiry_notified, "domain": Monitor.domain_expiry_notified}[kind]
        when = as_utc(expires_at)
        with self.session() as s:
            changed = s.exec(
                update(Monitor)
                .where(Monitor.id == monitor_id, (column.is_(None)) | (column != when), *self._fenced(monitor_id))
                .values({column: when})
            ).rowcount
            if not changed:
                s.rollback()
                return False
            status = s.get(Monitor, monitor_id).status
            s.add(StateChange(monitor_id=monitor_id, old_status=status, new_status=status,
                              event=f"{kind}.expiring", details=details))
            with self._engine_columns_only():
                s.commit()
        self._patch({monitor_id: {column.key: when}})
        return True

    def incidents(self, monitor_ids: Sequence[int], since: datetime | None = None,
                  limit: int = 100) -> list[Incident]:
        if not monitor_ids:
            return []
        with self.session() as s:
            query = select(Incident).where(Incident.monitor_id.in_(list(monitor_ids)))
            if since is not None:
                query = query.where((Incident.resolved_at.is_(None)) | (Incident.resolved_at >= since))
            return list(s.exec(query.order_by(Incident.started_at.desc(), Incident.id.desc()).limit(limit)))

    def incident_page(self, monitor_ids: Sequence[int], ongoing: bool | None = None, since: datetime | None = None,
                      limit: int = 50, offset: int = 0) -> tuple[list[Incident], int]:
        """One page of the incidents of these monitors, newest first, and how many match in all.
        `ongoing`: only open (True) or only resolved (False) ones; `since`: only those still
        going on at or after that time (as incidents() counts them)."""
        if not monitor_ids:
            return [], 0
        where = [Incident.monitor_id.in_(list(monitor_ids))]
        if ongoing is not None:
            where.append(Incident.resolved_at.is_(None) if ongoing else Incident.resolved_at.is_not(None))
        if since is not None:
            where.append((Incident.resolved_at.is_(None)) | (Incident.resolved_at >= since))
        with self.session() as s:
            total = s.exec(select(func.count()).select_from(Incident).where(*where)).one()
            rows = s.exec(select(Incident).where(*where)
                          .order_by(Incident.started_at.desc(), Incident.id.desc()).offset(offset).limit(limit))
            return list(rows), total

    def get_incident(self, incident_id: int) -> Incident | None:
        with self.session() as s:
            return s.get(Incident, incident_id)

    def state_changes(self, monitor_id: int, start: datetime, end: datetime | None) -> list[StateChange]:
        """A monitor's up/down outbox rows (reminders included) from start to end (None: now),
        oldest first: what an incident announced."""
        with self.session() as s:
            query = select(StateChange).where(StateChange.monitor_id == monitor_id,
                                              StateChange.event.in_(("monitor.down", "monitor.up")),
                                              StateChange.created_at >= start)
            if end is not None:
                query = query.where(StateChange.created_at <= end)
            return list(s.exec(query.order_by(StateChange.created_at, StateChange.id)))

    def down_intervals(self, since: datetime, monitor_ids: Sequence[int] | None = None
                       ) -> list[tuple[int, datetime, datetime | None]]:
        """(monitor_id, started_at, resolved_at or None) of incidents overlapping [since, now)."""
        with self.session() as s:
            query = select(Incident.monitor_id, Incident.started_at, Incident.resolved_at).where(
                (Incident.resolved_at.is_(None)) | (Incident.resolved_at >= since))
            if monitor_ids is not None:
                query = query.where(Incident.monitor_id.in_(list(monitor_ids)))
            return [(m, as_utc(a), as_utc(b) if b else None) for m, a, b in s.exec(query.order_by(Incident.started_at))]

    def close_open_incidents(self, monitor_ids: Iterable[int], at: datetime) -> None:
        """Pausing a monitor ends its ongoing incident: nobody is checking any more."""
        ids = list(monitor_ids)
        if not ids:
            return
        with self.session() as s:
            s.exec(update(Incident).where(Incident.monitor_id.in_(ids), Incident.resolved_at.is_(None))
                   .values(resolved_at=at))
            s.commit()


def new_monitor(user_id: int, fields: dict) -> Monitor:
    """A monitor row to add (a heartbeat monitor gets its secret token)."""
    monitor = Monitor(user_id=user_id, **fields)
    if TYPES[monitor.type].pushed:  # the job calls a URL of its own
        monitor.heartbeat_token = secrets.token_urlsafe(18)
    return monitor


def change_monitor(monitor: Monitor, changes: dict) -> None:
    """Apply configuration changes to a monitor row of a session (pausing resets its status)."""
    for key, value in changes.items():
        setattr(monitor, key, value)
    if changes.get("is_active") is False:
        monitor.status, monitor.status_since = "pending", None
    monitor.updated_at = utcnow()


def incident_details(incident: Incident, at: datetime) -> dict:
    """What a notification tells of an incident: its id, start, and how long it has lasted by `at`."""
    started = as_utc(incident.started_at)
    return {"incident_id": incident.id, "incident_started_at": iso(started),
            "duration_seconds": max(0, int((as_utc(at) - started).total_seconds()))}
