"""Status pages: a user's page settings, and each public page as visitors get it.

What a page shows, and what it never shows:
- Only monitors marked public (`public_status`), active or paused (paused ones show "paused" and
  count neither as up nor as down). Their id, name, type, status, 24 h `uptime_percentage`, a
  90-day uptime figure and one `history` entry per UTC day for the last 90 days (today last,
  partial; `uptime` null on days without checks). Uptime is availability by time, from the
  incidents, exactly as the stats API computes it (appliance/reports.py).
- Incidents of those monitors from the last 30 days (ongoing ones always): when and how long,
  never their `cause` or locations: a check's error text can name the target.
- Each public monitor's `group` (the section it is listed under) and, per group, a roll-up
  status: the worst of its members (paused ones left out, maintenance shown as maintenance).
- Each day's average response time (successful checks, ms) next to its uptime, for the graph.
- The owner's updates on those incidents (appliance/services/incident_updates.py), and notices of
  the owner's maintenance windows that have one (`notice`), while on or due in the next 30 days.
- Never a target, port, keyword, heartbeat token, owner, email or any other monitor setting.

Each page is assembled at most once per `status_page_cache_seconds` (default 5 s) and served
from memory in between, so a traffic spike never reaches the stores; while the next one is
assembled, visitors get the last one (its live states a few seconds older) instead of waiting. A cached page is used only
while its owner's page version is the one it was built at: every write that changes what it
shows moves the version (appliance/page_versions.py), so the change shows on the next request.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone

from appliance.availability import percent_text
from appliance.cache import TTLCache
from appliance.models import User
from appliance.maintenance import Window
from appliance.reports import daily_figures, window_uptime
from appliance.services.errors import Conflict, NotFound
from appliance.storage.entities import Conflict as StoreConflict
from appliance.timeutil import as_utc, iso, utcnow

HISTORY_DAYS = 90
INCIDENT_DAYS = 30
NOTICE_DAYS = 30  # maintenance notices are shown from this long before they start
MAX_INCIDENTS = 50
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$"  # 3-50 characters, no leading/trailing hyphen
_SLUG = re.compile(SLUG_PATTERN)
_builds = itertools.count()


@dataclass(frozen=True)
class AssembledPage:
    """A page as built for the cache: its owner and the owner's page version at the time (stale
    once the version moves on), its public JSON (None: no such page), and that JSON encoded once
    (a traffic spike costs one encoding, to UTF-8 bytes too, per build)."""

    owner_id: int | None
    version: int
    data: dict | None
    body: bytes | None
    build: int = field(default_factory=lambda: next(_builds))  # names this build (for derived caches)


class StatusPages:
    def __init__(self, appliance, cache_seconds: float):
        self._app = appliance
        self._cache = TTLCache(cache_seconds)

    @property
    def cache_seconds(self) -> float:
        return self._cache.ttl

    # ---- the owner's settings --------------------------------------------------------------------
    def configure(self, user: User, company_name: str, slug: str | None) -> User:
        """Set the page's title and address (slug None: no page). Conflict when the slug is taken."""
        old_slug = user.status_page_slug
        try:
            saved = self._app.entities.update_user(user.id, company_name=company_name, status_page_slug=slug)
        except StoreConflict as exc:
            raise Conflict(f"The status page address '{slug}' is taken; choose another slug.",
                           {"slug": "already taken"}) from exc
        if saved is None:  # deleted while we were at it
            raise NotFound("user")
        self._app.page_versions.bump(user.id)
        self.forget(old_slug, slug)  # and whatever was cached there as "no such page"
        return saved

    def forget(self, *slugs: str | None) -> None:
        wanted = {s for s in slugs if s}
        if wanted:
            self._cache.invalidate(lambda key: key[1] in wanted)

    # ---- the public page -------------------------------------------------------------------------
    def page(self, slug: str) -> AssembledPage | None:
        """The page at this slug as visitors get it now, None when there is none."""
        if not _SLUG.fullmatch(slug):
            return None  # cannot exist: neither the cache nor the store is asked
        versions = self._app.page_versions
        page = self._cache.get_or_compute(
            ("page", slug), lambda: self._assemble(slug),
            fresh=lambda page: page.owner_id is None or versions.get(page.owner_id) == page.version,
            stale_ok=True)  # live states a few seconds old rather than every visitor queueing behind a rebuild
        return page if page.data is not None else None

    def _assemble(self, slug: str) -> AssembledPage:
        user = self._app.entities.user_by_status_page_slug(slug)
        if user is None:
            return AssembledPage(None, 0, None, None)
        version = self._app.page_versions.get(user.id)  # read first: a write while building makes it stale
        data = self.build(user)
        return AssembledPage(user.id, version, data, json.dumps(data, separators=(",", ":")).encode())

    def build(self, user: User, now: datetime | None = None) -> dict:
        """The public JSON of a user's status page."""
        app = self._app
        now = now or utcnow()
        monitors = [m for m in app.entities.list_monitors(user.id) if m.public_status]
        days = day_range(now.date())
        since = datetime.combine(days[0], dtime.min, tzinfo=timezone.utc)
        # The same availability figures as the stats API: by time, from the incidents.
        daily = daily_figures(app.history, app.entities, [m.id for m in monitors], days, now)
        out_monitors = []
        for monitor in monitors:
            per_day = daily.get(monitor.id, {})
            out_monitors.append({
                "id": monitor.id,
                "name": monitor.name,
                "type": monitor.type,
                "status": "paused" if not monitor.is_active else app.live_state(monitor).status,
                "in_maintenance": monitor.is_active and app.in_maintenance(monitor.id),
                "uptime_percentage": percent_text(app.uptime_percent(monitor.id)),
                "uptime_90d": percent_text(window_uptime(app.history, app.entities, monitor.id, since, now)),
                "history": [day_json(day, per_day.get(day)) for day in days],
                "group": monitor.group,
                "monitoring_since": as_utc(monitor.created_at).date().isoformat(),
            })
        names = {m.id: m.name for m in monitors}
        incidents = app.entities.incidents(list(names), since=now - timedelta(days=INCIDENT_DAYS),
                                           limit=MAX_INCIDENTS)
        updates = app.incident_updates.for_incidents([i.id for i in incidents])
        return {
            "company_name": user.company_name or "",
            "overall": overall_status([m["status"] for m in out_monitors]),
            "updated_at": iso(now),
            "monitors": out_monitors,
            "incidents": [{**public_incident_json(i, names[i.monitor_id], now),
                           "updates": [update_json(u) for u in updates.get(i.id, [])]} for i in incidents],
            "groups": groups_json(out_monitors),
            "notices": self.notices(user, set(names), now),
            "feed_url": f"/status/{user.status_page_slug}/feed.atom" if user.status_page_slug else None,
        }

    def notices(self, user: User, public_ids: set[int], now: datetime) -> list[dict]:
        """The user's maintenance windows with a notice, on now or starting within NOTICE_DAYS:
        their next (or current) period, soonest first. Only public monitors are named."""
        out = []
        for row in self._app.maintenance.list(user.id):
            if not row.notice:
                continue
            try:
                periods = Window.from_record(row).occurrences(now, now + timedelta(days=NOTICE_DAYS))
            except (KeyError, ValueError):  # a window that cannot be read is ignored, as by the engine
                continue
            if not periods:
                continue
            start, end = min(periods)
            out.append({
                "id": row.id, "title": row.name, "message": row.notice,
                "starts_at": iso(start), "ends_at": iso(end),
                "status": "in_progress" if start <= now < end else "scheduled",
                "recurring": bool(row.recurring),
                "monitor_ids": [i for i in row.monitor_ids if i in public_ids],
                "created_at": iso(row.created_at),
            })
        return sorted(out, key=lambda n: (n["starts_at"], n["id"]))


def day_json(day: date, figures: tuple[float | None, float | None] | None) -> dict:
    uptime, avg = figures or (None, None)
    return {"date": day.isoformat(), "uptime": percent_text(uptime),
            "response_time": None if avg is None else round(avg)}


def update_json(update) -> dict:
    return {"status": update.status, "message": update.message, "created_at": iso(update.created_at)}


# Roll-up of a group (worst first): a member down outranks one in maintenance, which outranks up;
# paused members count for nothing, and a group whose members are all paused shows paused.
def monitor_state(monitor: dict) -> str:
    """up | down | pending | paused | maintenance: what the page shows for one public monitor."""
    if monitor["status"] == "paused":
        return "paused"
    return "maintenance" if monitor["in_maintenance"] else monitor["status"]


def group_status(states: list[str]) -> str:
    """operational | partial_outage | major_outage | under_maintenance | no_data | paused."""
    watched = [s for s in states if s != "paused"]
    if not watched:
        return "paused"
    down = sum(1 for s in watched if s == "down")
    if down:
        return "major_outage" if down == len(watched) else "partial_outage"
    if "maintenance" in watched:
        return "under_maintenance"
    if all(s == "pending" for s in watched):
        return "no_data"
    return "operational"


def groups_json(monitors: list[dict]) -> list[dict]:
    """The named groups in the order their first monitor is listed, each with its members' ids
    and roll-up status (monitors without a group are listed on their own)."""
    members: dict[str, list[dict]] = {}
    for m in monitors:
        if m["group"]:
            members.setdefault(m["group"], []).append(m)
    return [{"name": name, "status": group_status([monitor_state(m) for m in group]),
             "monitor_ids": [m["id"] for m in group]} for name, group in members.items()]


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
