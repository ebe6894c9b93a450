"""GET /metrics: Prometheus text format, for an admin login or an API key.

An admin sees every monitor; an API key of another user sees that user's monitors. The 30-day
uptime needs a history query per monitor, so those figures are cached for a minute.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from flask import Blueprint, Response, current_app, g

from appliance.reports import window_uptime
from appliance.timeutil import as_utc, utcnow
from server.auth import appliance, authenticate, current_user
from server.errors import ApiError

bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SLOW_FIGURES_SECONDS = 60.0



def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


class Exposition:
    def __init__(self):
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(**labels) if labels else ''} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def _uptime_30d(app, monitor, now) -> float | None:
    lock, cache = current_app.extensions.setdefault("statuscore.metrics_cache", (threading.Lock(), {}))
    stamp = time.monotonic()
    with lock:
        cached = cache.get(monitor.id)
    if cached is not None and stamp - cached[0] < SLOW_FIGURES_SECONDS:
        return cached[1]
    value = window_uptime(app.history, app.entities, monitor.id, now - timedelta(days=30), now,
                          created_at=as_utc(monitor.created_at))
    if value is not None:  # no result stored yet: ask again next time
        with lock:
            cache[monitor.id] = (stamp, value)
    return value


@bp.get("/metrics")
def metrics():
    authenticate()
    if g.get("api_key") is None and not current_user.is_admin:
        raise ApiError(403, "Metrics need an admin login or an API key.")
    app = appliance()
    scope_all = current_user.is_admin
    monitors = [m for m in app.entities.list_monitors(None if scope_all else current_user.id) if m.is_active]
    now = utcnow()
    up, response, uptime, cert, domain, checks, maintenance = [], [], [], [], [], [], []
    for monitor in monitors:
        base = {"monitor_id": monitor.id, "name": monitor.name, "type": monitor.type}
        live = app.live_state(monitor)
        if live.status in ("up", "down"):
            up.append(({**base, "location": "all"}, 1 if live.status == "up" else 0))
        for location, state in live.locations.items():
            if state.status in ("up", "down"):
                up.append(({**base, "location": location}, 1 if state.status == "up" else 0))
        if live.response_time is not None:
            response.append((base, round(live.response_time, 3)))
        day = app.uptime_percent(monitor.id)
        if day is not None:
            uptime.append(({**base, "window": "24h"}, round(day / 100, 6)))
        month = _uptime_30d(app, monitor, now)
        if month is not None:
            uptime.append(({**base, "window": "30d"}, round(month / 100, 6)))
        for kind, target in (("ssl", cert), ("domain", domain)):
            info = live.details.get(kind)
            if isinstance(info, dict) and info.get("days_left") is not None:
                target.append((base, info["days_left"]))
        checks.append((base, app.runner.checks.get(monitor.id, 0)))
        maintenance.append((base, 1 if app.in_maintenance(monitor.id) else 0))
    out = Exposition()
    out.family("statuscore_monitor_up", "gauge", "1 if the monitor is up, 0 if down (location=all: the verdict).", up)
    out.family("statuscore_monitor_response_time_ms", "gauge", "The latest check's response time in ms.", response)
    out.family("statuscore_monitor_uptime_ratio", "gauge", "Share of the window the monitor was not down.", uptime)
    out.family("statuscore_monitor_cert_days_left", "gauge", "Days until the TLS certificate expires.", cert)
    out.family("statuscore_monitor_domain_days_left", "gauge", "Days until the domain registration expires.", domain)
    out.family("statuscore_monitor_in_maintenance", "gauge", "1 inside a maintenance window.", maintenance)
    out.family("statuscore_checks_total", "counter", "Check results recorded since the appliance started.", checks)
    if scope_all:
        status = app.engine_status()
        lag = [({"quantile": q}, (status[f"lag_p{p}_ms"] or 0) / 1000) for q, p in (("0.5", 50), ("0.99", 99))]
        out.family("statuscore_engine_lag_seconds", "gauge", "Check start minus planned start.", lag)
        out.family("statuscore_engine_backlog", "gauge", "Checks waiting for a worker.", [({}, status["backlog"])])
        out.family("statuscore_monitors_scheduled", "gauge", "Monitors the engine runs.",
                   [({}, status["monitors_scheduled"])])
        out.family("statuscore_history_rows_written_total", "counter", "Check results written to the history.",
                   [({}, status["history_rows_written"])])
        out.family("statuscore_webhook_deliveries_pending", "gauge", "Webhook deliveries not yet sent.",
                   [({}, app.outbox.pending_count())])
    return Response(out.text(), mimetype=None, content_type=CONTENT_TYPE)
