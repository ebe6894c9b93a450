"""The public status page, served without login:

- GET /api/public/status/<slug>             the JSON (API.md "Public status page")
- GET /status/<slug>                         the same as a web page (templates/status_page.html)
- GET /status/<slug>/badge/<monitor_id>.svg  a small status badge per public monitor
- GET /status/<slug>/feed.atom               an Atom feed of its incidents, their updates and maintenance notices

What a page shows and how it is cached is the StatusPages service's (appliance/services/
status_pages.py); this module serves it: the JSON as assembled, the web page rendered once per
assembled page, the badge. Requests are limited like every anonymous call (per client IP, server/limits.py).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, make_response, render_template, url_for

from appliance import __version__
from appliance.cache import TTLCache
from appliance.services.status_pages import HISTORY_DAYS, INCIDENT_DAYS
from server.auth import services
from server.errors import ApiError

bp = Blueprint("public", __name__)

REFRESH_SECONDS = 30  # how often the web page reloads its data (static/status.js; ?refresh=N overrides)
BADGE_MAX_AGE = 30

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


# ---- what is derived from an assembled page (its HTML), cached by the page's build ------------------

_cache_lock = threading.Lock()


def render_cache() -> TTLCache:
    cache = current_app.extensions.get("statuscore.status_html")
    if cache is None:
        with _cache_lock:
            cache = current_app.extensions.setdefault("statuscore.status_html",
                                                      TTLCache(services().status_pages.cache_seconds))
    return cache


# ---- the endpoints ----------------------------------------------------------------------------------

def _public_cache_headers(response: Response, seconds: float) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={max(0, math.floor(seconds))}"
    return response


@bp.get("/api/public/status/<slug>")
def status_json(slug: str):
    page = services().status_pages.page(slug)
    if page is None:
        raise ApiError(404, "status page not found")
    response = Response(page.body, content_type="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, no credentials
    return _public_cache_headers(response, services().status_pages.cache_seconds)


@bp.get("/status/<slug>")
def status_page(slug: str):
    page = services().status_pages.page(slug)
    if page is None:
        return _page(render_template("status_not_found.html", version=__version__), 404)
    html = render_cache().get_or_compute(
        ("html", slug, page.build),  # rendered once per assembled page
        lambda: render_template("status_page.html", page=page_view(page.data, slug), refresh=REFRESH_SECONDS,
                                version=__version__))
    return _public_cache_headers(_page(html, 200), services().status_pages.cache_seconds)


@bp.get("/status/<slug>/feed.atom")
def status_feed(slug: str):
    """Follow a page in a feed reader: one entry per incident (its updates in its text) and per
    maintenance notice, with absolute links to the page (rendered once per build and host)."""
    page = services().status_pages.page(slug)
    if page is None:
        raise ApiError(404, "status page not found")
    page_url = url_for("public.status_page", slug=slug, _external=True)
    xml = render_cache().get_or_compute(
        ("atom", slug, page.build, page_url),
        lambda: render_template("status_feed.atom.xml", feed=feed_view(page.data, page_url, url_for("public.status_feed", slug=slug, _external=True)),
                                version=__version__))
    response = make_response(xml, 200)
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, no credentials
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return _public_cache_headers(response, services().status_pages.cache_seconds)


def _page(html: str, status: int) -> Response:
    response = make_response(html, status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers.update(PAGE_HEADERS)
    return response


@bp.get("/status/<slug>/badge/<int:monitor_id>.svg")
def badge(slug: str, monitor_id: int):
    page = services().status_pages.page(slug)
    data = page.data if page else None
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
    """ISO UTC as people read it, the zone named ("2024-01-15 10:30 UTC"); the page's script then
    shows it in the visitor's own zone, named too."""
    return "" if not text else text[:16].replace("T", " ") + " UTC"


@dataclass(frozen=True)
class Day:
    date: str
    css: str
    label: str


GROUP_TEXT = {"operational": "Operational", "partial_outage": "Partial outage", "major_outage": "Major outage",
              "under_maintenance": "Under maintenance", "no_data": "No data yet", "paused": "Paused"}
UPDATE_TEXT = {"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
               "resolved": "Resolved"}


def bar_days(history: list[dict], since: str) -> list[Day]:
    """The uptime bar's cells: days before the monitor existed (and without data) are marked as
    such, not as blanks; days it was watched but no check ran say "no data"."""
    days = []
    for h in history:
        if h["uptime"] is not None:
            days.append(Day(h["date"], day_class(h["uptime"]), f"{h['date']}: {h['uptime']} % uptime"))
        elif h["date"] < since:
            days.append(Day(h["date"], "before", f"{h['date']}: not monitored yet"))
        else:
            days.append(Day(h["date"], "none", f"{h['date']}: no data"))
    return days


GRAPH_WIDTH, GRAPH_HEIGHT = 900, 60  # the SVG's own units; it scales to the card's width


def response_graph(history: list[dict]) -> dict | None:
    """The daily average response times as SVG polylines (one per run of days with data), drawn on
    the server: no script and no external asset, so it shows under the page's CSP as it is."""
    values = [h.get("response_time") for h in history]
    known = [v for v in values if v is not None]
    if not known:
        return None
    top = max(known) * 1.15 or 1
    step = GRAPH_WIDTH / len(values)
    lines, run, dots = [], [], []

    def close_run():
        if len(run) == 1:  # a lone day: a short dash where its cell is, not an invisible point
            x, y = run[0]
            run[:] = [(x - step * 0.35, y), (x + step * 0.35, y)]
        if run:
            lines.append(" ".join(f"{round(x, 1)},{y}" for x, y in run))
        run.clear()

    for index, value in enumerate(values):
        if value is None:
            close_run()
            continue
        x, y = step * (index + 0.5), round(GRAPH_HEIGHT - value / top * (GRAPH_HEIGHT - 4) - 2, 1)
        run.append((x, y))
        dots.append({"x": round(x, 1), "y": y, "label": f"{history[index]['date']}: {value} ms"})
    close_run()
    average = round(sum(known) / len(known))
    return {"lines": lines, "dots": dots if len(dots) <= 90 else [], "width": GRAPH_WIDTH, "height": GRAPH_HEIGHT,
            "min": min(known), "max": max(known), "avg": average, "latest": known[-1]}


def monitor_view(m: dict) -> dict:
    # Since it was created, or its first day with results if those go back further (an import).
    since = min([m.get("monitoring_since") or "9999", *(h["date"] for h in m["history"] if h["uptime"] is not None)])
    since = "" if since == "9999" else since
    days = bar_days(m["history"], since)
    watched = sum(1 for d in days if d.css != "before")
    return {
        "id": m["id"], "name": m["name"], "status": m["status"],
        "state": "maintenance" if m.get("in_maintenance") and m["status"] != "paused" else m["status"],
        "state_text": "Under maintenance" if m.get("in_maintenance") else STATE_TEXT.get(m["status"], m["status"]),
        "uptime_90d": m["uptime_90d"], "uptime_24h": m["uptime_percentage"],
        "days": days, "outage_days": sum(1 for d in days if d.css in ("partial", "major")),
        "watched_days": watched, "since": since, "graph": response_graph(m["history"]),
    }


def sections_view(monitors: list[dict], groups: list[dict]) -> list[dict]:
    """Monitors without a group first (no heading), then each group with its roll-up status."""
    by_id = {m["id"]: m for m in monitors}
    grouped = {i for g in groups for i in g["monitor_ids"]}
    sections = []
    loose = [m for m in monitors if m["id"] not in grouped]
    if loose:
        sections.append({"name": None, "status": None, "status_text": "", "monitors": loose})
    for g in groups:
        sections.append({"name": g["name"], "status": g["status"], "status_text": GROUP_TEXT[g["status"]],
                         "monitors": [by_id[i] for i in g["monitor_ids"] if i in by_id]})
    return sections


def incident_view(i: dict) -> dict:
    return {
        "id": i["id"], "monitor_name": i["monitor_name"], "status": i["status"],
        "started_at": i["started_at"], "started_text": human_time(i["started_at"]),
        "resolved_at": i["resolved_at"], "resolved_text": human_time(i["resolved_at"]),
        "duration_text": format_duration(i["duration_seconds"]),
        "updates": [{**u, "status_text": UPDATE_TEXT.get(u["status"], u["status"]),
                     "created_text": human_time(u["created_at"])} for u in i.get("updates", [])],
    }


def page_view(data: dict, slug: str) -> dict:
    monitors = [monitor_view(m) for m in data["monitors"]]
    names = {m["id"]: m["name"] for m in data["monitors"]}
    notices = [{**n, "starts_text": human_time(n["starts_at"]), "ends_text": human_time(n["ends_at"]),
                "monitor_names": [names[i] for i in n["monitor_ids"] if i in names]}
               for n in data.get("notices", [])]
    return {
        "slug": slug,
        "company_name": data["company_name"],
        "overall": data["overall"],
        "overall_text": OVERALL_TEXT[data["overall"]],
        "updated_at": data["updated_at"],
        "updated_text": human_time(data["updated_at"]),
        "monitors": monitors,
        "sections": sections_view(monitors, data.get("groups", [])),
        "incidents": [incident_view(i) for i in data["incidents"]],
        "notices": notices,
        "incident_days": INCIDENT_DAYS,
        "history_days": HISTORY_DAYS,
    }


def feed_view(data: dict, page_url: str, self_url: str) -> dict:
    """The Atom feed's values: entries newest first, each updated when its incident resolved or got
    an update (so readers show it again), ids stable per incident and notice."""
    entries = []
    for i in data["incidents"]:
        lines = [f"Down since {i['started_at']}." if i["status"] == "ongoing" else
                 f"Down from {i['started_at']} to {i['resolved_at']} ({format_duration(i['duration_seconds'])})."]
        lines += [f"{UPDATE_TEXT.get(u['status'], u['status'])} ({u['created_at']}): {u['message']}"
                  for u in i.get("updates", [])]
        times = [i["started_at"], i["resolved_at"] or "", *(u["created_at"] for u in i.get("updates", []))]
        entries.append({
            "id": f"{page_url}#incident-{i['id']}", "link": f"{page_url}#incident-{i['id']}",
            "title": f"{i['monitor_name']} is down" if i["status"] == "ongoing"
            else f"Resolved: {i['monitor_name']} was down",
            "published": i["started_at"], "updated": max(times), "category": "incident",
            "content": "\n\n".join(lines)})
    names = {m["id"]: m["name"] for m in data["monitors"]}
    for n in data.get("notices", []):
        affects = ", ".join(names[i] for i in n["monitor_ids"] if i in names)
        entries.append({
            "id": f"{page_url}#notice-{n['id']}", "link": f"{page_url}#notice-{n['id']}",
            "title": f"{'Maintenance in progress' if n['status'] == 'in_progress' else 'Scheduled maintenance'}: "
                     f"{n['title']}",
            # Shown again when the window begins (its title then says "in progress").
            "published": n["created_at"], "category": "maintenance",
            "updated": max(n["created_at"], n["starts_at"]) if n["status"] == "in_progress" else n["created_at"],
            "content": "\n\n".join(filter(None, (f"From {n['starts_at']} to {n['ends_at']}.",
                                                   f"Affects: {affects}." if affects else "", n["message"])))})
    entries.sort(key=lambda e: e["updated"], reverse=True)
    company = data["company_name"] or "Service"
    return {"title": f"{company} status", "author": company, "page_url": page_url, "self_url": self_url,
            "updated": max([e["updated"] for e in entries], default=data["updated_at"]), "entries": entries}


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
