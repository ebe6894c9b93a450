"""Export and import of a user's configuration (monitors, webhooks, status page, maintenance) as
JSON or YAML, so it can live in git.

- Export has no ids and no secrets; maintenance windows name their monitors.
- Import matches monitors and maintenance windows by name and webhooks by URL: it creates what is
  missing, updates what differs, leaves the rest, and never deletes. The whole document is checked
  first (server/import_plan.py), so a dry run (`dry_run=true`, which only reports) answers what
  the real run would; the real run writes everything in one transaction or nothing. Importing the
  same document twice changes nothing the second time.
- Documents are untrusted input (appliance/document.py: libyaml, no aliases, bounded size and
  nesting). Reading and building them is CPU work that holds the interpreter, so only a few run at
  once (the appliance's `transfers` slots): one per user, two on the appliance; a request beyond
  that is answered at once, 429 (yours is in progress) or 503 (the appliance is busy), with
  Retry-After, instead of taking an API thread from everyone else.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from appliance.document import DocumentError, read_document, write_yaml
from appliance.slots import SlotsBusy
from server.auth import current_user, require_login, services
from server.errors import ApiError
from server.import_plan import plan_import

bp = Blueprint("transfer", __name__, url_prefix="/api")
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
RETRY_AFTER_SECONDS = 2  # most imports take well under a second; the largest (1 MiB) a few


# ---- export ------------------------------------------------------------------------------------
@bp.get("/export")
def export():
    require_login()
    kind = request.args.get("format", "json")
    if kind not in ("json", "yaml"):
        raise ApiError(400, "Query parameter format must be json or yaml.", {"format": "json or yaml"})
    with _slot():
        document = services().transfer.export(current_user)
        if kind == "yaml":
            return Response(write_yaml(document), content_type="application/yaml; charset=utf-8")
        return jsonify(document)


# ---- import ------------------------------------------------------------------------------------
@bp.post("/import")
def import_document():
    require_login()
    dry_run = request.args.get("dry_run", "false").lower()
    if dry_run not in ("true", "false"):
        raise ApiError(400, "Query parameter dry_run must be true or false.", {"dry_run": "true or false"})
    raw = request.get_data(cache=False)
    if not raw:
        raise ApiError(400, "The request needs a JSON or YAML body (as GET /api/export gives).")
    transfer, user = services().transfer, current_user
    with _slot():
        try:
            document = read_document(raw, "yaml" if (request.mimetype or "") in YAML_TYPES else "json")
        except DocumentError as exc:
            raise ApiError(400, exc.message, exc.details) from None
        plan = plan_import(document, transfer.snapshot(user))
        transfer.check_room(user, plan)  # the plan's limits, before anything is written (403 names the limit)
        if dry_run == "false":
            transfer.apply(user, plan)
    return jsonify(plan.report(dry_run == "true"))


def _slot():
    """One of the appliance's import/export slots for the current user (leave it with the `with`
    block), or at once a 429 (the user has one in progress) or 503 (all are taken)."""
    try:
        return services().transfer.slot(current_user)
    except SlotsBusy as exc:
        if exc.per_key:
            raise ApiError(429, "Another import or export of yours is still in progress; wait for it to finish, "
                                "then try again.", {"in_progress": f"at most {exc.limit} per user at a time"},
                           retry_after=RETRY_AFTER_SECONDS) from None
        raise ApiError(503, f"The appliance is busy with other users' imports and exports (at most {exc.limit} "
                            "at a time); try again in a few seconds.",
                       {"in_progress": f"at most {exc.limit} on the appliance at a time"},
                       retry_after=RETRY_AFTER_SECONDS) from None
