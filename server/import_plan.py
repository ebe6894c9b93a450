"""Planning an import (POST /api/import): the whole document checked against the user's current
configuration before anything is written, and everything a real run could refuse refused here,
so a dry run and a real run give the same answer. The result is an ImportPlan
(appliance/imports.py), which a real run writes in one transaction.

Checked, beyond each section's fields (the API's own request models) and each monitor's rules
for its type: monitor and maintenance window names and webhook URLs appear once in the document;
a document entry that matches several of the user's monitors, windows or webhooks is ambiguous;
a monitor's type never changes; a window names monitors that exist or that the document creates,
each once; the status page address is not another user's.
"""

from __future__ import annotations

from pydantic import ValidationError

from appliance.imports import ImportPlan, WindowSpec
from appliance.services.transfer import Snapshot
from appliance.maintenance import schedule_problems
from appliance.timeutil import utc_or_none
from appliance.validation import InvalidMonitor, check_webhook_url, normalize_monitor
from server.errors import ApiError
from appliance.monitor_types.fields import CONFIG_FIELDS, CREATE_DEFAULTS
from server.schemas import MaintenanceBody, MonitorCreateBody, StatusPageBody, WebhookCreateBody, validation_error

TOP_LEVEL = ("version", "monitors", "webhooks", "status_page", "maintenance")
SECTIONS = ("monitors", "webhooks", "maintenance")
MAX_WINDOW_MONITORS = 1000  # as POST /api/maintenance


def plan_import(document, now: Snapshot) -> ImportPlan:
    """The plan for an import of `document` (a parsed JSON or YAML value) into the configuration
    `now` holds, or ApiError."""
    _check_outline(document)
    known, user = now.known_locations, now.user
    monitors = _unique([(f"monitors[{i}]", item) for i, item in enumerate(document.get("monitors") or [])],
                       lambda where, item: _monitor_fields(where, item, known), key="name", what="monitor name")
    webhooks = _unique([(f"webhooks[{i}]", item) for i, item in enumerate(document.get("webhooks") or [])],
                       _webhook, key="url", what="webhook URL")
    windows = _unique([(f"maintenance[{i}]", item) for i, item in enumerate(document.get("maintenance") or [])],
                      _window, key="name", what="maintenance window name")
    page = document.get("status_page")
    page = _validate(StatusPageBody, page, "status_page") if page is not None else None

    plan = ImportPlan(user.id)
    mine = now.monitors
    by_name = _grouped(mine, "name")
    _plan_monitors(plan, monitors, by_name)
    _plan_window_monitors(plan, windows, by_name, {fields["name"] for _, fields in monitors})
    _plan_webhooks(plan, webhooks, _grouped(now.webhooks, "url"))
    if page is not None:
        _plan_status_page(plan, page, user, now.slug_owner)
    names_by_id = {m.id: m.name for m in mine}
    _plan_windows(plan, windows, _grouped(now.windows, "name"), names_by_id)
    return plan


# ---- the document, section by section -----------------------------------------------------------

def _check_outline(document) -> None:
    if not isinstance(document, dict):
        raise ApiError(400, "The document must be an object with monitors, webhooks, status_page, maintenance.")
    unknown = sorted(str(key) for key in document if key not in TOP_LEVEL)
    if unknown:
        raise ApiError(400, f"Unknown field(s): {', '.join(unknown)}.", {k: "is not a known field" for k in unknown})
    version = document.get("version", 1)
    if type(version) is not int or version != 1:
        raise ApiError(400, "Only version 1 documents can be imported.", {"version": "must be 1"})
    for key in SECTIONS:  # null (a YAML key with nothing under it) is an empty list
        if not isinstance(document.get(key, []), (list, type(None))):
            raise ApiError(400, f"Invalid {key}: must be a list.", {key: "must be a list"})


def _validate(model, data, where: str):
    if not isinstance(data, dict):
        raise ApiError(400, f"Invalid {where}: must be an object.", {where: "must be an object"})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = {f"{where}.{k}": v for k, v in (validation_error(exc).details or {}).items()}
        field, problem = next(iter(details.items()))
        raise ApiError(400, f"Invalid {field}: {problem}.", details) from None


def _unique(items: list[tuple[str, object]], check, key: str, what: str) -> list[tuple[str, object]]:
    """Each (where, item) checked by check(where, item); `key` (a field or attribute) only once."""
    out, seen = [], {}
    for where, item in items:
        value = check(where, item)
        name = value[key] if isinstance(value, dict) else getattr(value, key)
        if name in seen:
            raise ApiError(400, f"Invalid {where}: the {what} {name!r} appears twice (also in {seen[name]}).",
                           {f"{where}.{key}": "appears twice"})
        seen[name] = where
        out.append((where, value))
    return out


def _monitor_fields(where: str, item, known_locations: set[str]) -> dict:
    data = {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item
    body = _validate(MonitorCreateBody, data, where)
    fields = {**CREATE_DEFAULTS, **body.model_dump(exclude_unset=True)}
    try:
        return normalize_monitor({f: fields.get(f) for f in CONFIG_FIELDS}, known_locations)
    except InvalidMonitor as exc:
        raise ApiError(400, f"Invalid {where}: {exc}.", {f"{where}.{k}": v for k, v in exc.details.items()}) from None


def _webhook(where: str, item) -> WebhookCreateBody:
    body = _validate(WebhookCreateBody, item, where)
    if body.format in ("email", "apprise") or body.email is not None:
        # Their settings are secrets (an SMTP password, an Apprise URL's tokens): never exported, not imported.
        raise ApiError(400, f"Invalid {where}.format: email and apprise channels are not imported (their settings "
                            "hold secrets); add them with POST /api/settings/webhooks.",
                       {f"{where}.format": "generic, slack or discord"})
    if body.url is None:
        raise ApiError(400, f"Invalid {where}.url: required.", {f"{where}.url": "required"})
    try:
        check_webhook_url(body.url)
    except ValueError as exc:
        raise ApiError(400, f"Invalid {where}.url: {exc}.", {f"{where}.url": str(exc)}) from None
    return body


def _window(where: str, item) -> WindowSpec:
    if not isinstance(item, dict):
        raise ApiError(400, f"Invalid {where}: must be an object.", {where: "must be an object"})
    names = item.get("monitors")  # none is allowed: an export has [] once a window's monitors are deleted
    if (not isinstance(names, list) or len(names) > MAX_WINDOW_MONITORS
            or not all(isinstance(n, str) and n.strip() for n in names)):
        raise ApiError(400, f"Invalid {where}.monitors: give a list of at most {MAX_WINDOW_MONITORS} monitor names.",
                       {f"{where}.monitors": "a list of monitor names"})
    names = [n.strip() for n in names]
    if len(set(names)) != len(names):
        raise ApiError(400, f"Invalid {where}.monitors: it names a monitor twice.", {f"{where}.monitors": "twice"})
    if "monitor_ids" in item:
        raise ApiError(400, f"Unknown field {where}.monitor_ids: a document names the monitors (monitors).",
                       {f"{where}.monitor_ids": "is not a known field"})
    data = {k: v for k, v in item.items() if k != "monitors" and v is not None}
    body = _validate(MaintenanceBody, {**data, "monitor_ids": [1]}, where)
    problems = schedule_problems(body.model_dump())
    if problems:
        field, problem = next(iter(problems.items()))
        raise ApiError(400, f"Invalid {where}: {field} {problem}.", {f"{where}.{k}": v for k, v in problems.items()})
    return WindowSpec(body.name, tuple(names), body.starts_at, body.ends_at,
                      body.recurring.model_dump() if body.recurring else None, body.notice or None)


# ---- against what the user has ------------------------------------------------------------------

def _grouped(rows, attribute: str) -> dict:
    out: dict = {}
    for row in rows:
        out.setdefault(getattr(row, attribute), []).append(row)
    return out


def _match(existing: dict, key, where: str, what: str, by: str = "named"):
    """The one existing row with this key, None if there is none; several are ambiguous."""
    rows = existing.get(key, [])
    if len(rows) > 1:
        raise ApiError(400, f"Invalid {where}: {len(rows)} of your {what}s are {by} {key!r}, and an import matches "
                            f"{what}s that way; change all but one of them first.",
                       {where: f"matches {len(rows)} of your {what}s"})
    return rows[0] if rows else None


def _plan_monitors(plan: ImportPlan, monitors, by_name: dict) -> None:
    for where, fields in monitors:
        name = fields["name"]
        current = _match(by_name, name, f"{where}.name", "monitor")
        if current is None:
            plan.new_monitors.append(fields)
            plan.note("created", "monitor", name)
            continue
        if current.type != fields["type"]:
            raise ApiError(400, f"Invalid {where}.type: monitor {name!r} exists with type {current.type}, and a "
                                "monitor's type cannot change; rename it in the document to create a new one.",
                           {f"{where}.type": "cannot be changed"})
        plan.monitor_ids[name] = current.id
        changes = {f: fields[f] for f in CONFIG_FIELDS if f != "type" and fields[f] != getattr(current, f)}
        if changes:
            plan.monitor_changes[current.id] = changes
        plan.note("updated" if changes else "unchanged", "monitor", name)


def _plan_window_monitors(plan: ImportPlan, windows, by_name: dict, created: set[str]) -> None:
    """Every monitor a window names exists, or the document creates it."""
    for where, spec in windows:
        unknown = []
        for name in spec.monitor_names:
            if name in created or name in plan.monitor_ids:
                continue
            current = _match(by_name, name, f"{where}.monitors", "monitor")
            if current is None:
                unknown.append(name)
            else:
                plan.monitor_ids[name] = current.id
        if unknown:
            raise ApiError(400, f"Invalid {where}.monitors: no monitor is named {', '.join(map(repr, unknown))}; "
                                "name monitors you have or that the document creates.",
                           {f"{where}.monitors": "unknown monitor names"})


def _plan_webhooks(plan: ImportPlan, webhooks, by_url: dict) -> None:
    for where, body in webhooks:
        wanted = {"format": body.format, "events": list(body.events), "enabled": body.enabled}
        hook = _match(by_url, body.url, f"{where}.url", "webhook", by="at")
        if hook is None:
            plan.new_webhooks.append({"url": body.url, **wanted})
            plan.note("created", "webhook", body.url)
            continue
        changes = {k: v for k, v in wanted.items() if getattr(hook, k) != v}
        if changes:
            plan.webhook_changes[hook.id] = changes
        plan.note("updated" if changes else "unchanged", "webhook", body.url)


def _plan_status_page(plan: ImportPlan, page: StatusPageBody, user, slug_owner) -> None:
    if (user.company_name or "") == page.company_name and user.status_page_slug == page.slug:
        plan.note("unchanged", "status_page", page.slug or "")
        return
    owner = slug_owner(page.slug) if page.slug else None
    if owner is not None and owner.id != user.id:
        raise ApiError(409, f"The status page address '{page.slug}' is taken; choose another slug.",
                       {"status_page.slug": "already taken"})
    plan.status_page = {"company_name": page.company_name, "status_page_slug": page.slug}
    plan.note("updated", "status_page", page.slug or "")


def _plan_windows(plan: ImportPlan, windows, by_name: dict, names_by_id: dict[int, str]) -> None:
    for where, spec in windows:
        window = _match(by_name, spec.name, f"{where}.name", "maintenance window")
        if window is None:
            plan.new_windows.append(spec)
            plan.note("created", "maintenance", spec.name)
            continue
        now = WindowSpec(window.name, tuple(sorted(names_by_id[i] for i in window.monitor_ids if i in names_by_id)),
                         utc_or_none(window.starts_at), utc_or_none(window.ends_at), window.recurring,
                         window.notice)
        same = now == WindowSpec(spec.name, tuple(sorted(spec.monitor_names)), spec.starts_at, spec.ends_at,
                                 spec.recurring, spec.notice)
        if not same:
            plan.window_changes[window.id] = spec
        plan.note("unchanged" if same else "updated", "maintenance", spec.name)
