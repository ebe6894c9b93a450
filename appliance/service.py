"""Appliance: builds the stores, checkers and engine from Settings, and is the one object the
HTTP server and the CLI are given. Monitor changes go through it so the schedule stays in step
with the entity store.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import SQLAlchemyError

from appliance.blind import BlindSpans
from appliance.checkers import CheckerContext, CheckResult
from appliance.monitor_types import TYPES, build_checkers
from appliance.checkers.heartbeat import HeartbeatChecker
from appliance.cluster import Cluster
from appliance.config import Settings
from appliance.engine.dispatcher import Dispatcher
from appliance.engine.live import LiveState, LiveStates
from appliance.engine.runner import Runner
from appliance.engine.scheduler import Scheduler
from appliance.engine.uptime import DowntimeLedger
from appliance.imports import ImportPlan
from appliance.insights import AnomalyDetector
from appliance.locations import Locations
from appliance.maintenance import Calendar, Window
from appliance.models import Monitor, User
from appliance.notifiers import Event
from appliance.page_versions import PageVersions
from appliance.passwords import OWASP_LOG2_N, PasswordHasher, ScryptCost, generate_password
from appliance.plans import PlanLimits
from appliance.probe_intake import ProbeIntake, relayed_result
from appliance.instance import load_or_create_instance_id
from appliance.secret import load_or_create_secret
from appliance.services import Services
from appliance.slots import Slots
from appliance.spec import MonitorSpec
from appliance.state import LocationState
from appliance.storage import storage_error
from appliance.storage.anomalies import AnomalyStore
from appliance.storage.cluster import ClusterStore
from appliance.storage.database import make_engine
from appliance.storage.api_keys import ApiKeyStore
from appliance.storage.entities import Conflict as StoreConflict, EntityStore
from appliance.storage.history import HistoryWriteError
from appliance.storage.imports import write_import
from appliance.storage.incident_updates import IncidentUpdateStore
from appliance.storage.maintenance import MaintenanceStore
from appliance.storage.outbox import Fanout, OutboxStore
from appliance.storage.pg_history import open_history
from appliance.storage.probe_relay import ProbeRelayStore
from appliance.storage.probes import ProbeStore
from appliance.storage.shared_limits import SharedLimits
from appliance.timeutil import as_utc, iso, utcnow
from appliance.tools.mtr import Mtr
from appliance.tools.whois import WhoisClient

log = logging.getLogger("statuscore")

LOCATION_WATCH_SECONDS = 2.0
# Imports and exports read and build documents in Python, holding the interpreter: more of them at
# once would finish no sooner and slow every other request. One per user, so one user cannot take
# both.
TRANSFER_SLOTS, TRANSFER_SLOTS_PER_USER = 2, 1

DEFAULT_ADMIN_EMAIL = "admin@statuscore.local"
BLIND_UNKNOWN = timedelta(days=2)
RELAY_KEEP = timedelta(days=1)  # probe results no owner took (monitor deleted or paused) are dropped after
# Outbox details that become Event fields of their own rather than `extra`.
INCIDENT_FACTS = ("cause", "locations", "incident_id", "incident_started_at", "duration_seconds")  # no record of the last run: every heartbeat wait starts afresh


@dataclass(frozen=True)
class AdminCreated:
    email: str
    password: str | None  # set only when we generated it (print it once)


class Appliance:
    def __init__(self, settings: Settings):
        self.settings = settings
        _make_private_dir(settings.data_dir)
        self.secret = load_or_create_secret(settings.secret_path, settings.secret)
        self.instance_id = load_or_create_instance_id(settings.instance_path)
        self.plan_limits = PlanLimits.from_settings(settings)
        self.passwords = PasswordHasher(ScryptCost.of(settings.password_hash_cost), settings.password_hash_concurrency)
        if settings.password_hash_cost < OWASP_LOG2_N:
            log.warning("passwords are hashed with scrypt N=2^%d, below OWASP's minimum 2^%d: for tests only "
                        "(STATUSCORE_PASSWORD_HASH_COST)", settings.password_hash_cost, OWASP_LOG2_N)
        self.entities = EntityStore(settings.entities_target, self.plan_limits, self.passwords)
        self.history = open_history(settings.history_target, flush_interval=settings.flush_interval,
                                    memory_limit=settings.history_memory_limit)
        self.live = LiveStates()
        # When the appliance could not take heartbeat calls (stopped, saturated): no job is blamed for it.
        self.blind = BlindSpans()
        self.heartbeats = HeartbeatChecker(blind=self.blind)
        # One WHOIS client (and cache) for domain checks and the WHOIS tool.
        self.whois = WhoisClient(settings.whois_server, referral_port=settings.whois_referral_port)
        self.mtr = Mtr(max_concurrent=settings.mtr_concurrency)  # the MTR tool; bounds runs at once
        self.transfers = Slots(TRANSFER_SLOTS, TRANSFER_SLOTS_PER_USER)  # imports and exports in progress
        self.checkers = {
            **build_checkers(CheckerContext(
                ca_file=settings.ca_file, dns_servers=settings.dns_servers, whois_server=settings.whois_server),
                whois=self.whois),
            **{name: self.heartbeats for name, kind in TYPES.items() if kind.pushed},
        }
        self.scheduler: Scheduler | None = None
        self.uptime = DowntimeLedger()
        self.api_keys = ApiKeyStore(self.entities)
        self.maintenance = MaintenanceStore(self.entities)
        self.calendar = Calendar()
        self.reload_maintenance()
        self.probes = ProbeStore(self.entities)
        self.locations = Locations(self.probes, settings.location, settings.location_display_name,
                                   settings.probe_offline_after,
                                   **({"persist_every": min(30.0, settings.probe_offline_after / 3)}
                                      if settings.cluster else {}))
        self._online = self.locations.online_set()
        self.anomalies = AnomalyStore(self.entities)
        self.incident_updates = IncidentUpdateStore(self.entities)  # the owner's notes on incidents
        sensitivity = settings.anomaly_sensitivity
        self.detector = AnomalyDetector(sensitivity if sensitivity in ("low", "medium", "high") else float(sensitivity))
        self.outbox = OutboxStore(self.entities)
        self._scheduled_as: dict[int, tuple] = {}  # cluster mode: the version of each monitor scheduled
        self._remote_latest: dict[int, tuple] = {}  # cluster mode: newest result of monitors others check
        self._remote_since: datetime | None = None
        self._remote_shown: dict[int, tuple] = {}  # what the live state of each was last built from
        self._remote_lock = threading.Lock()
        self._cluster_id_cache: tuple[int, tuple] | None = None  # see _cluster_ids
        self.cluster = self._make_cluster() if settings.cluster else None
        self.dispatcher = Dispatcher(self.outbox, self._make_event, timeout=settings.webhook_timeout,
                                     ca_file=settings.ca_file, backoff=settings.webhook_backoff,
                                     shared=self.cluster is not None,
                                     may_send=self.cluster.connected if self.cluster else (lambda: True))
        self.runner = Runner(self.checkers, self.history, self.entities, self.live, settings.location,
                             is_current=self._is_current, uptime=self.uptime, on_outbox=self.dispatcher.wake,
                             online=self.locations.online_set, quorum=settings.quorum,
                             detector=self.detector, on_anomaly=self._anomaly_found,
                             in_maintenance=self.calendar.covers)
        # Cluster mode: probe results taken by any node, decided by the monitor's owner.
        self.probe_relay = ProbeRelayStore(self.cluster.store.engine) if self.cluster else None
        self._relay_lock = threading.Lock()  # one replay at a time, so each monitor's results go in order
        self.probe_intake = ProbeIntake(self, settings.probe_max_age, relay=self.probe_relay)
        # Cluster mode: API rate limits and login throttling counted for all nodes, on an engine of
        # their own (API traffic never holds up a heartbeat's connection).
        self.shared_limits = SharedLimits(make_engine(settings.database_url)) if self.cluster else None
        self.page_versions = PageVersions()  # bumped by writes that change a public status page
        self.services = Services.build(self)  # what the API does, one use case a room
        self.started_at = utcnow()
        self._stopping = threading.Event()

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.scheduler = Scheduler(self._check, workers=self.settings.check_workers)
        if self.cluster is None:
            self._mark_down_time()
        else:  # other nodes were taking calls meanwhile: this node's own down time was nobody's blind spot
            self._touch_alive()
        self._restore_live_state()
        self._restore_detector_state()
        since = utcnow() - timedelta(hours=25)
        self.uptime.load(self.history.first_seen(since), self.entities.down_intervals(since))
        if self.cluster is None:
            for monitor in self.entities.list_monitors():
                self._schedule(monitor)
        self.scheduler.start()
        if self.cluster is not None:  # claims this node's share (and schedules it) on its first heartbeat
            self.cluster.start()
        self.dispatcher.start()
        self._housekeeper = threading.Thread(target=self._housekeeping, name="housekeeping", daemon=True)
        self._housekeeper.start()
        log.info("check engine started with %d scheduled monitors", len(self.scheduler))

    def stop(self) -> None:
        self._stopping.set()
        if self.cluster is not None and self.scheduler is not None:
            try:  # while the leases are still ours (the save keeps only held monitors' baselines)
                self.save_detector_state()
            except Exception as exc:
                log.error("saving the anomaly detector's baselines failed (%s)", storage_error(exc))
            self.cluster.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
            self.dispatcher.stop()
            try:
                self.save_detector_state()
            except Exception as exc:
                log.error("saving the anomaly detector's baselines failed (%s); tried again later "
                          "(if the disk is full, free space there)", storage_error(exc))
        self.history.close()
        self.entities.close()
        if self.shared_limits is not None:
            self.shared_limits.engine.dispose()

    def send_reminders(self) -> None:
        """Monitors with a reminder interval that are still down get their down alert again."""
        now = utcnow()
        for monitor in self.entities.due_reminders(now):
            if self.cluster is not None and not self.cluster.holds(monitor.id):
                continue  # its owner reminds (one reminder cluster-wide)
            if self.calendar.covers(monitor.id, now):
                continue
            live = self.live.get(monitor.id)
            seeing = [n for n, s in sorted(live.locations.items()) if s.status == "down"]
            if self.entities.record_reminder(monitor, now, {"cause": live.last_error or "", "locations": seeing}):
                log.info("monitor %d (%s) is still down: reminder sent", monitor.id, monitor.name)
                self.dispatcher.wake()

    def _anomaly_found(self, monitor_id: int, location: str, anomaly) -> None:
        if self.anomalies.record(monitor_id, location, anomaly) is not None:
            log.info("monitor %d at %s: %s", monitor_id, location, anomaly.message)
            self.dispatcher.wake()

    def save_detector_state(self) -> None:
        states = {}
        for key in self.detector.keys():
            if self.cluster is not None and not self.cluster.holds(key[0]):
                continue  # the owner's baseline is the one that learns; never overwrite it with ours
            state = self.detector.state(key)
            if state is not None:
                states[key] = state.to_dict()
        self.anomalies.save_states(states)

    def _restore_detector_state(self, monitor_ids: set[int] | None = None) -> None:
        for (monitor_id, location), data in self.anomalies.load_states().items():
            if monitor_ids is not None and monitor_id not in monitor_ids:
                continue
            try:
                self.detector.restore((monitor_id, location), data)
            except (ValueError, TypeError, KeyError):
                log.warning("the learned baseline of monitor %d at %s could not be read; learning again",
                            monitor_id, location)

    def _housekeeping(self) -> None:
        """Every few seconds: probes' online state. Soon after start, then periodically:
        history upkeep (rollups, retention, compaction)."""
        next_upkeep = time.monotonic() + 5.0
        while not self._stopping.wait(LOCATION_WATCH_SECONDS):
            self._touch_alive()
            if self.cluster is not None:  # here, not on the cluster's thread: heartbeats never wait for it
                try:
                    self._cluster_beat()
                except Exception as exc:
                    log.error("refreshing the state of other nodes' monitors failed (%s); trying again shortly",
                              storage_error(exc))
            try:
                self.watch_locations()
            except Exception:
                log.exception("re-deciding monitors after a probe went on/offline failed")
            try:
                self.send_reminders()
            except SQLAlchemyError as exc:  # the disk is full: one line, the runner says what to do
                log.error("sending down reminders failed (%s); trying again shortly "
                          "(if the disk is full, free space there)", storage_error(exc))
            except Exception:
                log.exception("sending down reminders failed; trying again shortly")
            if time.monotonic() < next_upkeep:
                continue
            next_upkeep = time.monotonic() + self.settings.maintenance_interval
            try:
                self.save_detector_state()
            except Exception as exc:
                log.error("saving the anomaly detector's baselines failed (%s); tried again later "
                          "(if the disk is full, free space there)", storage_error(exc))
            if self.cluster is not None and not self.cluster.leader():
                continue  # one node (the first live one) runs the history upkeep for the cluster
            if self.probe_relay is not None:
                try:
                    self.probe_relay.prune(max(RELAY_KEEP.total_seconds(), self.settings.probe_max_age + 3600))
                except Exception as exc:
                    log.error("pruning relayed probe results failed (%s); tried again at the next upkeep",
                              storage_error(exc))
            try:
                self.history.maintain(utcnow(), self.settings.retention_days)
            except Exception as exc:
                log.error("history upkeep failed (%s); it will be tried again in %.0f s "
                          "(if the disk is full, free space there)",
                          storage_error(exc), self.settings.maintenance_interval)

    def intake_blind(self, start, end) -> None:
        """The HTTP server could not take calls from `start` to `end` (its own overload): heartbeat
        deadlines move back by that time."""
        self.blind.add(start, end)

    def _mark_down_time(self) -> None:
        """The time between the previous run's last sign of life and this start was blind: a job
        that called then found nobody answering. Without a sign (first start), the last two days are."""
        try:
            last_alive = datetime.fromtimestamp(self.settings.alive_path.stat().st_mtime, timezone.utc)
        except OSError:
            last_alive = self.started_at - BLIND_UNKNOWN
        self.blind.add(min(last_alive, self.started_at), utcnow())
        self._touch_alive()

    def _touch_alive(self) -> None:
        try:
            self.settings.alive_path.touch()
        except OSError as exc:  # a full or read-only disk: the runner and writer say what to do
            log.debug("could not mark the appliance alive (%s)", exc)

    def ensure_admin(self) -> AdminCreated | None:
        """On an empty store create the first admin (from the environment, else generated)."""
        if self.entities.count_users():
            return None
        email = (self.settings.admin_email or DEFAULT_ADMIN_EMAIL).strip().lower()
        password = self.settings.admin_password
        generated = password is None
        if generated:
            password = generate_password()
        try:
            self.entities.create_user(email, password, full_name="Administrator", tier="pro", is_admin=True)
        except StoreConflict:  # another appliance on the same database made it a moment ago
            return None
        return AdminCreated(email, password if generated else None)

    def check_login(self, email: str, password: str) -> User | None:
        """The user whose email and password these are, or None (the same time spent either way).
        A hash made with a weaker cost than today's is replaced now that the password is known."""
        user = self.entities.user_by_email(email)
        if not self.passwords.verify(password, user.password_hash if user else None):
            return None
        if self.passwords.needs_rehash(user.password_hash):
            self.entities.replace_password_hash(user.id, user.password_hash, self.passwords.hash(password))
            log.info("the password hash of user %d was upgraded to the current scrypt cost", user.id)
        return user

    def check_room(self, user: User, adding: dict[str, int]) -> None:
        """Raise plans.LimitReached when adding these (kind -> how many) would take the user past
        a limit of their plan: an import checks its whole document before it writes anything.
        (Each insert checks again, race-free: see EntityStore.add_owned.)"""
        have = {"monitors": lambda: len(self.entities.list_monitors(user.id)),
                "webhooks": lambda: len(self.outbox.webhooks(user.id)),
                "api_keys": lambda: len(self.api_keys.list(user.id)),
                "maintenance_windows": lambda: len(self.maintenance.list(user.id))}
        for kind, count in adding.items():
            if count:
                self.plan_limits.check(user, kind, have[kind](), count)

    # ---- monitors ----------------------------------------------------------------------------
    def create_monitor(self, user: User, fields: dict) -> Monitor:
        monitor = self.entities.create_monitor(user.id, _creation_fields(fields))
        self.page_versions.bump(user.id)
        self._started(monitor)
        return monitor

    def update_monitor(self, user: User, monitor_id: int, changes: dict) -> Monitor | None:
        before = self.entities.get_monitor(monitor_id, user.id)
        if before is None:
            return None
        monitor = self.entities.update_monitor(monitor_id, user.id, changes)
        if monitor is None:
            return None
        self.page_versions.bump(user.id)
        return self._changed(before, monitor)

    def apply_import(self, user: User, plan: ImportPlan) -> None:
        """Write an import in one transaction (storage.imports; Conflict when the user's
        configuration changed since the plan); only once it is committed, schedule the monitors it
        created and changed, so a failed import leaves neither rows nor checks behind."""
        before = {m.id: m for m in self.entities.list_monitors(user.id)}
        plan = replace(plan, new_monitors=[_creation_fields(f) for f in plan.new_monitors])
        created, changed = write_import(self.entities, plan)
        self.page_versions.bump(user.id)
        for monitor in created:
            self._started(monitor)
        for monitor in changed:
            self._changed(before[monitor.id], monitor)
        if plan.changes_windows:
            self.reload_maintenance()

    def _started(self, monitor: Monitor) -> None:
        self.live.reset(monitor.id)
        self._schedule(monitor, run_now=True)

    def _changed(self, before: Monitor, monitor: Monitor) -> Monitor:
        """After a committed change of a monitor: the schedule, live state and incidents follow."""
        if not monitor.is_active:
            self._unschedule(monitor.id)
            if before.is_active:
                self.entities.close_open_incidents([monitor.id], utcnow())
                self.live.reset(monitor.id)
                self.uptime.came_back(monitor.id, utcnow())
        else:
            if not before.is_active:
                self.live.reset(monitor.id)
                self.uptime.restart_watch(monitor.id)
                if TYPES[monitor.type].pushed:  # the wait for the job starts again now
                    self.entities.set_monitor_fields(monitor.id, heartbeat_since=utcnow())
                    monitor = self.entities.get_monitor(monitor.id) or monitor
            self._schedule(monitor, run_now=True)
        return monitor

    def delete_monitor(self, user: User, monitor_id: int) -> bool:
        if not self.entities.delete_monitor(monitor_id, user.id):
            return False
        self.page_versions.bump(user.id)
        self._forget([monitor_id])
        return True

    def reload_maintenance(self) -> None:
        windows = []
        for row in self.maintenance.all():
            try:
                windows.append(Window.from_record(row))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("maintenance window %d cannot be read (%s); it is ignored", row.id, exc)
        self.calendar.load(windows)

    def in_maintenance(self, monitor_id: int) -> bool:
        return self.calendar.covers(monitor_id, utcnow())

    def delete_user(self, user_id: int) -> None:
        self._forget(self.entities.delete_user(user_id))
        self.page_versions.bump(user_id)
        self.api_keys.forget_user(user_id)

    def heartbeat(self, token: str, failed: bool = False) -> Monitor | None:
        """A job called its heartbeat URL: record the result now and move the deadline."""
        monitor = self.entities.monitor_by_heartbeat_token(token)
        if monitor is None or not TYPES[monitor.type].pushed:
            return None
        if not monitor.is_active or self.scheduler is None:
            return monitor  # paused: acknowledged, not recorded
        now = utcnow()
        if self.cluster is not None and not self.cluster.holds(monitor.id):
            # Its owner replays the ping within a heartbeat, before deciding on a missed deadline.
            self.cluster.store.add_ping(monitor.id, now, failed)
            return monitor
        self._heartbeat_at(monitor, now, failed)
        return monitor

    def _heartbeat_at(self, monitor: Monitor, now: datetime, failed: bool) -> None:
        self.entities.set_monitor_fields(monitor.id, heartbeat_since=now)
        monitor.heartbeat_since = now  # _schedule below arms the deadline from it
        spec = self.scheduler.current(monitor.id) or MonitorSpec.from_model(monitor)
        result = (CheckResult.failure("the job reported a failure (/fail)") if failed
                  else CheckResult(True, None))
        self.runner.record(spec, self.settings.location, result, now)
        self._schedule(monitor)

    def live_state(self, monitor: Monitor, known: set[str] | None = None) -> LiveState:
        """The monitor's live state, with only the locations that check it now (not a revoked
        probe, nor one taken out of its check_locations; the verdict ignores those already).
        `known`: the location names, when the caller lists many monitors."""
        state = self.live.get(monitor.id)
        if not state.locations:
            return state
        known, wanted = known or self.locations.known(), monitor.check_locations or ["all"]
        shown = {n: s for n, s in state.locations.items() if n in known and ("all" in wanted or n in wanted)}
        return state if len(shown) == len(state.locations) else replace(state, locations=shown)

    def uptime_percent(self, monitor_id: int) -> float | None:
        """Uptime over the last 24 h (None before the first result), from memory."""
        return self.uptime.percent(monitor_id, utcnow())

    def engine_status(self) -> dict:
        scheduler = self.scheduler
        lag = scheduler.lag if scheduler else None

        def ms(p):
            value = lag.percentile(p) if lag else None
            return None if value is None else round(value * 1000, 3)

        return {
            "monitors_scheduled": len(scheduler) if scheduler else 0,
            "checks_completed": scheduler.completed if scheduler else 0,
            "slots_skipped": scheduler.skipped if scheduler else 0,
            "backlog": scheduler.backlog() if scheduler else 0,
            "workers": self.settings.check_workers,
            "lag_p50_ms": ms(50), "lag_p99_ms": ms(99), "lag_max_ms": ms(100),
            "history_rows_written": self.history.rows_written,
            "history_write_error": self.history.last_write_error,
            "started_at": iso(self.started_at),
        }

    def location_names(self) -> dict[str, str]:
        """Location name -> display name (e.g. "US-East (Virginia)")."""
        return self.locations.names()

    def status_page_url(self, user: User) -> str | None:
        if not user.status_page_slug:
            return None
        return f"{self.settings.link_base}/status/{user.status_page_slug}"

    def _make_event(self, fanout: Fanout) -> Event:
        change, monitor = fanout.change, fanout.monitor
        details = change.details or {}
        names = self.location_names()
        extra = {k: v for k, v in details.items() if k not in INCIDENT_FACTS}
        status_page_url = self.status_page_url(fanout.user) if monitor.public_status else None
        return Event(
            name=change.event, monitor_id=monitor.id, monitor_name=monitor.name, monitor_type=monitor.type,
            target=monitor.target, status=change.new_status, at=as_utc(change.created_at),
            locations=tuple(names.get(n, n) for n in details.get("locations", ())),
            cause=details.get("cause", ""), extra=extra, status_page_url=status_page_url,
            incident_id=details.get("incident_id"), duration_seconds=details.get("duration_seconds"),
            link=self.monitor_link(monitor, status_page_url))

    def monitor_link(self, monitor: Monitor, status_page_url: str | None) -> str | None:
        """Where a notification points: the monitor's status page when it is public there, else the
        monitor in this appliance's API; only when STATUSCORE_PUBLIC_URL says how users reach us
        (a guessed bind address would be a link nobody can open)."""
        if not self.settings.public_url:
            return None
        if status_page_url:
            return status_page_url
        return f"{self.settings.public_url.rstrip('/')}/api/monitors/{monitor.id}"

    def known_locations(self) -> set[str]:
        return self.locations.known()

    def watch_locations(self) -> None:
        """When a probe goes offline (or comes back), decide again the monitors it reports on."""
        online = self.locations.online_set()
        if online == self._online:
            return
        changed = online.symmetric_difference(self._online)
        self._online = online
        now = utcnow()
        for monitor in self.entities.list_monitors():
            if self.cluster is not None and not self.cluster.holds(monitor.id):
                continue
            if monitor.is_active and changed & set(self.live.get(monitor.id).locations):
                self.runner.reevaluate(MonitorSpec.from_model(monitor), now)

    # ---- cluster mode (appliance/cluster.py) ---------------------------------------------------
    def _make_cluster(self) -> Cluster:
        # An engine of its own: a heartbeat's commits must not drop the entity store's monitor cache
        # (its commit listener reloads every monitor on the next read).
        store = ClusterStore(make_engine(self.settings.database_url), self.settings.cluster_lease_seconds)
        name = f"{socket.gethostname()}:{self.settings.port}"
        cluster = Cluster(store, self.instance_id, name, self.settings.cluster_lease_seconds,
                          self.settings.cluster_heartbeat_seconds, monitors=self._cluster_monitors,
                          on_change=self._remote_changed, on_release=self._released, on_take=self._taken_over)
        self.entities.fence = store.fence(self.instance_id)
        if self.settings.secret is None:  # STATUSCORE_SECRET set on every node wins; else the first node's
            self.secret = store.shared_secret(self.secret)
        return cluster

    def _cluster_monitors(self) -> list[int]:
        return self._cluster_ids()[0]

    def _cluster_ids(self) -> tuple[list[int], set[int], list[int], list[int]]:
        """(active monitors the cluster checks, every monitor, pushed ones, polled ones): a pass over 10,000
        monitors every heartbeat was a tenth of a node's CPU, so kept until a configuration changes."""
        key = self.entities.config_generation  # read first: a change while we build makes it stale
        cached = self._cluster_id_cache
        if cached is None or cached[0] != key:
            monitors = self.entities.list_monitors()
            cached = self._cluster_id_cache = (key, (
                [m.id for m in monitors if m.is_active and m.type in self.checkers],
                {m.id for m in monitors}, [m.id for m in monitors if TYPES[m.type].pushed],
                [m.id for m in monitors if TYPES[m.type].polled]))
        return cached[1]

    def _remote_changed(self) -> None:
        """Another node wrote monitors, users or windows: read them again, and reschedule the
        monitors this node checks whose configuration changed."""
        self.entities.invalidate()
        self.reload_maintenance()
        self.page_versions.bump_all()
        for monitor in self.entities.list_monitors():
            if self.cluster.holds(monitor.id) and self._scheduled_as.get(monitor.id) != _version(monitor):
                self._schedule(monitor, run_now=True)

    def _released(self, monitor_ids: set[int]) -> None:
        for monitor_id in monitor_ids:
            self._unschedule(monitor_id)
            self._scheduled_as.pop(monitor_id, None)
            self._remote_latest.pop(monitor_id, None)
            self._remote_shown.pop(monitor_id, None)
        log.info("cluster: %d monitor(s) handed over; checking %d", len(monitor_ids), len(self.cluster.held))

    def _taken_over(self, monitor_ids: set[int]) -> None:
        """Monitors this node checks from now on: from the stored verdict (no false down, no
        second alert), with the pings other nodes took for them."""
        self.entities.invalidate()
        self._refresh_remote(monitor_ids, everything=True)
        self._replay_pings(sorted(monitor_ids))
        try:  # the baselines the previous owner saved (up to one upkeep round old)
            self._restore_detector_state(monitor_ids)
        except Exception as exc:
            log.warning("could not read the anomaly baselines of the monitors taken over (%s); learning again",
                        storage_error(exc))
        self.replay_probe_results(monitor_ids)  # what probes sent to other nodes meanwhile
        # One never checked is checked at once (a monitor just created on another node); many at
        # once (a cluster's first start, an import) are spread over their interval as a start
        # spreads them: run together they would stay together, a burst every interval.
        never = {m for m in monitor_ids if self.live.get(m).last_check is None}
        at_once = len(never) <= self.settings.check_workers
        for monitor_id in sorted(monitor_ids):
            monitor = self.entities.get_monitor(monitor_id)
            if monitor is not None:
                self._schedule(monitor, run_now=at_once and monitor_id in never)
        log.info("cluster: took over %d monitor(s); checking %d", len(monitor_ids), len(self.cluster.held))

    def _cluster_beat(self) -> None:
        # Probes registered, revoked or heard from at other nodes (their online state decides).
        self.locations.reload()
        self.entities.reread_engine_columns()  # other nodes' status changes (they move no counter)
        held = self.cluster.held
        _checked, every, pushed, polled = self._cluster_ids()
        self._refresh_remote(every - held)
        self._replay_pings([m for m in pushed if m in held])
        self.replay_probe_results({m for m in polled if m in held})

    def replay_probe_results(self, monitor_ids: set[int]) -> int:
        """Cluster mode: the probe results queued for these monitors (at any node), decided on
        here, in check-time order, for the ones this node holds; the others wait for their owner."""
        if self.probe_relay is None:
            return 0
        with self._relay_lock:
            try:
                relayed = self.probe_relay.take(sorted(m for m in monitor_ids if self.cluster.holds(m)))
            except SQLAlchemyError as exc:  # they stay queued: the next round (2 s) takes them
                log.warning("could not take the probe results queued for this node (%s); trying again shortly",
                            storage_error(exc))
                return 0
            for item in relayed:
                monitor = self.entities.get_monitor(item.monitor_id)
                if monitor is None or not monitor.is_active:
                    continue
                # Stored in the history by the node that took it: decided on here, not stored again.
                self.runner.record(MonitorSpec.from_model(monitor), item.location, relayed_result(item),
                                   item.checked_at, stored=True)
        return len(relayed)

    def _replay_pings(self, monitor_ids: list[int]) -> bool:
        """Pings other nodes took for these monitors, recorded here as if they had come here."""
        replayed = False
        for monitor_id, at, failed in self.cluster.store.take_pings(monitor_ids):
            monitor = self.entities.get_monitor(monitor_id)
            if monitor is None or not monitor.is_active or not monitor.heartbeat_token:
                continue
            fresh = self.entities.monitor_by_heartbeat_token(monitor.heartbeat_token)  # ours to change
            if fresh is None:
                continue
            since = as_utc(fresh.heartbeat_since) if fresh.heartbeat_since else None
            self._heartbeat_at(fresh, at if since is None or since < at else since, failed)
            replayed = True
        return replayed

    def _refresh_remote(self, monitor_ids: set[int], everything: bool = False) -> None:
        """The live state of monitors another node checks: the confirmed status on the monitor
        row and the newest result in the history."""
        now = utcnow()
        with self._remote_lock:
            since = now - timedelta(days=2) if self._remote_since is None else self._remote_since
            for (monitor_id, _location), row in self.history.latest(since).items():
                known = self._remote_latest.get(monitor_id)
                if known is None or row[0] > known[0]:
                    self._remote_latest[monitor_id] = row
            # Rows come in batches (flush interval) and from other clocks: look a little back.
            self._remote_since = now - timedelta(seconds=30 + 2 * self.settings.cluster_heartbeat_seconds)
        names = self.locations.known()
        for monitor_id in monitor_ids:
            monitor = self.entities.get_monitor(monitor_id)
            if monitor is None or not monitor.is_active:
                continue
            seen = (monitor.status, self._remote_latest.get(monitor_id), monitor.updated_at, len(names))
            if not everything and self._remote_shown.get(monitor_id) == seen:
                continue  # nothing new since the last heartbeat (most monitors, most beats)
            self._remote_shown[monitor_id] = seen
            spec = MonitorSpec.from_model(monitor)
            old = self.live.get(monitor_id)
            locations = {n: LocationState(status=monitor.status) for n in names
                         if spec.runs_at(n) and (TYPES[monitor.type].polled or n == self.settings.location)}
            state = replace(old, status=monitor.status, locations=locations)
            newest = self._remote_latest.get(monitor_id)
            if newest is not None:
                checked_at, up, response_time, error = newest
                state = replace(state, last_check=checked_at, response_time=response_time, last_error=error)
                if up:
                    self.uptime.seen(monitor_id, checked_at)
            if old.status != monitor.status:
                if monitor.status == "down":
                    self.uptime.went_down(monitor_id, as_utc(monitor.status_since or now))
                elif old.status == "down":
                    self.uptime.came_back(monitor_id, as_utc(monitor.status_since or now))
            self.live.set(monitor_id, state)

    def record_remote_result(self, spec: MonitorSpec, location: str, result: CheckResult, at: datetime) -> None:
        """A probe's result (cluster mode: through the relay, see replay_probe_results)."""
        self.runner.record(spec, location, result, at)

    def cluster_status(self) -> dict | None:
        """For /metrics: the nodes, their leases and heartbeat ages (None outside cluster mode)."""
        if self.cluster is None:
            return None
        return {"node_id": self.cluster.node_id, "held": len(self.cluster.held),
                "connected": self.cluster.connected(), "nodes": self.cluster.store.nodes(),
                "probe_results_waiting": self.probe_relay.waiting()}

    # ---- internals ---------------------------------------------------------------------------
    def _schedule(self, monitor: Monitor, run_now: bool = False) -> None:
        if self.scheduler is None or not monitor.is_active or monitor.type not in self.checkers:
            return
        if self.cluster is not None:
            if not self.cluster.holds(monitor.id):  # another node checks it
                self.scheduler.remove(monitor.id)
                return
            self._scheduled_as[monitor.id] = _version(monitor)
        spec = MonitorSpec.from_model(monitor)
        if TYPES[monitor.type].pushed:
            # Pushed, not polled: the only check is at the deadline, wherever the job runs.
            since = monitor.heartbeat_since or monitor.created_at
            self.heartbeats.arm(monitor.id, as_utc(since))
            wait = (self.heartbeats.deadline(spec) - utcnow()).total_seconds()
            self.scheduler.add(spec, at=self.scheduler.clock() + max(0.0, wait))
            return
        if not spec.runs_at(self.settings.location):
            self.scheduler.remove(monitor.id)
            return
        self.scheduler.add(spec, run_now=run_now)

    def _unschedule(self, monitor_id: int) -> None:
        if self.scheduler is not None:
            self.scheduler.remove(monitor_id)

    def _forget(self, monitor_ids: list[int]) -> None:
        for monitor_id in monitor_ids:
            self.maintenance.drop_monitor(monitor_id)
            self._unschedule(monitor_id)
            self.heartbeats.forget(monitor_id)
            self.live.discard(monitor_id)
            self.uptime.forget(monitor_id)
            for key in [k for k in self.detector.keys() if k[0] == monitor_id]:
                self.detector.forget(key)
        try:
            self.history.delete_monitors(monitor_ids)
        except (HistoryWriteError, TimeoutError) as exc:
            # The monitors are gone (ids are never reused, so their rows are never shown again);
            # the rows stay on disk until they age out with the retention.
            log.error("could not delete the history of monitor(s) %s now (%s); it ages out after %d days",
                      ", ".join(map(str, monitor_ids)), storage_error(exc), self.settings.retention_days)
        if monitor_ids:
            self.reload_maintenance()

    def _is_current(self, spec: MonitorSpec) -> bool:
        return (self.scheduler is not None and self.scheduler.is_scheduled(spec)
                and (self.cluster is None or self.cluster.holds(spec.id)))

    def _check(self, spec: MonitorSpec) -> None:
        """One scheduled check (cluster mode: only while this node holds the monitor)."""
        if self.cluster is not None:
            if not self.cluster.holds(spec.id):
                return
            if TYPES[spec.type].pushed and self._replay_pings([spec.id]):
                return  # a ping taken by another node moved the deadline
        self.runner.run(spec)


    def _restore_live_state(self) -> None:
        """After a restart: the confirmed status from the entity store (so a monitor that was
        down stays down without a second alert) and the newest result from the history."""
        latest = self.history.latest(utcnow() - timedelta(days=2))  # covers probe_max_age (at most 2 days)
        self.probe_intake.load_watermarks(latest)
        names = self.locations.known()
        for monitor in self.entities.list_monitors():
            if not monitor.is_active:
                continue
            spec = MonitorSpec.from_model(monitor)
            # Every location that checks it starts from the stored verdict, until it reports.
            locations = {n: LocationState(status=monitor.status) for n in names
                         if spec.runs_at(n) and (TYPES[monitor.type].polled or n == self.settings.location)}
            newest = max((latest[(monitor.id, n)] for n in locations if (monitor.id, n) in latest),
                         key=lambda row: row[0], default=None)
            state = LiveState(status=monitor.status, locations=locations)
            if newest is not None:
                checked_at, _up, response_time, error = newest
                state = LiveState(status=monitor.status, locations=locations, last_check=checked_at,
                                  response_time=response_time, last_error=error)
            self.live.set(monitor.id, state)


def _version(monitor: Monitor) -> tuple:
    """What tells a node that another one changed a monitor's configuration."""
    return (monitor.updated_at, monitor.is_active)


def _creation_fields(fields: dict) -> dict:
    """A new heartbeat monitor waits for its job from now on."""
    return {**fields, "heartbeat_since": utcnow()} if TYPES[fields["type"]].pushed else fields


def _make_private_dir(path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except PermissionError:
        pass
