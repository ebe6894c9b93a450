"""Metrics: the figures Prometheus scrapes, as samples (the HTTP skin writes the text format).
An admin sees every monitor and the engine's own figures; an API key of another user sees that
user's monitors. The 30-day uptime needs a history query per monitor, so it is kept a minute."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from appliance.models import User
from appliance.reports import window_uptime
from appliance.timeutil import as_utc, utcnow

SLOW_FIGURES_SECONDS = 60.0


@dataclass
class Family:
    name: str
    kind: str  # gauge, counter
    help: str
    samples: list[tuple[dict, float]] = field(default_factory=list)


class Metrics:
    def __init__(self, appliance):
        self._app = appliance
        self._lock = threading.Lock()
        self._month: dict[int, tuple[float, float]] = {}  # monitor id -> (when, 30-day uptime)

    def families(self, user: User) -> list[Family]:
        app = self._app
        everyone = user.is_admin
        monitors = [m for m in app.entities.list_monitors(None if everyone else user.id) if m.is_active]
        now = utcnow()
        up = Family("statuscore_monitor_up", "gauge", "1 if the monitor is up, 0 if down (location=all: the verdict).")
        response = Family("statuscore_monitor_response_time_ms", "gauge", "The latest check's response time in ms.")
        uptime = Family("statuscore_monitor_uptime_ratio", "gauge", "Share of the window the monitor was not down.")
        cert = Family("statuscore_monitor_cert_days_left", "gauge", "Days until the TLS certificate expires.")
        domain = Family("statuscore_monitor_domain_days_left", "gauge", "Days until the domain registration expires.")
        maintenance = Family("statuscore_monitor_in_maintenance", "gauge", "1 inside a maintenance window.")
        checks = Family("statuscore_checks_total", "counter", "Check results recorded since the appliance started.")
        for monitor in monitors:
            base = {"monitor_id": monitor.id, "name": monitor.name, "type": monitor.type}
            live = app.live_state(monitor)
            if live.status in ("up", "down"):
                up.samples.append(({**base, "location": "all"}, 1 if live.status == "up" else 0))
            for location, state in live.locations.items():
                if state.status in ("up", "down"):
                    up.samples.append(({**base, "location": location}, 1 if state.status == "up" else 0))
            if live.response_time is not None:
                response.samples.append((base, round(live.response_time, 3)))
            day = app.uptime_percent(monitor.id)
            if day is not None:
                uptime.samples.append(({**base, "window": "24h"}, round(day / 100, 6)))
            month = self._uptime_30d(monitor, now)
            if month is not None:
                uptime.samples.append(({**base, "window": "30d"}, round(month / 100, 6)))
            for kind, family in (("ssl", cert), ("domain", domain)):
                info = live.details.get(kind)
                if isinstance(info, dict) and info.get("days_left") is not None:
                    family.samples.append((base, info["days_left"]))
            checks.samples.append((base, app.runner.checks.get(monitor.id, 0)))
            maintenance.samples.append((base, 1 if app.in_maintenance(monitor.id) else 0))
        out = [up, response, uptime, cert, domain, maintenance, checks]
        if everyone:
            status = app.engine_status()
            lag = [({"quantile": q}, (status[f"lag_p{p}_ms"] or 0) / 1000) for q, p in (("0.5", 50), ("0.99", 99))]
            out += [
                Family("statuscore_engine_lag_seconds", "gauge", "Check start minus planned start.", lag),
                Family("statuscore_engine_backlog", "gauge", "Checks waiting for a worker.", [({}, status["backlog"])]),
                Family("statuscore_monitors_scheduled", "gauge", "Monitors the engine runs.",
                       [({}, status["monitors_scheduled"])]),
                Family("statuscore_history_rows_written_total", "counter", "Check results written to the history.",
                       [({}, status["history_rows_written"])]),
                Family("statuscore_webhook_deliveries_pending", "gauge", "Webhook deliveries not yet sent.",
                       [({}, app.outbox.pending_count())]),
            ]
            out += self._cluster()
        return out

    def _cluster(self) -> list[Family]:
        """Cluster mode: the nodes, the monitors each holds, how old each one's heartbeat is."""
        status = self._app.cluster_status()
        if status is None:
            return []
        nodes = status["nodes"]
        return [
            Family("statuscore_cluster_nodes", "gauge", "Live nodes of the cluster.",
                   [({}, sum(1 for n in nodes if n.live))]),
            Family("statuscore_cluster_leases", "gauge", "Monitors each node holds a live lease on.",
                   [({"node": n.node_id, "name": n.name}, n.leases) for n in nodes]),
            Family("statuscore_cluster_heartbeat_age_seconds", "gauge",
                   "Seconds since each node's last heartbeat (the database's clock).",
                   [({"node": n.node_id, "name": n.name}, round(n.heartbeat_age, 3)) for n in nodes]),
            Family("statuscore_cluster_connected", "gauge", "1 while this node holds its lease and may check.",
                   [({"node": status["node_id"]}, 1 if status["connected"] else 0)]),
            Family("statuscore_cluster_probe_results_waiting", "gauge",
                   "Probe results taken by a node and not yet decided on by the monitor's owner.",
                   [({}, status["probe_results_waiting"])]),
        ]

    def _uptime_30d(self, monitor, now) -> float | None:
        stamp = time.monotonic()
        with self._lock:
            cached = self._month.get(monitor.id)
        if cached is not None and stamp - cached[0] < SLOW_FIGURES_SECONDS:
            return cached[1]
        app = self._app
        value = window_uptime(app.history, app.entities, monitor.id, now - timedelta(days=30), now,
                              created_at=as_utc(monitor.created_at))
        if value is not None:  # no result stored yet: ask again next time
            with self._lock:
                self._month[monitor.id] = (stamp, value)
        return value
