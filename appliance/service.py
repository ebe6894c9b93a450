"""Appliance: builds the stores, checkers and engine from Settings, and is the one object the
HTTP server and the CLI are given. Monitor changes go through it so the schedule stays in step
with the entity store.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from appliance.checkers import CheckerContext, build_checkers
from appliance.config import Settings
from appliance.engine.live import LiveState, LiveStates
from appliance.engine.runner import Runner
from appliance.engine.scheduler import Scheduler
from appliance.models import Monitor, User
from appliance.passwords import generate_password
from appliance.secret import load_or_create_secret
from appliance.spec import MonitorSpec
from appliance.state import LocationState
from appliance.storage.entities import EntityStore
from appliance.storage.history import HistoryStore
from appliance.timeutil import utcnow

log = logging.getLogger("statuscore")

UPTIME_CACHE_SECONDS = 5.0
DEFAULT_ADMIN_EMAIL = "admin@statuscore.local"


@dataclass(frozen=True)
class AdminCreated:
    email: str
    password: str | None  # set only when we generated it (print it once)


class Appliance:
    def __init__(self, settings: Settings):
        self.settings = settings
        _make_private_dir(settings.data_dir)
        self.secret = load_or_create_secret(settings.secret_path, settings.secret)
        self.entities = EntityStore(settings.entities_path)
        self.history = HistoryStore(settings.history_path, flush_interval=settings.flush_interval)
        self.live = LiveStates()
        self.checkers = build_checkers(CheckerContext(
            ca_file=settings.ca_file, dns_servers=settings.dns_servers, whois_server=settings.whois_server))
        self.scheduler: Scheduler | None = None
        self.runner = Runner(self.checkers, self.history, self.entities, self.live, settings.location,
                             is_current=self._is_current)
        self._uptime_cache: tuple[float, dict[int, tuple[int, int]]] = (0.0, {})
        self._uptime_lock = threading.Lock()
        self.started_at = utcnow()

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.scheduler = Scheduler(self.runner.run, workers=self.settings.check_workers)
        self._restore_live_state()
        for monitor in self.entities.list_monitors():
            self._schedule(monitor)
        self.scheduler.start()
        log.info("check engine started with %d scheduled monitors", len(self.scheduler))

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.history.close()
        self.entities.close()

    def ensure_admin(self) -> AdminCreated | None:
        """On an empty store create the first admin (from the environment, else generated)."""
        if self.entities.count_users():
            return None
        email = (self.settings.admin_email or DEFAULT_ADMIN_EMAIL).strip().lower()
        password = self.settings.admin_password
        generated = password is None
        if generated:
            password = generate_password()
        self.entities.create_user(email, password, full_name="Administrator", tier="pro", is_admin=True)
        return AdminCreated(email, password if generated else None)

    # ---- monitors ----------------------------------------------------------------------------
    def create_monitor(self, user: User, fields: dict) -> Monitor:
        monitor = self.entities.create_monitor(user.id, fields)
        self.live.reset(monitor.id)
        self._schedule(monitor, run_now=True)
        return monitor

    def update_monitor(self, user: User, monitor_id: int, changes: dict) -> Monitor | None:
        before = self.entities.get_monitor(monitor_id, user.id)
        if before is None:
            return None
        monitor = self.entities.update_monitor(monitor_id, user.id, changes)
        if monitor is None:
            return None
        if not monitor.is_active:
            self._unschedule(monitor.id)
            if before.is_active:
                self.entities.close_open_incidents([monitor.id], utcnow())
                self.live.reset(monitor.id)
        else:
            if not before.is_active:
                self.live.reset(monitor.id)
            self._schedule(monitor, run_now=True)
        return monitor

    def delete_monitor(self, user: User, monitor_id: int) -> bool:
        if not self.entities.delete_monitor(monitor_id, user.id):
            return False
        self._forget([monitor_id])
        return True

    def delete_user(self, user_id: int) -> None:
        self._forget(self.entities.delete_user(user_id))

    def live_state(self, monitor: Monitor) -> LiveState:
        return self.live.get(monitor.id)

    def uptime_24h(self) -> dict[int, tuple[int, int]]:
        """monitor_id -> (checks, failures) over the last 24 h, cached for a few seconds so a
        busy dashboard does not rescan the history on every request."""
        now = time.monotonic()
        with self._uptime_lock:
            stamp, cached = self._uptime_cache
            if now - stamp < UPTIME_CACHE_SECONDS:
                return cached
            ids = [m.id for m in self.entities.list_monitors()]
            fresh = self.history.uptime_by_monitor(ids, utcnow() - timedelta(hours=24))
            self._uptime_cache = (now, fresh)
            return fresh

    def known_locations(self) -> set[str]:
        return {self.settings.location}

    # ---- internals ---------------------------------------------------------------------------
    def _schedule(self, monitor: Monitor, run_now: bool = False) -> None:
        if self.scheduler is None or not monitor.is_active or monitor.type not in self.checkers:
            return
        spec = MonitorSpec.from_model(monitor)
        if not spec.runs_at(self.settings.location):
            self.scheduler.remove(monitor.id)
            return
        self.scheduler.add(spec, run_now=run_now)

    def _unschedule(self, monitor_id: int) -> None:
        if self.scheduler is not None:
            self.scheduler.remove(monitor_id)

    def _forget(self, monitor_ids: list[int]) -> None:
        for monitor_id in monitor_ids:
            self._unschedule(monitor_id)
            self.live.discard(monitor_id)
        self.history.delete_monitors(monitor_ids)

    def _is_current(self, spec: MonitorSpec) -> bool:
        return self.scheduler is not None and self.scheduler.is_scheduled(spec)

    def _restore_live_state(self) -> None:
        """After a restart: the confirmed status from the entity store (so a monitor that was
        down stays down without a second alert) and the newest result from the history."""
        latest = self.history.latest(utcnow() - timedelta(days=2))
        for monitor in self.entities.list_monitors():
            if not monitor.is_active:
                continue
            locations = {self.settings.location: LocationState(status=monitor.status)}
            newest = latest.get((monitor.id, self.settings.location))
            state = LiveState(status=monitor.status, locations=locations)
            if newest is not None:
                checked_at, _up, response_time, error = newest
                state = LiveState(status=monitor.status, locations=locations, last_check=checked_at,
                                  response_time=response_time, last_error=error)
            self.live.set(monitor.id, state)


def _make_private_dir(path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except PermissionError:
        pass
