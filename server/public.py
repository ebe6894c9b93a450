"""The public status page, served without login:

- GET /api/public/status/<slug>             the JSON (API.md "Public status page")
- GET /status/<slug>                         the same as a web page (templates/status_page.html)
- GET /status/<slug>/badge/<monitor_id>.svg  a small status badge per public monitor

What a page shows, and what it never shows:
- Only monitors marked public (`public_status`), active or paused (paused ones show "paused" and
  count neither as up nor as down). Their id, name, type, status, 24 h `uptime_percentage`, a
  90-day uptime figure and one `history` entry per UTC day for the last 90 days (today last,
  partial; `uptime` null on days without checks). Uptime is availability by time, from the
  incidents, exactly as the stats API computes it (appliance/reports.py).
- Incidents of those monitors from the last 30 days (ongoing ones always): when and how long,
  never their `cause` or locations: a check's error text can name the target ("connection
  refused to 10.0.0.5:5432").
- Never a target, port, keyword, heartbeat token, owner, email or any other monitor setting.

Each page is assembled at most once per `status_page_cache_seconds` (default 5 s) per slug and
served from memory in between, so a traffic spike on a status page never reaches the stores;
a change of the page's own settings takes effect at once, a monitor change within that time.
Requests are limited like every anonymous call (per client IP, server/limits.py).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone
from typing import Callable, Hashable

from flask import Blueprint, Response, current_app, make_response, render_template

from appliance import __version__
from appliance.reports import daily_uptimes, window_uptime
from appliance.timeutil import as_utc, iso, utcnow
from server.auth import appliance
from server.errors import ApiError
from server.schemas import SLUG_PATTERN
from server.serialize import percent

bp = Blueprint("public", __name__)

HISTORY_DAYS = 90
INCIDENT_DAYS = 30
MAX_INCIDENTS = 50
REFRESH_SECONDS = 30  # how often the web page reloads its data (static/status.js; ?refresh=N overrides)
BADGE_MAX_AGE = 30
_SLUG = re.compile(SLUG_PATTERN)

# The web page: its own assets only, nothing inline, no framing, no referrer.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


# ---- a small TTL cache ----------------------------------------------------------------------------

class TTLCache:
    """key -> value for `ttl` seconds. One caller computes a missing or expired value while
    others asking for the same key wait for it (no stampede on the stores). Bounded: the
    oldest entries go first."""

    def __init__(self, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], object],
                       fresh: Callable[[object], bool] = lambda value: True):
        """The cached value while it is younger than the TTL and `fresh(value)` holds."""
        hit, value = self._lookup(key, fresh)
        if hit:
            return value
        with self._lock:
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            hit, value = self._lookup(key, fresh)  # computed by another thread while we waited
            if hit:
                return value
            value = compute()
            with self._lock:
                if self.ttl > 0:
                    self._entries[key] = (self.clock() + self.ttl, value)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
                self._computing.pop(key, None)
            return value

    def _lookup(self, key: Hashable, fresh: Callable[[object], bool]) -> tuple[bool, object]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            if entry[0] <= self.clock() or not fresh(entry[1]):
                del self._entries[key]
                return False, None
            return True, entry[1]

    def invalidate(self, match: Callable[[Hashable], bool]) -> None:
        with self._lock:
            for key in [k for k in self._entries if match(k)]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


_cache_lock = threading.Lock()


def status_cache() -> TTLCache:
    """The app's cache of assembled pages (made on first use, with the appliance's TTL)."""
    cache = current_app.extensions.get("statuscore.status_cache")
    if cache is None:
        with _cache_lock:
            cache = current_app.extensions.setdefault(
                "statuscore.status_cache", TTLCache(appliance().settings.status_page_cache_seconds))
    return cache


def invalidate_status_pages(*slugs: str | None) -> None:
    """Forget what is cached for these slugs (the page's settings changed)."""
    wanted = {s for s in slugs if s}
    if wanted:
        status_cache().invalidate(lambda key: key[1] in wanted)


# ---- assembling a page ------------------------------------------------------------------------------

def overall_status(statuses: list[str]) -> str:
    """operational | partial_outage | major_outage | no_monitors, over the monitors not paused."""
    watched = [s for s in statuses if s != "paused"]
    if not watched:
        return "no_monitors"
    down = sum(1 for s in watched if s == "down")
    if down == 0:
        return "operational"
    return "major_outage" if down == len(watched) else "partial_outage"


def day_range(today: date, days: int = HISTORY_DAYS) -> list[date]:
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


@dataclass(frozen=True)
class AssembledPage:
    """A status page as built for the cache: its owner and the owner's page version at the time
    (the entry is stale once the version moves on), and its public JSON (None: no such page)."""

    owner_id: int | None
    version: int
    data: dict | None
    body: str | None  # the JSON encoded once: a traffic spike costs one encoding per build
    build: int = field(default_factory=lambda: next(_builds))  # names this build (its HTML is cached by it)


_builds = itertools.count()


def assemble_page(slug: str) -> AssembledPage:
    app = appliance()
    user = app.entities.user_by_status_page_slug(slug)
    if user is None:
        return AssembledPage(None, 0, None, None)
    version = app.page_versions.get(user.id)  # read first: a write while building makes it stale
    data = build_status(user)
    return AssembledPage(user.id, version, data, json.dumps(data, separators=(",", ":")))


def build_status(user, now: datetime | None = None) -> dict:
    """The public JSON of a user's status page."""
    app = appliance()
    now = now or utcnow()
    monitors = [m for m in app.entities.list_monitors(user.id) if m.public_status]
    days = day_range(now.date())
    since = datetime.combine(days[0], dtime.min, tzinfo=timezone.utc)
    # The same availability figures as the stats API: by time, from the incidents.
    daily = daily_uptimes(app.history, app.entities, [m.id for m in monitors], days, now)
    out_monitors = []
    for monitor in monitors:
        per_day = daily.get(monitor.id, {})
        out_monitors.append({
            "id": monitor.id,
            "name": monitor.name,
            "type": monitor.type,
            "status": "paused" if not monitor.is_active else app.live_state(monitor).status,
            "in_maintenance": monitor.is_active and app.in_maintenance(monitor.id),
            "uptime_percentage": percent(app.uptime_percent(monitor.id)),
            "uptime_90d": percent(window_uptime(app.history, app.entities, monitor.id, since, now)),
            "history": [{"date": day.isoformat(), "uptime": percent(per_day.get(day))} for day in days],
        })
    names = {m.id: m.name for m in monitors}
    incidents = app.entities.incidents(list(names), since=now - timedelta(days=INCIDENT_DAYS),
                                       limit=MAX_INCIDENTS)
    return {
        "company_name": user.company_name or "",
        "overall": overall_status([m["status"] for m in out_monitors]),
        "updated_at": iso(now),
        "monitors": out_monitors,
        "incidents": [public_incident_json(i, names[i.monitor_id], now) for i in incidents],
    }


def public_incident_json(incident, monitor_name: str, now: datetime) -> dict:
    """An incident without its cause or locations (an error text can name the target)."""
    end = as_utc(incident.resolved_at) if incident.resolved_at else now
    return {
        "id": incident.id,
        "monitor_id": incident.monitor_id,
        "monitor_name": monitor_name,
        "started_at": iso(incident.started_at),
        "resolved_at": iso(incident.resolved_at),
        "status": "resolved" if incident.resolved_at else "ongoing",
        "duration_seconds": max(0, round((end - as_utc(incident.started_at)).total_seconds())),
    }


def cached_page(slug: str) -> AssembledPage | None:
    if not _SLUG.fullmatch(slug):
        return None  # cannot exist: neither the cache nor the store is asked
    versions = appliance().page_versions
    page = status_cache().get_or_compute(
        ("page", slug), lambda: assemble_page(slug),
        fresh=lambda page: page.owner_id is None or versions.get(page.owner_id) == page.version)
    return page if page.data is not None else None


def cached_status(slug: str) -> dict | None:
    page = cached_page(slug)
    return page.data if page else None


# ---- the endpoints ----------------------------------------------------------------------------------

def _public_cache_headers(response: Response, seconds: float) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={max(0, math.floor(seconds))}"
    return response


@bp.get("/api/public/status/<slug>")
def status_json(slug: str):
    page = cached_page(slug)
    if page is None:
        raise ApiError(404, "status page not found")
    response = Response(page.body, content_type="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, no credentials
    return _public_cache_headers(response, status_cache().ttl)


@bp.get("/status/<slug>")
def status_page(slug: str):
    page = cached_page(slug)
    if page is None:
        return _page(render_template("status_not_found.html", version=__version__), 404)
    html = status_cache().get_or_compute(
        ("html", slug, page.build),  # rendered once per assembled page
        lambda: render_template("status_page.html", page=page_view(page.data, slug), refresh=REFRESH_SECONDS,
                                version=__version__))
    return _public_cache_headers(_page(html, 200), status_cache().ttl)


def _page(html: str, status: int) -> Response:
    response = make_response(html, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers.update(PAGE_HEADERS)
    return response


@bp.get("/status/<slug>/badge/<int:monitor_id>.svg")
def badge(slug: str, monitor_id: int):
    data = cached_status(slug)
    monitor = next((m for m in data["monitors"] if m["id"] == monitor_id), None) if data else None
    if monitor is None:
        raise ApiError(404, "no public monitor with this id on this status page")
    svg = render_template("badge.svg", badge=badge_view(monitor["name"], monitor["status"]))
    response = make_response(svg, 200)
    response.headers["Content-Type"] = "image/svg+xml; charset=utf-8"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # embeddable in READMEs, wikis
    return _public_cache_headers(response, BADGE_MAX_AGE)


# ---- presentation (the template gets plain values) --------------------------------------------------

STATE_TEXT = {"up": "Operational", "down": "Down", "paused": "Paused", "pending": "No data yet"}
OVERALL_TEXT = {
    "operational": "All systems operational",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "no_monitors": "No services are listed on this page yet",
}


def day_class(uptime: str | None) -> str:
    """The colour band of a day in the uptime bar (the legend says the same in words)."""
    if uptime is None:
        return "none"
    value = float(uptime)
    if value >= 99.9:
        return "ok"
    if value >= 99.0:
        return "minor"
    if value >= 95.0:
        return "partial"
    return "major"


def format_duration(seconds: int) -> str:
    """45 s, 15 min, 2 h 5 min, 3 d 4 h."""
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def human_time(text: str | None) -> str:
    return "" if not text else text.replace("T", " ").replace("Z", " UTC")


@dataclass(frozen=True)
class Day:
    date: str
    css: str
    label: str


def page_view(data: dict, slug: str) -> dict:
    monitors = []
    for m in data["monitors"]:
        days = [Day(h["date"], day_class(h["uptime"]),
                    f"{h['date']}: {h['uptime']} % uptime" if h["uptime"] is not None else f"{h['date']}: no data")
                for h in m["history"]]
        outage_days = sum(1 for d in days if d.css in ("partial", "major"))
        monitors.append({
            "id": m["id"], "name": m["name"], "status": m["status"],
            "state_text": "Under maintenance" if m.get("in_maintenance") else STATE_TEXT.get(m["status"], m["status"]),
            "uptime_90d": m["uptime_90d"], "uptime_24h": m["uptime_percentage"],
            "days": days, "outage_days": outage_days,
        })
    incidents = [{
        "monitor_name": i["monitor_name"], "status": i["status"],
        "started_at": i["started_at"], "started_text": human_time(i["started_at"]),
        "resolved_at": i["resolved_at"], "resolved_text": human_time(i["resolved_at"]),
        "duration_text": format_duration(i["duration_seconds"]),
    } for i in data["incidents"]]
    return {
        "slug": slug,
        "company_name": data["company_name"],
        "overall": data["overall"],
        "overall_text": OVERALL_TEXT[data["overall"]],
        "updated_at": data["updated_at"],
        "updated_text": human_time(data["updated_at"]),
        "monitors": monitors,
        "incidents": incidents,
        "incident_days": INCIDENT_DAYS,
        "history_days": HISTORY_DAYS,
    }


BADGE_COLOURS = {"up": "#1a7f37", "down": "#cf222e", "paused": "#6e7781", "pending": "#6e7781"}
BADGE_TEXT = {"up": "up", "down": "down", "paused": "paused", "pending": "pending"}
_CHAR_WIDTH = 6.6  # px per character of 11 px Verdana/DejaVu Sans, a fair average
MAX_BADGE_LABEL = 40


def badge_view(name: str, status: str) -> dict:
    label = name if len(name) <= MAX_BADGE_LABEL else name[:MAX_BADGE_LABEL - 1] + "…"
    value = BADGE_TEXT.get(status, status)
    label_w = round(len(label) * _CHAR_WIDTH) + 12
    value_w = round(len(value) * _CHAR_WIDTH) + 12
    return {"label": label, "value": value, "colour": BADGE_COLOURS.get(status, "#6e7781"),
            "label_w": label_w, "value_w": value_w, "width": label_w + value_w,
            "label_text_w": label_w - 12, "value_text_w": value_w - 12}
