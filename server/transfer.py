"""Export and import of a user's configuration (monitors, webhooks, status page, maintenance) as
JSON or YAML, so it can live in git.

- Export has no ids and no secrets; maintenance windows name their monitors.
- Documents are untrusted input (appliance/document.py: libyaml, no aliases, bounded size and
  nesting). Reading and building them is CPU work that holds the interpreter, so only a few run at
  once (the appliance's `transfers` slots): one per user, two on the appliance; a request beyond
  that is answered at once, 429 (yours is in progress) or 503 (the appliance is busy), with
  Retry-After, instead of taking an API thread from everyone else.
- Import matches monitors and maintenance windows by name and webhooks by URL: it creates what is
  missing, updates what differs, leaves the rest, and never deletes. The whole document is checked
  before anything is written; `dry_run=true` only reports what would change. Importing the same
  document twice changes nothing the second time.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from appliance.document import DocumentError, read_document, write_yaml
from appliance.models import Maintenance
from appliance.timeutil import as_utc, iso
from appliance.validation import InvalidMonitor, check_webhook_url, normalize_monitor
from appliance.maintenance import schedule_problems
from appliance.slots import SlotsBusy
from appliance.storage.entities import Conflict
from server.auth import appliance, current_user, require_login
from server.errors import ApiError
from server.monitors import CONFIG_FIELDS, CREATE_DEFAULTS
from server.schemas import (MaintenanceBody, MonitorCreateBody, StatusPageBody, WebhookCreateBody,
                            validation_error)

bp = Blueprint("transfer", __name__, url_prefix="/api")
EXPORTED_MONITOR_FIELDS = tuple(f for f in CONFIG_FIELDS)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
TOP_LEVEL = {"version", "monitors", "webhooks", "status_page", "maintenance"}
RETRY_AFTER_SECONDS = 2  # most imports take well under a second; the largest (1 MiB) a few


# ---- export ------------------------------------------------------------------------------------
def export_document(user) -> dict:
    app = appliance()
    monitors = app.entities.list_monitors(user.id)
    names = {m.id: m.name for m in monitors}
    return {
        "version": 1,
        "monitors": [{f: (list(getattr(m, f)) if f == "check_locations" else getattr(m, f))
                      for f in EXPORTED_MONITOR_FIELDS} for m in monitors],
        "webhooks": [{"url": w.url, "format": w.format, "events": list(w.events), "enabled": w.enabled}
                     for w in app.outbox.webhooks(user.id)],
        "status_page": ({"company_name": user.company_name or "", "slug": user.status_page_slug}
                        if user.status_page_slug else None),
        "maintenance": [{"name": w.name, "monitors": [names[i] for i in w.monitor_ids if i in names],
                         "starts_at": iso(w.starts_at), "ends_at": iso(w.ends_at), "recurring": w.recurring}
                        for w in app.maintenance.list(user.id)],
    }


@bp.get("/export")
def export():
    require_login()
    kind = request.args.get("format", "json")
    if kind not in ("json", "yaml"):
        raise ApiError(400, "Query parameter format must be json or yaml.", {"format": "json or yaml"})
    with _slot():
        document = export_document(current_user)
        if kind == "yaml":
            return Response(write_yaml(document), content_type="application/yaml; charset=utf-8")
        return jsonify(document)


def _slot():
    """One of the appliance's import/export slots for the current user (leave it with the `with`
    block), or at once a 429 (the user has one in progress) or 503 (all are taken)."""
    try:
        return appliance().transfers.hold(current_user.id)
    except SlotsBusy as exc:
        if exc.per_key:
            raise ApiError(429, "Another import or export of yours is still in progress; wait for it to finish, "
                                "then try again.", {"in_progress": f"at most {exc.limit} per user at a time"},
                           retry_after=RETRY_AFTER_SECONDS) from None
        raise ApiError(503, f"The appliance is busy with other users' imports and exports (at most {exc.limit} "
                            "at a time); try again in a few seconds.",
                       {"in_progress": f"at most {exc.limit} on the appliance at a time"},
                       retry_after=RETRY_AFTER_SECONDS) from None


# ---- import ------------------------------------------------------------------------------------
def _read_document() -> dict:
    raw = request.get_data(cache=True)
    if not raw:
        raise ApiError(400, "The request needs a JSON or YAML body (as GET /api/export gives).")
    try:
        document = read_document(raw, "yaml" if (request.mimetype or "") in YAML_TYPES else "json")
    except DocumentError as exc:
        raise ApiError(400, exc.message, exc.details) from None
    if not isinstance(document, dict):
        raise ApiError(400, "The document must be an object with monitors, webhooks, status_page, maintenance.")
    unknown = sorted(str(key) for key in set(document) - TOP_LEVEL)  # YAML keys may be numbers
    if unknown:
        raise ApiError(400, f"Unknown field(s): {', '.join(unknown)}.", {k: "is not a known field" for k in unknown})
    if document.get("version", 1) != 1:
        raise ApiError(400, "Only version 1 documents can be imported.", {"version": "must be 1"})
    for key in ("monitors", "webhooks", "maintenance"):
        if not isinstance(document.get(key) or [], list):
            raise ApiError(400, f"Invalid {key}: must be a list.", {key: "must be a list"})
    return document


def _validate(model, data, where: str):
    if not isinstance(data, dict):
        raise ApiError(400, f"Invalid {where}: must be an object.", {where: "must be an object"})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = validation_error(exc)
        details = {f"{where}.{k}": v for k, v in (error.details or {}).items()}
        raise ApiError(400, f"Invalid {where}: {error.message}", details) from None


def _planned_monitors(items: list) -> list[dict]:
    app, seen, out = appliance(), set(), []
    for index, item in enumerate(items):
        where = f"monitors[{index}]"
        data = {k: v for k, v in (item or {}).items() if v is not None} if isinstance(item, dict) else item
        body = _validate(MonitorCreateBody, data, where)
        if body.name in seen:
            raise ApiError(400, f"Invalid {where}: the name {body.name!r} appears twice.", {f"{where}.name": "twice"})
        seen.add(body.name)
        fields = {**CREATE_DEFAULTS, **body.model_dump(exclude_unset=True)}
        try:
            out.append(normalize_monitor({f: fields.get(f) for f in CONFIG_FIELDS}, app.known_locations()))
        except InvalidMonitor as exc:
            raise ApiError(400, f"Invalid {where}: {exc}.", {f"{where}.{k}": v for k, v in exc.details.items()}) from None
    return out


@bp.post("/import")
def import_document():
    require_login()
    dry_run = request.args.get("dry_run", "false").lower()
    if dry_run not in ("true", "false"):
        raise ApiError(400, "Query parameter dry_run must be true or false.", {"dry_run": "true or false"})
    with _slot():
        return _import(dry_run == "true")


def _import(dry: bool):
    document = _read_document()
    app, user = appliance(), current_user

    monitors = _planned_monitors(document.get("monitors") or [])
    webhooks = []
    for index, item in enumerate(document.get("webhooks") or []):
        body = _validate(WebhookCreateBody, item, f"webhooks[{index}]")
        try:
            check_webhook_url(body.url)
        except ValueError as exc:
            raise ApiError(400, f"Invalid webhooks[{index}].url: {exc}.", {f"webhooks[{index}].url": str(exc)}) from None
        webhooks.append(body)
    page = document.get("status_page")
    page = _validate(StatusPageBody, page, "status_page") if page is not None else None

    existing = {m.name: m for m in app.entities.list_monitors(user.id)}
    final_names = set(existing) | {m["name"] for m in monitors}
    windows = []
    for index, item in enumerate(document.get("maintenance") or []):
        where = f"maintenance[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("monitors"), list):
            raise ApiError(400, f"Invalid {where}: needs monitors (a list of monitor names).",
                           {f"{where}.monitors": "a list of monitor names"})
        unknown = [n for n in item["monitors"] if n not in final_names]
        if unknown:
            raise ApiError(400, f"Invalid {where}: unknown monitor(s) {', '.join(map(str, unknown))}.",
                           {f"{where}.monitors": "unknown monitor names"})
        data = {k: v for k, v in item.items() if k != "monitors" and v is not None}
        body = _validate(MaintenanceBody, {**data, "monitor_ids": [1]}, where)
        problems = schedule_problems(body.model_dump())
        if problems:
            field, problem = next(iter(problems.items()))
            raise ApiError(400, f"Invalid {where}: {field} {problem}.",
                           {f"{where}.{k}": v for k, v in problems.items()})
        windows.append((body, item["monitors"]))

    created, updated, unchanged = [], [], []
    for fields in monitors:
        current = existing.get(fields["name"])
        if current is None:
            created.append({"kind": "monitor", "name": fields["name"]})
            if not dry:
                existing[fields["name"]] = app.create_monitor(user, fields)
            continue
        if current.type != fields["type"]:
            raise ApiError(400, f"Monitor {fields['name']!r} exists with type {current.type}; a type cannot change.",
                           {"monitors": f"{fields['name']}: type cannot change"})
        changes = {f: fields[f] for f in CONFIG_FIELDS if f != "type" and fields[f] != getattr(current, f)}
        (updated if changes else unchanged).append({"kind": "monitor", "name": fields["name"]})
        if changes and not dry:
            existing[fields["name"]] = app.update_monitor(user, current.id, changes)

    hooks = {h.url: h for h in app.outbox.webhooks(user.id)}
    for body in webhooks:
        wanted = {"format": body.format, "events": list(dict.fromkeys(body.events)), "enabled": body.enabled}
        hook = hooks.get(body.url)
        if hook is None:
            created.append({"kind": "webhook", "name": body.url})
            if not dry:
                app.outbox.create_webhook(user.id, body.url, body.format, wanted["events"], body.enabled)
            continue
        changes = {k: v for k, v in wanted.items() if getattr(hook, k) != v}
        (updated if changes else unchanged).append({"kind": "webhook", "name": body.url})
        if changes and not dry:
            app.outbox.update_webhook(hook.id, user.id, changes)

    if page is not None:
        same = (user.company_name or "") == page.company_name and user.status_page_slug == page.slug
        (unchanged if same else updated).append({"kind": "status_page", "name": page.slug or ""})
        if not same and not dry:
            try:
                app.entities.update_user(user.id, company_name=page.company_name, status_page_slug=page.slug)
            except Conflict:
                raise ApiError(409, f"The status page address '{page.slug}' is taken.", {"status_page.slug": "taken"})

    current_windows = {w.name: w for w in app.maintenance.list(user.id)}
    for body, monitor_names in windows:
        ids = [existing[n].id for n in monitor_names if n in existing and existing[n] is not None] if not dry else []
        wanted = {"starts_at": body.starts_at, "ends_at": body.ends_at,
                  "recurring": body.recurring.model_dump() if body.recurring else None}
        window = current_windows.get(body.name)
        if window is None:
            created.append({"kind": "maintenance", "name": body.name})
            if not dry:
                app.maintenance.save(Maintenance(user_id=user.id, name=body.name, monitor_ids=ids, **wanted))
            continue
        now_names = sorted(m.name for m in existing.values() if m is not None and m.id in window.monitor_ids)
        same = (now_names == sorted(monitor_names)
                and (as_utc(window.starts_at) if window.starts_at else None) == wanted["starts_at"]
                and (as_utc(window.ends_at) if window.ends_at else None) == wanted["ends_at"]
                and window.recurring == wanted["recurring"])
        (unchanged if same else updated).append({"kind": "maintenance", "name": body.name})
        if not same and not dry:
            window.monitor_ids, window.starts_at, window.ends_at, window.recurring = (
                ids, wanted["starts_at"], wanted["ends_at"], wanted["recurring"])
            app.maintenance.save(window)
    if windows and not dry:
        app.reload_maintenance()
    return jsonify({"dry_run": dry, "created": created, "updated": updated, "unchanged": unchanged})
