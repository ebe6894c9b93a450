"""GET /api/openapi.json: the OpenAPI 3.1 document of the HTTP API, built from the code.

- Request bodies are the pydantic models of schemas.py (`model_json_schema`), so the document
  shows exactly what `parse_body` accepts and cannot drift from it.
- Response bodies are described once, here, as JSON Schema after serialize.py and the
  blueprints: nullable values, keys that only some monitor types have, the error body.
- OPERATIONS lists every endpoint: who may call it, its body, its answer and every status code
  it can give. tests/server/test_openapi.py fails when a registered /api route is missing here;
  tests/server/test_openapi_fuzz.py fuzzes the running API from this document.

Adding an endpoint: add an `Op` to OPERATIONS (and its answer's schema to RESPONSE_SCHEMAS).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask import Blueprint, jsonify
from pydantic import BaseModel

from appliance import __version__
from appliance.models import INCIDENT_UPDATE_STATUSES, TIERS, WEBHOOK_EVENTS, WEBHOOK_FORMATS
from appliance.monitor_types import MONITOR_TYPES, POLLED_TYPES, TYPES
from appliance.plans import KINDS as LIMITED_KINDS
from server import schemas
from appliance.monitor_types.fields import BY_NAME as MONITOR_FIELDS_BY_NAME, NOT_NULL as MONITOR_NOT_NULL

bp = Blueprint("openapi", __name__, url_prefix="/api")

REF = "#/components/schemas/{model}"
SECURITY_SCHEME = "bearerAuth"
PROBE_SECURITY_SCHEME = "probeToken"  # /api/probe/*: a probe's own token, not a login
MAX_ID = 10**18 - 1  # ids in URLs have at most 18 digits (server.RowIdConverter)


@bp.get("/openapi.json")
def document():
    return jsonify(build_document())


# ---- building blocks ---------------------------------------------------------------------------

def ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict, optional: tuple[str, ...] = (), **extra) -> dict:
    """A closed object: every property required except `optional`, nothing else allowed."""
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional],
            "additionalProperties": False, **extra}


TIMESTAMP = {"type": "string", "format": "date-time", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
             "examples": ["2024-01-15T10:30:00Z"]}
DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
PERCENT_2 = {"type": "string", "pattern": r"^\d{1,3}\.\d{2}$", "examples": ["99.95"],
             "description": "A percentage with two decimals (never rounded up to 100)."}
PERCENT_3 = {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,3})?$", "examples": ["99.9"],
             "description": "A percentage with up to three decimals, trailing zeros dropped."}
MILLIS = {"type": "integer", "minimum": 0, "description": "Milliseconds."}
STATUS = {"type": "string", "enum": ["pending", "up", "down", "paused"]}
LOCATION_NAME = schemas.LOCATION_NAME_PATTERN
LOCATION_STATUS = {"type": "string", "enum": ["pending", "up", "down"]}
ID = {"type": "integer", "minimum": 1}

_USER = {"id": ID, "email": {"type": "string"}, "fullName": {"type": "string"},
         "subscriptionTier": {"type": "string", "enum": list(TIERS)}}
_USER_FULL = {**_USER, "isAdmin": {"type": "boolean"}, "statusPageSlug": nullable({"type": "string"})}


def _only_for(condition: dict, keys: list[str]) -> dict:
    """`keys` are present when the monitor matches `condition`, absent otherwise."""
    return {"if": {"properties": condition}, "then": {"required": keys},
            "else": {"not": {"anyOf": [{"required": [key]} for key in keys]}}}


# The keys only some types' monitor objects carry (registry: shown and details), in the order the
# monitor object has them.
TYPE_KEY_ORDER = tuple(dict.fromkeys(key for t in TYPES.values() for key in (*t.shown, *t.details)))
TYPE_KEYS = {
    "keyword": {**nullable({"type": "string"}), "description": "http and https only."},
    "expected_status": {**nullable({"type": "integer", "minimum": 100, "maximum": 599}),
                        "description": "http and https only."},
    "ssl": {**nullable(ref("SslInfo")), "description": "https with ssl_check only; null before a check."},
    "domain": {**nullable(ref("DomainInfo")), "description": "domain only; null before a check."},
    "heartbeat_url": {"type": "string", "pattern": r"^/api/heartbeat/[A-Za-z0-9_-]+$",
                      "description": "heartbeat only: the job calls GET or POST on it (relative, as the "
                                     "contract shows it)."},
    "heartbeat_full_url": {"type": "string", "format": "uri",
                           "pattern": r"^https?://[^/]+(/.*)?/api/heartbeat/[A-Za-z0-9_-]+$",
                           "description": "(ext) heartbeat only: heartbeat_url as an absolute URL, from the "
                                          "public_url setting when set, else from the host the request came to."},
    "grace": {"type": "integer", "minimum": 0, "description": "heartbeat only: seconds of slack."},
}


def _type_conditions() -> list[dict]:
    """For each key that only some types show, the rule that it is present for those and absent
    otherwise (keys shown by the same types share one rule), from the monitor type registry."""
    groups: dict[tuple, list[str]] = {}
    for monitor_type in TYPES.values():
        keys = [(key, None) for key in monitor_type.shown] + list(monitor_type.details.items())
        for key, needs in keys:
            showing = tuple(name for name, t in TYPES.items()
                            if key in t.shown or t.details.get(key, False) == needs)
            groups.setdefault((showing, needs), [])
            if key not in groups[(showing, needs)]:
                groups[(showing, needs)].append(key)
    rules = []
    for (showing, needs), keys in groups.items():
        condition = {"type": {"const": showing[0]} if len(showing) == 1 else {"enum": list(showing)}}
        if needs:
            condition[needs] = {"const": True}
        rules.append(_only_for(condition, keys))
    return rules


MONITOR = obj(
    {
        "id": ID,
        "name": {"type": "string"},
        "type": {"type": "string", "enum": list(MONITOR_TYPES)},
        "target": {**nullable({"type": "string"}), "description": "null for heartbeat monitors."},
        "port": {**nullable({"type": "integer", "minimum": 1, "maximum": 65535}),
                 "description": "tcp (required) and sip (optional) only."},
        "ssl_check": {"type": "boolean"},
        "check_locations": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "interval": {"type": "integer", "minimum": 1, "description": "Seconds between checks."},
        "timeout": {"type": "integer", "minimum": 1, "description": "Seconds."},
        "retries": {"type": "integer", "minimum": 0},
        "recovery_checks": {"type": "integer", "minimum": 1,
                            "description": "(ext) Successes in a row before a down monitor is up again."},
        "reminder_minutes": {**nullable({"type": "integer", "minimum": 5}),
                             "description": "(ext) While down, the down alert is sent again this often."},
        "is_active": {"type": "boolean"},
        "public_status": {"type": "boolean"},
        "group": {**nullable({"type": "string"}),
                  "description": "(ext) " + MONITOR_FIELDS_BY_NAME["group"].description},
        "status": STATUS,
        "response_time": {**nullable(MILLIS), "description": "The latest check's, in ms; null before any."},
        "last_check": nullable(TIMESTAMP),
        "uptime_percentage": {**nullable(PERCENT_2), "description": "Over the last 24 h; null without checks."},
        "location_status": {"type": "object", "additionalProperties": LOCATION_STATUS,
                            "description": "Each checking location's own verdict."},
        "in_maintenance": {"type": "boolean", "description": "(ext) Inside a maintenance window now: "
                                                              "checks go on, no incident opens, no down alert."},
        "created_at": TIMESTAMP,
        **{key: TYPE_KEYS[key] for key in TYPE_KEY_ORDER},
        "last_error": {"type": "string", "description": "Why the latest check failed (active monitors only)."},
    },
    optional=(*TYPE_KEY_ORDER, "last_error"),
    allOf=[
        *_type_conditions(),
        {"if": {"properties": {"is_active": {"const": False}}},
         "then": {"properties": {"status": {"const": "paused"}, "response_time": {"type": "null"},
                                 "location_status": {"maxProperties": 0}},
                  "not": {"required": ["last_error"]}}},
    ],
)

def _document_monitor() -> dict:
    """A monitor in a configuration document: the fields of POST /api/monitors; null for an
    optional one means its default (an export writes every field)."""
    return {**schemas.MonitorCreateBody.model_json_schema(ref_template=REF),
            "description": "The fields of POST /api/monitors; null means the default."}


def _document_window() -> dict:
    """A maintenance window in a configuration document: `monitors` names instead of ids."""
    schema = schemas.MaintenanceBody.model_json_schema(ref_template=REF)
    schema.pop("$defs", None)  # RecurringBody: a component already (POST /api/maintenance)
    schema["properties"].pop("monitor_ids")
    schema["properties"]["monitors"] = {
        "type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 1000, "uniqueItems": True,
        "description": "The names of your monitors, or of monitors the document creates."}
    schema["required"] = ["name", "monitors"]
    return {**schema, "description": "As POST /api/maintenance, with monitor names instead of monitor_ids."}


RESPONSE_SCHEMAS: dict[str, dict] = {
    "Error": obj({"error": {"type": "string", "minLength": 1},
                  "details": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "What is wrong, per field."}},
                 optional=("details",)),
    "User": obj(_USER),
    "CurrentUser": obj(_USER_FULL),
    "AdminUser": obj({**_USER_FULL, "createdAt": TIMESTAMP}),
    "LoginResult": obj({"user": ref("User"), "token": {"type": "string", "description": "A JWT (HS256)."}}),
    "ApiKey": obj({
        "id": ID, "name": {"type": "string"}, "scope": {"type": "string", "enum": ["read", "write"]},
        "prefix": {"type": "string", "description": "The key's first characters, to tell keys apart."},
        "created_at": TIMESTAMP, "last_used_at": nullable(TIMESTAMP),
    }),
    "ApiKeyCreated": obj({
        "id": ID, "name": {"type": "string"}, "scope": {"type": "string", "enum": ["read", "write"]},
        "prefix": {"type": "string"}, "created_at": TIMESTAMP, "last_used_at": nullable(TIMESTAMP),
        "key": {"type": "string", "pattern": r"^sc_[A-Za-z0-9_-]+$",
                "description": "The key, shown only in this answer (stored hashed)."},
    }),
    "PasswordChanged": obj({"message": {"type": "string"},
                            "token": {"type": "string", "description": "A fresh JWT: older ones stop working."}}),
    "Monitor": MONITOR,
    "SslInfo": obj({"valid": nullable({"type": "boolean"}), "expires_at": nullable(TIMESTAMP),
                    "days_left": nullable({"type": "integer"}), "issuer": nullable({"type": "string"}),
                    "error": {"type": "string", "description": "Why the certificate is not valid (only then)."}},
                   optional=("error",)),
    "DomainInfo": obj({"expires_at": nullable(TIMESTAMP), "days_left": nullable({"type": "integer"}),
                       "registrar": nullable({"type": "string"})}, optional=("expires_at", "days_left", "registrar")),
    "HistoryPoint": obj({"checked_at": TIMESTAMP, "status": {"type": "string", "enum": ["up", "down"]},
                         "response_time": nullable(MILLIS), "location": {"type": "string"},
                         "anomaly_score": {**nullable({"type": "number", "minimum": 0, "maximum": 1}),
                                           "description": "The anomaly detector's score of this check, 0 "
                                           "(usual) to 1 (reported as an anomaly); about 0.5 is where a spike "
                                           "or shift is reported at medium sensitivity. Null for failed checks "
                                           "(1 for one that completed a flapping report) and for checks "
                                           "stored before scores existed."}}),
    "MonitorType": obj({
        "name": {"type": "string", "enum": list(MONITOR_TYPES)},
        "summary": {"type": "string", "description": "What up means for this type."},
        "has_target": {"type": "boolean", "description": "false: the monitored job calls us (heartbeat)."},
        "target_hint": {**nullable({"type": "string"}), "description": "What a target looks like."},
        "options": {"type": "array", "items": {"type": "string"}, "description": "The per-type fields it takes."},
        "required": {"type": "array", "items": {"type": "string"}, "description": "Of those, the ones it needs."},
        "defaults": {"type": "object", "description": "Their values when not given."},
        "pushed": {"type": "boolean", "description": "Checked at a deadline, not polled (nor by probes)."},
    }),
    "MonitorHistory": obj({
        "monitor": ref("Monitor"),
        "history": {"type": "array", "items": ref("HistoryPoint"), "description": "Oldest first."},
        "stats": obj({"avg": nullable(MILLIS), "min": nullable(MILLIS), "max": nullable(MILLIS),
                      "uptime": nullable(PERCENT_3)},
                     description="Response times of successful checks; null without data."),
    }),
    "MonitorStats": obj({
        "monitor_id": ID,
        "days": {"type": "integer", "minimum": 1, "maximum": 365},
        "uptime": nullable(PERCENT_3),
        **{name: nullable(MILLIS) for name in ("avg", "min", "max", "p50", "p95", "p99")},
        "checks": {"type": "integer", "minimum": 0},
        "failures": {"type": "integer", "minimum": 0},
        "incidents": {"type": "integer", "minimum": 0},
        "mttr_seconds": {**nullable({"type": "integer", "minimum": 0}),
                         "description": "Mean time to recovery of resolved incidents; null without any."},
        "daily": {"type": "array", "items": obj({"date": DATE, "uptime": nullable(PERCENT_2),
                                                 "avg": nullable(MILLIS),
                                                 "checks": {"type": "integer", "minimum": 0}})},
    }),
    "Incident": obj({
        "id": ID, "monitor_id": ID, "monitor_name": {"type": "string"},
        "started_at": TIMESTAMP, "resolved_at": nullable(TIMESTAMP),
        "status": {"type": "string", "enum": ["ongoing", "resolved"]},
        "duration_seconds": {"type": "integer", "minimum": 0, "description": "Until now while ongoing."},
        "cause": {"type": "string"},
        "locations": {"type": "array", "items": {"type": "string"}, "description": "Where it was seen down."},
    }),
    "IncidentPage": obj({
        "incidents": {"type": "array", "items": ref("Incident"), "description": "Newest first."},
        "total": {"type": "integer", "minimum": 0, "description": "How many match the filters in all."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 200},
        "offset": {"type": "integer", "minimum": 0},
        "next": {**nullable({"type": "string"}),
                 "description": "The next page (same filters, next offset), relative; null on the last page."},
    }),
    "IncidentTimeline": obj({
        "id": ID, "monitor_id": ID, "monitor_name": {"type": "string"},
        "started_at": TIMESTAMP, "resolved_at": nullable(TIMESTAMP),
        "status": {"type": "string", "enum": ["ongoing", "resolved"]},
        "duration_seconds": {"type": "integer", "minimum": 0, "description": "Until now while ongoing."},
        "cause": {"type": "string"},
        "locations": {"type": "array", "items": {"type": "string"}, "description": "Where it was seen down."},
        "timeline": {"type": "array", "items": ref("TimelineEvent"), "description": "Oldest first."},
    }, description="An incident (as in the list) with what happened in it."),
    "TimelineEvent": obj({
        "at": TIMESTAMP,
        "kind": {"type": "string", "enum": ["failing", "down", "reminder", "update", "up", "closed",
                                            "notification"],
                 "description": "failing: a location's failed checks (from its first one; details: checks, "
                                "failures, last_failure_at, errors [{error, count}]); down: confirmed, the "
                                "incident opened (details: cause, locations); reminder: the down alert sent "
                                "again; update: your note for the status page (details: update_id, status); "
                                "up: recovered (details: locations); closed: resolved because the monitor "
                                "was paused; notification: a webhook delivery (details: webhook_id, format, "
                                "event, state, attempts, status_code, error, finished_at)."},
        "message": {"type": "string", "description": "The event in one sentence."},
        "location": {**nullable({"type": "string"}), "description": "For failing: the location."},
        "details": {"type": "object", "description": "What the kind carries (see kind)."},
    }),
    "Health": obj({
        "status": {"const": "ok"},
        "version": {"type": "string"},
        "instance_id": {**nullable({"type": "string"}),
                        "description": "Made once per data dir: tells appliances apart (statuscore doctor "
                                       "compares it with its data dir's); null if the data dir is read-only."},
    }),
    "Anomaly": obj({
        "id": ID, "monitor_id": ID, "monitor_name": {"type": "string"}, "location": {"type": "string"},
        "detected_at": TIMESTAMP,
        "kind": {"type": "string", "enum": ["response_time_spike", "response_time_shift", "flapping"],
                 "description": "A spike or shift with value below baseline is a check (or level) far "
                                "faster than usual, always low severity."},
        "value": {"type": "number", "description": "ms (for flapping: status changes in the window)."},
        "baseline": {"type": "number", "description": "The usual value it is compared with."},
        "severity": {"type": "string", "enum": ["low", "medium", "high"]},
        "message": {"type": "string", "description": "A sentence, e.g. \"Response time 1,840 ms is 9x the usual 200 ms\"."},
        "acknowledged": {"type": "boolean"},
    }),
    "MonitorInsights": obj({
        "incidents": {"type": "array", "items": ref("Incident"), "description": "Most recent first."},
        "anomalies": {"type": "array", "items": ref("Anomaly"), "description": "Most recent first."},
        "anomaly_scores": {"type": "array", "description": "Per location, the anomaly score of its last "
                           "check (see HistoryPoint.anomaly_score), by location.",
                           "items": obj({"location": {"type": "string"}, "checked_at": TIMESTAMP,
                                         "anomaly_score": nullable({"type": "number", "minimum": 0,
                                                                    "maximum": 1})})},
    }),
    # A diagnostics answer still growing: its known keys are typed, others are allowed.
    "EngineStatus": {**obj({
        **{name: {"type": "integer", "minimum": 0} for name in (
            "monitors_scheduled", "checks_completed", "slots_skipped", "backlog", "workers",
            "history_rows_written")},
        **{name: {**nullable({"type": "number", "minimum": 0}), "description": "Scheduling lag, ms."}
           for name in ("lag_p50_ms", "lag_p99_ms", "lag_max_ms")},
        "history_write_error": nullable({"type": "string"}),
        "started_at": TIMESTAMP,
    }), "required": ["started_at"], "additionalProperties": True},
    "HeartbeatAck": obj({"ok": {"const": True},
                         "status": {"type": "string", "enum": ["ok", "failure recorded", "paused"]}}),
    "StatusPageSettings": obj({
        "company_name": {**nullable({"type": "string"}), "description": "The page's title; null until set."},
        "slug": {**nullable({"type": "string", "pattern": schemas.SLUG_PATTERN}),
                 "description": "The page is at /status/<slug>; null: no public page."},
        "url": {**nullable({"type": "string"}), "description": "Where the web page is, e.g. /status/acme."},
        "json_url": {**nullable({"type": "string"}), "description": "Where its JSON is."},
    }),
    "PublicStatus": obj({
        "company_name": {"type": "string"},
        "overall": {"type": "string", "enum": ["operational", "partial_outage", "major_outage", "no_monitors"],
                    "description": "(ext) Over the monitors that are not paused: none down, some, all."},
        "updated_at": {**TIMESTAMP, "description": "(ext) When this answer was assembled (cached a few seconds)."},
        "monitors": {"type": "array", "items": ref("PublicMonitor"), "description": "Public monitors only."},
        "incidents": {"type": "array", "items": ref("PublicIncident"),
                      "description": "Of the public monitors, the last 30 days (ongoing ones always), newest first."},
        "groups": {"type": "array", "items": ref("PublicGroup"),
                   "description": "(ext) The monitors' groups (sections of the page), in the order they are "
                                  "listed; monitors without a group belong to none."},
        "notices": {"type": "array", "items": ref("PublicNotice"),
                    "description": "(ext) Maintenance windows with a notice, on now or due within 30 days, "
                                   "soonest first."},
        "feed_url": {**nullable({"type": "string"}),
                     "description": "(ext) The Atom feed of incidents and notices, e.g. /status/acme/feed.atom."},
    }),
    "PublicMonitor": obj({
        "id": ID, "name": {"type": "string"},
        "type": {"type": "string", "enum": list(MONITOR_TYPES)},
        "status": STATUS,
        "in_maintenance": {"type": "boolean", "description": "(ext) The page says \"Under maintenance\"."},
        "uptime_percentage": {**nullable(PERCENT_2), "description": "Over the last 24 h; null without checks."},
        "uptime_90d": {**nullable(PERCENT_2), "description": "(ext) Over the last 90 days; null without checks."},
        "history": {"type": "array", "minItems": 90, "maxItems": 90,
                    "items": obj({"date": DATE, "uptime": {**nullable(PERCENT_2),
                                                           "description": "null: no checks that day."},
                                  "response_time": {**nullable(MILLIS),
                                                    "description": "(ext) The day's average over successful "
                                                                   "checks; null without any."}}),
                    "description": "One entry per UTC day, the last 90 days, oldest first (today is partial)."},
        "group": {**nullable({"type": "string"}), "description": "(ext) The group (page section) it is listed under."},
        "monitoring_since": {**DATE, "description": "(ext) The UTC day the monitor was created: the page's "
                                                    "bar starts there."},
    }),
    "PublicGroup": obj({
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["operational", "partial_outage", "major_outage", "under_maintenance",
                                              "no_data", "paused"],
                   "description": "The worst of its members: some or all down, else any under maintenance; "
                                  "paused members count for nothing (all paused: paused)."},
        "monitor_ids": {"type": "array", "items": ID, "minItems": 1},
    }),
    "PublicNotice": obj({
        "id": ID, "title": {"type": "string", "description": "The maintenance window's name."},
        "message": {"type": "string", "description": "Its notice."},
        "starts_at": TIMESTAMP, "ends_at": TIMESTAMP,
        "status": {"type": "string", "enum": ["scheduled", "in_progress"]},
        "recurring": {"type": "boolean", "description": "A weekly window: starts_at/ends_at are its next period."},
        "monitor_ids": {"type": "array", "items": ID, "description": "The public monitors it covers."},
        "created_at": TIMESTAMP,
    }),
    "PublicIncident": obj({
        "id": ID, "monitor_id": ID, "monitor_name": {"type": "string"},
        "started_at": TIMESTAMP, "resolved_at": nullable(TIMESTAMP),
        "status": {"type": "string", "enum": ["ongoing", "resolved"]},
        "duration_seconds": {"type": "integer", "minimum": 0, "description": "Until now while ongoing."},
        "updates": {"type": "array", "description": "(ext) The owner's updates, newest first.",
                    "items": obj({"status": ref("IncidentUpdateStatus"), "message": {"type": "string"},
                                  "created_at": TIMESTAMP})},
    }, description="An incident without its cause or locations (an error text can name the target)."),
    "IncidentUpdateStatus": {"type": "string", "enum": list(INCIDENT_UPDATE_STATUSES)},
    "IncidentUpdate": obj({
        "id": ID, "incident_id": ID, "status": ref("IncidentUpdateStatus"),
        "message": {"type": "string"}, "created_at": TIMESTAMP,
    }, description="The owner's note on an incident, shown under it on the public status page and in its feed."),
    "MtrHop": obj({
        "hop": {"type": "integer", "minimum": 1, "description": "Distance (TTL) from the appliance."},
        "host": {"type": "string", "description": "Reverse DNS name, else the address; ??? when it never answered."},
        "address": nullable({"type": "string"}),
        "loss_pct": {"type": "number", "minimum": 0, "maximum": 100},
        "sent": {"type": "integer", "minimum": 0},
        **{name: {**nullable({"type": "number", "minimum": 0}), "description": "Milliseconds; null without answers."}
           for name in ("last", "avg", "best", "worst", "stdev")},
    }),
    "MtrReport": obj({
        "target": {"type": "string", "description": "The host traced: the monitor target's host."},
        "address": {"type": "string", "description": "The address it resolved to."},
        "rounds": {"type": "integer", "minimum": 1, "description": "Rounds completed."},
        "reached": {"type": "boolean", "description": "The last hop is the target itself."},
        "hops": {"type": "array", "items": ref("MtrHop")},
    }),
    "WhoisRecord": obj({
        "target": {"type": "string", "description": "The domain (lowercase) or address asked."},
        "kind": {"type": "string", "enum": ["domain", "ip"]},
        "registrar": nullable({"type": "string"}),
        "creation_date": nullable(TIMESTAMP),
        "expiration_date": {**nullable(TIMESTAMP), "description": "The earliest when the record lists several."},
        "name_servers": {"type": "array", "items": {"type": "string"}},
        "raw": {"type": "string", "description": "Every answer of the referral chain, each after a % <server> line."},
        "network_name": nullable({"type": "string"}),
        "range": nullable({"type": "string"}),
        "organisation": nullable({"type": "string"}),
    }, optional=("network_name", "range", "organisation"),
        allOf=[_only_for({"kind": {"const": "ip"}}, ["network_name", "range", "organisation"])]),
    "Webhook": obj({
        "id": ID,
        "url": {"type": "string", "description": "generic, slack, discord: an http:// or https:// URL (private "
                                                 "addresses allowed). email: mailto: and its recipients. apprise: "
                                                 "only the Apprise URL's scheme (tgram://…): its tokens are "
                                                 "never shown again."},
        "format": {"type": "string", "enum": list(WEBHOOK_FORMATS),
                   "description": "The channel's kind: generic, slack, discord (a POST to url), email (through an "
                                  "SMTP server), apprise (any service an Apprise URL names)."},
        "events": {"type": "array", "items": {"type": "string", "enum": list(WEBHOOK_EVENTS)}, "minItems": 1,
                   "uniqueItems": True},
        "secret": {"type": "string", "pattern": r"^whsec_([0-9a-f]{48}|\*{4}[0-9a-f]{4})$",
                   "description": "Signs generic deliveries: X-StatusCore-Signature: sha256=<hex HMAC of the body>. "
                                  "In full only in the answer that made it (create, or a change with "
                                  "rotate_secret: true); elsewhere masked to its last 4 characters (whsec_****1a2b)."},
        "enabled": {"type": "boolean"},
        "failing": {"type": "boolean", "description": "Set after repeated final failures; cleared by a delivery."},
        "created_at": TIMESTAMP,
        "email": {**ref("EmailSettings"), "description": "email channels only."},
    }, optional=("email",),
        allOf=[{"if": {"properties": {"format": {"const": "email"}}}, "then": {"required": ["email"]},
                "else": {"not": {"required": ["email"]}}}]),
    "EmailSettings": obj({
        "host": {"type": "string"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535,
                 "description": "When not given: 587 for starttls, 465 for tls, 25 for none."},
        "security": {"type": "string", "enum": ["starttls", "tls", "none"]},
        "username": nullable({"type": "string"}),
        "password_set": {"type": "boolean", "description": "The password is write-only: never shown, only "
                                                           "whether one is set."},
        "from": {"type": "string"},
        "to": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    }),
    "WebhookTestResult": obj({
        "delivery_id": ID,
        "delivered": {"type": "boolean", "description": "The receiver answered 2xx (email: the SMTP server "
                                                       "accepted the message; apprise: Apprise delivered it)."},
        "status_code": {**nullable({"type": "integer", "minimum": 100, "maximum": 599}),
                        "description": "null when no answer came (refused, timed out, TLS failed)."},
        "error": nullable({"type": "string"}),
        "duration_ms": MILLIS,
    }),
    "WebhookDelivery": obj({
        "id": ID,
        "uuid": {"type": "string", "description": "Sent as X-StatusCore-Delivery (the same on every retry)."},
        "event": {"type": "string", "enum": [*WEBHOOK_EVENTS, "webhook.test"]},
        "monitor": {**nullable(obj({"id": ID, "name": {"type": "string"}})),
                    "description": "The monitor the event is about, named as it was then; null for a test."},
        "state": {"type": "string", "enum": ["pending", "delivered", "failed"]},
        "attempt_count": {"type": "integer", "minimum": 0},
        "created_at": TIMESTAMP,
        "finished_at": nullable(TIMESTAMP),
        "next_attempt_at": {**nullable(TIMESTAMP), "description": "Only while pending."},
        "last_status_code": nullable({"type": "integer", "minimum": 100, "maximum": 599}),
        "last_error": nullable({"type": "string"}),
        "attempts": {"type": "array", "description": "Oldest first.", "items": obj({
            "at": TIMESTAMP,
            "status_code": nullable({"type": "integer", "minimum": 100, "maximum": 599}),
            "error": nullable({"type": "string"}),
            "duration_ms": MILLIS,
        })},
    }),
    "Probe": obj({
        "id": ID,
        "name": {"type": "string", "pattern": LOCATION_NAME,
                 "description": "The location name monitors use in check_locations; never changes."},
        "display_name": {"type": "string", "description": "Shown to people, e.g. in webhook messages."},
        "online": {"type": "boolean", "description": "Heard from within the configured silence "
                                                     "(STATUSCORE_PROBE_OFFLINE_AFTER)."},
        "last_seen": nullable(TIMESTAMP),
        "created_at": TIMESTAMP,
    }),
    "ProbeRegistered": obj({
        "id": ID, "name": {"type": "string", "pattern": LOCATION_NAME}, "display_name": {"type": "string"},
        "online": {"type": "boolean"}, "last_seen": nullable(TIMESTAMP), "created_at": TIMESTAMP,
        "token": {"type": "string", "pattern": r"^scp_[A-Za-z0-9_-]+$",
                  "description": "The probe's token, shown only in this answer (stored hashed)."},
    }),
    "Location": obj({
        "name": {"type": "string", "pattern": LOCATION_NAME},
        "display_name": {"type": "string"},
        "online": {"type": "boolean", "description": "This appliance's own location is always online."},
        "last_seen": {**nullable(TIMESTAMP), "description": "null: the probe never called in."},
    }),
    "ProbeAssignments": obj({
        "location": {"type": "string", "pattern": LOCATION_NAME, "description": "The token's location."},
        "server_time": {**TIMESTAMP, "description": "The appliance's clock (results more than 60 s "
                                                    "ahead of it are refused)."},
        "refresh_seconds": {"type": "number", "minimum": 1, "maximum": 30,
                            "description": "Call in (ask again) this often: a probe silent for longer "
                                           "than STATUSCORE_PROBE_OFFLINE_AFTER counts as offline."},
        "monitors": {"type": "array", "items": ref("ProbeMonitor")},
    }),
    "ProbeMonitor": obj({
        "id": ID, "name": {"type": "string"},
        "type": {"type": "string", "enum": list(POLLED_TYPES)},
        "target": {"type": "string"},
        "port": nullable({"type": "integer", "minimum": 1, "maximum": 65535}),
        "ssl_check": {"type": "boolean"},
        "interval": {"type": "integer", "minimum": 1},
        "timeout": {"type": "integer", "minimum": 1},
        "retries": {"type": "integer", "minimum": 0},
        "keyword": nullable({"type": "string"}),
        "expected_status": nullable({"type": "integer", "minimum": 100, "maximum": 599}),
    }, description="What to check: a monitor's check settings, without owner or state."),
    "ProbeResultsReport": obj({
        "accepted": {"type": "integer", "minimum": 0, "description": "Stored now."},
        "duplicates": {"type": "integer", "minimum": 0,
                       "description": "Taken before (same id, or not newer than the newest stored)."},
        "rejected": {"type": "array", "description": "Refused for good: not assigned, too old, or "
                                                     "too far in the future; do not resend.",
                     "items": obj({"id": {"type": "string"}, "reason": {"type": "string"}})},
    }),
    "Maintenance": obj({
        "id": ID, "name": {"type": "string"},
        "monitor_ids": {"type": "array", "items": ID},
        "starts_at": {**nullable(TIMESTAMP), "description": "One-off windows."},
        "ends_at": {**nullable(TIMESTAMP), "description": "One-off windows."},
        "recurring": nullable(obj({
            "weekdays": {"type": "array", "items": {"type": "string",
                                                    "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
            "start": {"type": "string", "pattern": r"^\d{2}:\d{2}$", "description": "Wall-clock time in timezone."},
            "duration_minutes": {"type": "integer", "minimum": 1},
            "timezone": {"type": "string", "examples": ["Europe/Berlin"]},
        })),
        "notice": {**nullable({"type": "string"}), "description": "(ext) Announced on the public status page."},
        "active": {"type": "boolean", "description": "Inside the window now."},
        "created_at": TIMESTAMP,
    }),
    "ConfigDocument": {
        "type": "object", "additionalProperties": False,
        "description": "A user's configuration without ids or secrets (GET /api/export, POST /api/import).",
        "properties": {
            "version": {"type": "integer", "const": 1},
            "monitors": nullable({"type": "array", "items": _document_monitor()}),
            "webhooks": nullable({"type": "array", "items": ref("WebhookCreateBody")}),
            "status_page": nullable(ref("StatusPageBody")),
            "maintenance": nullable({"type": "array", "items": _document_window()}),
        },
    },
    "ImportReport": obj({
        "dry_run": {"type": "boolean"},
        **{action: {"type": "array", "items": obj({
            "kind": {"type": "string", "enum": ["monitor", "webhook", "status_page", "maintenance"]},
            "name": {"type": "string"}})} for action in ("created", "updated", "unchanged")},
    }),
    "OpenApiDocument": {"type": "object", "required": ["openapi", "info", "paths"]},
}

PARAMETERS = {
    "MonitorId": {"name": "monitor_id", "in": "path", "required": True,
                  "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "UserId": {"name": "user_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "WebhookId": {"name": "webhook_id", "in": "path", "required": True,
                  "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "ProbeId": {"name": "probe_id", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "WindowId": {"name": "window_id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "IncidentId": {"name": "incident_id", "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "UpdateId": {"name": "update_id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "KeyId": {"name": "key_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "IncidentId": {"name": "incident_id", "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "IncidentMonitor": {"name": "monitor", "in": "query", "required": False,
                        "description": "Only this monitor's incidents (404 when it is not yours).",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "IncidentOpen": {"name": "open", "in": "query", "required": False,
                     "description": "true: only ongoing incidents; false: only resolved ones.",
                     "schema": {"type": "string", "enum": ["true", "false"]}},
    "IncidentSince": {"name": "since", "in": "query", "required": False,
                      "description": "Only incidents going on at or after this time (ISO 8601 with an offset; "
                                     "write + as %2B).",
                      "schema": {"type": "string", "format": "date-time",
                                 "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$",
                                 "examples": ["2024-01-15T10:30:00Z"]}},
    "Limit": {"name": "limit", "in": "query", "required": False, "description": "Page size.",
              "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
    "Offset": {"name": "offset", "in": "query", "required": False, "description": "Items to skip.",
               "schema": {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0}},
    "AnomalyId": {"name": "anomaly_id", "in": "path", "required": True,
                  "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    "HeartbeatToken": {"name": "token", "in": "path", "required": True,
                       "description": "The token at the end of the monitor's heartbeat_url.",
                       "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{8,64}$"}},
    "ExportFormat": {"name": "format", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["json", "yaml"], "default": "json"}},
    "DryRun": {"name": "dry_run", "in": "query", "required": False, "description": "Only report the changes.",
               "schema": {"type": "string", "enum": ["true", "false"], "default": "false"}},
    "Hours": {"name": "hours", "in": "query", "required": False, "description": "How far back, in hours.",
              "schema": {"type": "integer", "minimum": 1, "maximum": 2160, "default": 24}},
    "Days": {"name": "days", "in": "query", "required": False, "description": "How far back, in days.",
             "schema": {"type": "integer", "minimum": 1, "maximum": 365, "default": 30}},
    "Rounds": {"name": "rounds", "in": "query", "required": False, "description": "Traceroute rounds.",
               "schema": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3}},
    "MaxHops": {"name": "max_hops", "in": "query", "required": False, "description": "Longest path traced.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 30, "default": 30}},
    "ProbeTimeout": {"name": "timeout", "in": "query", "required": False,
                     "description": "Seconds each round waits for answers.",
                     "schema": {"type": "number", "minimum": 0.1, "maximum": 5, "default": 1}},
    "WhoisTarget": {"name": "target", "in": "path", "required": True,
                    "description": "A domain name (internationalised ones as xn--) or an IPv4/IPv6 address.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 254}},
    "Slug": {"name": "slug", "in": "path", "required": True, "description": "A status page's slug.",
             "schema": {"type": "string", "pattern": schemas.SLUG_PATTERN}},
}

_ERROR_RESPONSES = {
    400: ("BadRequest", "Malformed or invalid input; `details` names the fields."),
    401: ("Unauthorized", "No token, or a bad, expired or revoked one (or bad credentials at login)."),
    403: ("Forbidden", "Authenticated, but not allowed (e.g. not an administrator)."),
    404: ("NotFound", "No such object, or not yours."),
    409: ("Conflict", "A unique value (e.g. the email) is taken."),
    413: ("PayloadTooLarge", "The request body is larger than 1 MiB."),
    429: ("TooManyRequests", "Rate limited: `{\"error\": \"rate limit exceeded\"}` (a throttled login adds "
                             "`details.login`, a sentence on why), or, for an import or export, one of yours is "
                             "still in progress; retry after Retry-After seconds."),
    502: ("BadGateway", "A server the appliance asked (WHOIS, DNS) failed; the message says which and how."),
    503: ("ServiceUnavailable", "The appliance cannot do this now (too many runs at once, not permitted, or "
                                "its data disk is full: the message says which); with Retry-After when it is "
                                "only busy."),
    504: ("GatewayTimeout", "A server the appliance asked did not answer in time."),
}
_RATE_HEADERS = {
    "Retry-After": {"required": True, "description": "Seconds until the limit resets.",
                    "schema": {"type": "integer", "minimum": 0}},
    "X-RateLimit-Limit": {"schema": {"type": "integer", "minimum": 0}},
    "X-RateLimit-Remaining": {"schema": {"type": "integer", "minimum": 0}},
    "X-RateLimit-Reset": {"description": "When the window resets (Unix time).", "schema": {"type": "integer"}},
}


# ---- the endpoints ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Op:
    method: str
    path: str  # OpenAPI spelling: /api/monitors/{monitor_id}
    operation_id: str
    summary: str
    tag: str
    answer: str | None = None  # component schema of the success body; None: no body
    ok: int = 200
    access: str = "user"  # "public", "user" (any valid token), "admin" or "probe" (a probe token)
    body: type[BaseModel] | None = None
    body_optional: bool = False  # the body may be left out
    raw_body: str | None = None  # a component schema for a body read without a pydantic model
    query: tuple[str, ...] = ()  # components.parameters names
    errors: tuple[int, ...] = ()  # beyond those implied by access, body, path and query
    description: str = ""
    examples: dict | None = None  # request body examples
    list_of_answer: bool = False
    session_only: bool = False  # a login token only: API keys get 403 (server.auth.session_only)
    limited: tuple[str, ...] = ()  # plan limits it may reach (appliance.plans.KINDS): 403

    def statuses(self) -> list[int]:
        codes = set(self.errors) | {429, 503}  # 503: also a store that refuses to write (disk full)
        if self.access != "public":
            codes.add(401)
        if self.access == "admin" or self.session_only or self.limited:
            codes.add(403)
        if self.body is not None or self.raw_body is not None:
            codes |= {400, 413}
        if self.query:
            codes.add(400)
        if "{" in self.path:
            codes.add(404)
        return sorted(codes)


SESSION_ONLY_NOTE = ("Needs a login token: API keys, read or write and whoever owns them, get 403 "
                     "(they never manage users, passwords, keys or probes).")
_HTTPS = {"name": "Website", "type": "https", "target": "https://example.com/health"}
_ONE_TRANSFER_AT_A_TIME = ("One import or export per user at a time (429 with Retry-After while yours is in "
                           "progress), two on the appliance (503 with Retry-After while it is busy).")
OPERATIONS: tuple[Op, ...] = (
    Op("post", "/api/auth/login", "login", "Log in: a token for the Authorization header", "auth",
       "LoginResult", access="public", body=schemas.LoginBody, errors=(401,),
       description="401 with the same message whether or not the email exists. Failed logins are "
                   "also throttled per (account, client address) and per client address, and spaced "
                   "out by seconds per account under attack: a 429 says why in `details.login`, and "
                   "Retry-After when to try again.",
       examples={"login": {"email": "admin@example.com", "password": "correct-horse-battery"}}),
    Op("get", "/api/auth/me", "me", "The logged-in user", "auth", "CurrentUser"),
    Op("get", "/api/auth/keys", "listApiKeys", "Your API keys (without the keys themselves)", "auth", "ApiKey",
       list_of_answer=True, session_only=True),
    Op("post", "/api/auth/keys", "createApiKey", "Create an API key for scripts; the key is shown once",
       "auth", "ApiKeyCreated", ok=201, body=schemas.ApiKeyCreateBody, session_only=True, limited=("api_keys",),
       examples={"ci": {"name": "CI deploy check", "scope": "read"}}),
    Op("delete", "/api/auth/keys/{key_id}", "revokeApiKey", "Revoke an API key at once", "auth", ok=204,
       session_only=True),
    Op("post", "/api/auth/password", "changePassword", "Change your password", "auth", "PasswordChanged",
       body=schemas.PasswordChangeBody, session_only=True,
       description="Tokens issued before stop working; the answer carries a fresh one."),

    Op("get", "/api/monitors", "listMonitors", "Your monitors, with live status", "monitors", "Monitor",
       list_of_answer=True),
    Op("get", "/api/monitors/types", "listMonitorTypes", "(ext) The monitor types and what each takes",
       "monitors", "MonitorType", list_of_answer=True),
    Op("post", "/api/monitors", "createMonitor", "Create a monitor", "monitors", "Monitor", ok=201,
       body=schemas.MonitorCreateBody, limited=("monitors",),
       description="`target` is required except for heartbeat monitors and must suit the type: http → "
                   "http:// URL, https → https:// URL, ping/tcp/sip → host name or IP, tcp → `port` "
                   "required, domain → a registrable domain, sip → host or sip:host[:port].",
       examples={"https": _HTTPS,
                 "tcp": {"name": "Database", "type": "tcp", "target": "db.internal", "port": 5432,
                         "interval": 30, "timeout": 5},
                 "heartbeat": {"name": "Nightly backup", "type": "heartbeat", "interval": 86400, "grace": 600}}),
    Op("get", "/api/monitors/{monitor_id}", "getMonitor", "One monitor", "monitors", "Monitor"),
    Op("put", "/api/monitors/{monitor_id}", "updateMonitor", "Change any of the create fields except type",
       "monitors", "Monitor", body=schemas.MonitorUpdateBody,
       description="`type` is accepted only when unchanged. null for target, port, grace, keyword or "
                   "expected_status clears it (where the type allows); null for ssl_check changes nothing.",
       examples={"rename": {"name": "Website (prod)", "interval": 120}}),
    Op("delete", "/api/monitors/{monitor_id}", "deleteMonitor", "Delete a monitor and all its history",
       "monitors", ok=204),
    Op("patch", "/api/monitors/{monitor_id}/toggle", "toggleMonitor", "Pause or resume checking",
       "monitors", "Monitor", body=schemas.ToggleBody, body_optional=True,
       description="`{\"is_active\": false}` pauses, `{\"is_active\": true}` resumes (either again "
                   "changes nothing); `{}` or no body at all flips the current state. A paused monitor is "
                   "not checked, shows `paused`, and its ongoing incident is closed.",
       examples={"pause": {"is_active": False}, "resume": {"is_active": True}, "flip": {}}),
    Op("patch", "/api/monitors/{monitor_id}/public", "publishMonitor", "Show or hide on the status page",
       "monitors", "Monitor", body=schemas.PublicBody, examples={"show": {"public_status": True}}),
    Op("get", "/api/monitors/{monitor_id}/history", "monitorHistory", "Check results and summary",
       "monitors", "MonitorHistory", query=("Hours",)),
    Op("get", "/api/monitors/{monitor_id}/stats", "monitorStats", "Uptime, response-time percentiles, "
       "incidents and a daily breakdown", "monitors", "MonitorStats", query=("Days",)),
    Op("get", "/api/monitors/{monitor_id}/insights", "monitorInsights", "The monitor's incidents and "
       "anomalies", "monitors", "MonitorInsights"),

    Op("get", "/api/incidents", "listIncidents", "(ext) All your incidents, newest first, a page at a time",
       "monitors", "IncidentPage", query=("IncidentMonitor", "IncidentOpen", "IncidentSince", "Limit", "Offset"),
       errors=(404,),
       description="Filters combine. `next` is the next page's URL (null on the last page); `total` counts "
                   "every match."),
    Op("get", "/api/incidents/{incident_id}", "getIncident", "(ext) One incident and its timeline", "monitors",
       "IncidentTimeline",
       description="The timeline, oldest first: each location's failed checks (from the confirming run "
                   "before the start), the confirmed down, reminders, the recovery (or the pause that "
                   "closed it), every webhook delivery made for them, and your updates (POST "
                   "/api/incidents/{incident_id}/updates). Another user's incident is 404."),
    Op("get", "/api/monitors/anomalies", "listAnomalies", "Unacknowledged anomalies of all your monitors",
       "monitors", "Anomaly", list_of_answer=True, description="Most recent first."),
    Op("post", "/api/monitors/anomalies/{anomaly_id}/acknowledge", "acknowledgeAnomaly",
       "Acknowledge an anomaly (dismiss it from the list)", "monitors", "Anomaly"),

    Op("get", "/api/admin/users", "listUsers", "Every user account", "admin", "AdminUser", access="admin",
       list_of_answer=True, session_only=True),
    Op("post", "/api/admin/users", "createUser", "Create a user account", "admin", "AdminUser", ok=201,
       access="admin", body=schemas.UserCreateBody, errors=(409,), session_only=True,
       examples={"user": {"email": "alice@example.com", "password": "correct-horse-1", "full_name": "Alice",
                          "subscription_tier": "pro", "is_admin": False}}),
    Op("patch", "/api/admin/users/{user_id}", "updateUser", "Change a user account", "admin", "AdminUser",
       access="admin", body=schemas.UserUpdateBody, errors=(409,), session_only=True,
       description="A new password revokes the user's tokens. You cannot remove your own admin rights (400).",
       examples={"tier": {"subscription_tier": "pro"}}),
    Op("delete", "/api/admin/users/{user_id}", "deleteUser", "Delete a user account and all its data",
       "admin", ok=204, access="admin", errors=(400,), session_only=True,
       description="Deleting yourself is refused (400)."),
    Op("get", "/api/admin/backup", "backup", "A consistent backup of both stores (.tar.gz download)",
       "admin", None, access="admin", errors=(409,),
       description="`statuscore backup` calls this. The archive holds the secret: keep it private. "
                   "A read-only API key gets 403 (a login or a write key is needed). With the stores on "
                   "PostgreSQL (STATUSCORE_DATABASE_URL) it answers 409: back the database up with pg_dump."),
    Op("get", "/api/admin/engine", "engineStatus", "How the check engine keeps up", "admin", "EngineStatus",
       access="admin"),

    Op("get", "/api/heartbeat/{token}", "heartbeat", "A job reports that it ran", "heartbeat",
       "HeartbeatAck", access="public",
       description="No login: the token is the credential. Limited per token."),
    Op("post", "/api/heartbeat/{token}", "heartbeatPost", "A job reports that it ran (POST)", "heartbeat",
       "HeartbeatAck", access="public"),
    Op("get", "/api/heartbeat/{token}/fail", "heartbeatFail", "A job reports that it failed: down at once",
       "heartbeat", "HeartbeatAck", access="public"),
    Op("post", "/api/heartbeat/{token}/fail", "heartbeatFailPost", "A job reports that it failed (POST)",
       "heartbeat", "HeartbeatAck", access="public"),

    Op("get", "/api/settings/status-page", "getStatusPage", "Your public status page's settings", "status page",
       "StatusPageSettings"),
    Op("put", "/api/settings/status-page", "setStatusPage", "Set up (or turn off) your public status page",
       "status page", "StatusPageSettings", body=schemas.StatusPageBody, errors=(409,),
       description="`slug`: 3-50 lowercase letters, digits and hyphens, unique on the appliance (409 when "
                   "taken); null turns the page off. Mark monitors for it with PATCH /api/monitors/{id}/public.",
       examples={"acme": {"company_name": "Acme Inc.", "slug": "acme"}}),
    Op("get", "/api/public/status/{slug}", "publicStatus", "A public status page's data (no login)", "status page",
       "PublicStatus", access="public",
       description="Only monitors marked public; never a target, token or private field; incidents without "
                   "their cause. Cached for a few seconds. The same as a web page: GET /status/{slug}; a "
                   "badge per monitor: GET /status/{slug}/badge/{monitor_id}.svg; an Atom feed of its "
                   "incidents, their updates and maintenance notices: GET /status/{slug}/feed.atom."),
    Op("get", "/api/incidents/{incident_id}/updates", "listIncidentUpdates", "The updates you posted on an "
       "incident", "status page", "IncidentUpdate", list_of_answer=True, description="Newest first."),
    Op("post", "/api/incidents/{incident_id}/updates", "postIncidentUpdate", "Tell status page visitors where "
       "an incident stands", "status page", "IncidentUpdate", ok=201, body=schemas.IncidentUpdateBody,
       description="Shown under the incident on the public status page and in its Atom feed (when the "
                   "monitor is public). The incident still opens and resolves by the checks. At most 100 "
                   "updates per incident.",
       examples={"investigating": {"status": "investigating",
                                   "message": "The database is not answering; we are on it."}}),
    Op("delete", "/api/incidents/{incident_id}/updates/{update_id}", "deleteIncidentUpdate",
       "Delete an update you posted", "status page", ok=204),
    Op("get", "/api/monitors/{monitor_id}/mtr", "monitorMtr", "MTR report to the monitor's target (pro)",
       "tools", "MtrReport", query=("Rounds", "MaxHops", "ProbeTimeout"), errors=(403, 502, 503),
       description="Several traceroute rounds to the host of the monitor's target (URL, host:port, sip "
                   "and plain hosts; heartbeat monitors have none: 400). 403 `MTR is a premium feature` "
                   "for free users. Limited per user (default 10/minute); 503 when too many runs are in "
                   "progress or raw ICMP sockets are not permitted (root or CAP_NET_RAW)."),
    Op("get", "/api/monitors/tools/whois/{target}", "whois", "WHOIS for a domain or an IP address", "tools",
       "WhoisRecord", errors=(400, 502, 504),
       description="Follows the referrals IANA → registry → registrar (addresses: → regional registry). "
                   "Dates are UTC; answers are cached for hours. 400 for anything that is not a domain "
                   "name or an IP address, 404 when the registry has no record."),
    Op("get", "/api/settings/webhooks", "listWebhooks", "Your webhooks", "webhooks", "Webhook",
       list_of_answer=True),
    Op("post", "/api/settings/webhooks", "createWebhook", "Add a webhook: a receiver of monitor events",
       "webhooks", "Webhook", ok=201, body=schemas.WebhookCreateBody, limited=("webhooks",),
       description="A notification channel. On every subscribed event a message goes out in its `format`: "
                   "a POST to `url` for generic (the seed's JSON plus cause, incident_id, duration_seconds "
                   "and link; signed with X-StatusCore-Signature), slack (attachments and blocks) or discord "
                   "(embeds); an e-mail through the SMTP server in `email` (no `url`; the password is "
                   "write-only); or a message through Apprise for apprise (`url` is an Apprise URL such as "
                   "tgram://, msteams://, pagerduty://, ntfy://, gotify://, pover://, matrix://; 400 names "
                   "what Apprise cannot read; shown as scheme://… afterwards). Failed deliveries of every kind "
                   "are retried with backoff. The secret is generated and shown in full in this answer only.",
       examples={"slack": {"url": "https://hooks.slack.com/services/T000/B000/XXXX", "format": "slack",
                           "events": ["monitor.down", "monitor.up"]},
                 "email": {"format": "email", "events": ["monitor.down", "monitor.up"],
                           "email": {"host": "smtp.example.com", "port": 587, "security": "starttls",
                                     "username": "alerts@example.com", "password": "app-password",
                                     "from": "alerts@example.com", "to": ["ops@example.com"]}},
                 "apprise": {"format": "apprise", "url": "ntfy://ntfy.example.com/statuscore-alerts"}}),
    Op("put", "/api/settings/webhooks/{webhook_id}", "updateWebhook", "Change a webhook", "webhooks",
       "Webhook", body=schemas.WebhookUpdateBody,
       description="Omitted fields stay as they are; null is refused. `email` is merged into the channel's "
                   "settings (the password stays unless given). A channel moved to another kind brings what "
                   "that kind needs (`url` or `email`). `rotate_secret: true` generates a new secret, shown "
                   "in full in this answer only.",
       examples={"pause": {"enabled": False}, "rotate": {"rotate_secret": True}}),
    Op("delete", "/api/settings/webhooks/{webhook_id}", "deleteWebhook", "Delete a webhook and its log",
       "webhooks", ok=204),
    Op("post", "/api/settings/webhooks/{webhook_id}/test", "testWebhook", "Send a test message now",
       "webhooks", "WebhookTestResult",
       description="Sends one `webhook.test` event through the channel, whatever its kind (no retry), and "
                   "says what came of it: status_code for the HTTP kinds, null for email and apprise; kept in "
                   "the delivery log."),
    Op("get", "/api/settings/webhooks/{webhook_id}/deliveries", "webhookDeliveries",
       "The webhook's latest deliveries (newest first) with every attempt", "webhooks", "WebhookDelivery",
       list_of_answer=True),

    Op("get", "/api/locations", "listLocations", "Where monitors are checked from, online or not", "locations",
       "Location", list_of_answer=True,
       description="This appliance's own location first (always online), then the registered probes. "
                   "A probe is offline after STATUSCORE_PROBE_OFFLINE_AFTER seconds without a call; an "
                   "offline location neither counts as down nor blocks a verdict."),
    Op("get", "/api/admin/probes", "listProbes", "The registered remote probes", "locations", "Probe",
       access="admin", list_of_answer=True, session_only=True),
    Op("post", "/api/admin/probes", "registerProbe", "Register a remote probe: its token, shown once",
       "locations", "ProbeRegistered", ok=201, access="admin", body=schemas.ProbeCreateBody, errors=(409,),
       session_only=True,
       description="`name` (lowercase letters, digits, hyphens) is the location name monitors use in "
                   "check_locations; 409 when a probe has it or it is this appliance's own location. Run "
                   "the probe with `statuscore probe --server URL --token TOKEN --location NAME`.",
       examples={"frankfurt": {"name": "eu-frankfurt", "display_name": "EU (Frankfurt)"}}),
    Op("patch", "/api/admin/probes/{probe_id}", "renameProbe", "Change a probe's display name", "locations",
       "Probe", access="admin", body=schemas.ProbeUpdateBody, session_only=True,
       examples={"rename": {"display_name": "EU-Central (Frankfurt)"}}),
    Op("delete", "/api/admin/probes/{probe_id}", "revokeProbe", "Revoke a probe: its token stops working",
       "locations", ok=204, access="admin", session_only=True,
       description="At once: the probe's next call gets 401 (it keeps its results spooled). The results "
                   "it stored stay in the history."),
    Op("get", "/api/probe/assignments", "probeAssignments", "For probes: the monitors to check",
       "probe", "ProbeAssignments", access="probe",
       description="Called by `statuscore probe` with its own token (not a login): the active monitors "
                   "whose check_locations include its location or `all` (heartbeats excepted)."),
    Op("post", "/api/probe/results", "probeResults", "For probes: deliver check results", "probe",
       "ProbeResultsReport", access="probe", body=schemas.ProbeResultsBody,
       description="Results in check order, each with an id. Deduplicated on the id and on the newest "
                   "stored check time per monitor, so a batch sent twice is stored once. Results for "
                   "monitors not assigned to the location, older than STATUSCORE_PROBE_MAX_AGE or more "
                   "than 60 s ahead of the appliance's clock are rejected (listed, not an error).",
       examples={"one": {"results": [{"id": "5f0c6e2b9d0a4e8f", "monitor_id": 1,
                                      "checked_at": "2024-01-15T10:30:00.000Z", "up": True,
                                      "response_time": 145.2, "error": None}]}}),
    Op("get", "/api/maintenance", "listMaintenance", "Your maintenance windows", "maintenance", "Maintenance",
       list_of_answer=True),
    Op("post", "/api/maintenance", "createMaintenance", "Add a maintenance window (one-off or weekly)",
       "maintenance", "Maintenance", ok=201, body=schemas.MaintenanceBody, limited=("maintenance_windows",),
       description="During a window checks go on and are stored, but no incident opens and no down alert "
                   "is sent; the status page says \"under maintenance\".",
       examples={"one-off": {"name": "DB upgrade", "monitor_ids": [1], "starts_at": "2030-01-15T22:00:00Z",
                             "ends_at": "2030-01-15T23:00:00Z"},
                 "weekly": {"name": "Backups", "monitor_ids": [1], "recurring": {
                     "weekdays": ["sun"], "start": "02:00", "duration_minutes": 60, "timezone": "Europe/Berlin"}}}),
    Op("get", "/api/maintenance/{window_id}", "getMaintenance", "One maintenance window", "maintenance",
       "Maintenance"),
    Op("put", "/api/maintenance/{window_id}", "updateMaintenance", "Change a maintenance window", "maintenance",
       "Maintenance", body=schemas.MaintenanceUpdateBody),
    Op("delete", "/api/maintenance/{window_id}", "deleteMaintenance", "Delete a maintenance window",
       "maintenance", ok=204),
    Op("get", "/api/export", "exportConfiguration", "Your configuration as JSON or YAML (no ids, no secrets)",
       "configuration", "ConfigDocument", query=("ExportFormat",),
       description=_ONE_TRANSFER_AT_A_TIME),
    Op("post", "/api/import", "importConfiguration", "Apply a configuration: create or update by name, "
       "never delete", "configuration", "ImportReport", query=("DryRun",), raw_body="ConfigDocument", errors=(409,),
       limited=("monitors", "webhooks", "maintenance_windows"),
       description="The body is JSON, or YAML with Content-Type application/yaml (no anchors or aliases), "
                   "of at most 1 MiB, 150,000 values and 32 levels of nesting (400 beyond). Monitors and "
                   "maintenance windows are matched by name, webhooks by URL. The whole document is checked "
                   "first, so a dry run answers what the real run would; the real run changes everything or "
                   "nothing (409 when your configuration changed meanwhile, or the status page slug is "
                   "another user's); importing it again changes nothing. " + _ONE_TRANSFER_AT_A_TIME),
    Op("get", "/api/openapi.json", "openapi", "This document", "meta", "OpenApiDocument", access="public"),
    Op("get", "/api/health", "health", "(ext) Serving? Which version and which data dir's appliance", "meta",
       "Health", access="public",
       description="No login. `instance_id` tells appliances apart: `statuscore doctor` compares it with its "
                   "data dir's to say whether the appliance on the port is this data dir's."),
)

_PATH_PARAMETERS = {"{monitor_id}": "MonitorId", "{user_id}": "UserId", "{token}": "HeartbeatToken",
                    "{anomaly_id}": "AnomalyId", "{incident_id}": "IncidentId", "{key_id}": "KeyId", "{window_id}": "WindowId",
                    "{webhook_id}": "WebhookId", "{probe_id}": "ProbeId",
                    "{incident_id}": "IncidentId", "{update_id}": "UpdateId",
                    "{target}": "WhoisTarget",
                    "{slug}": "Slug"}


def _json(schema: dict, examples: dict | None = None) -> dict:
    media = {"schema": schema}
    if examples:
        media["examples"] = {name: {"value": value} for name, value in examples.items()}
    return {"content": {"application/json": media}}


def _limit_note(kinds: tuple[str, ...]) -> str:
    if not kinds:
        return ""
    names = [LIMITED_KINDS[kind] for kind in kinds]
    what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return (f"403 when it would take you past your plan's limit of {what} (the message names the limit "
            "and the setting that raises it; administrators have the pro limits).")


def _operation(op: Op) -> dict:
    out: dict = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    description = " ".join(filter(None, (op.description, SESSION_ONLY_NOTE if op.session_only else "",
                                         _limit_note(op.limited))))
    if description:
        out["description"] = description
    if op.session_only:
        out["x-session-only"] = True
    out["security"] = ([] if op.access == "public" else
                       [{PROBE_SECURITY_SCHEME: []}] if op.access == "probe" else [{SECURITY_SCHEME: []}])
    if op.query:
        out["parameters"] = [{"$ref": f"#/components/parameters/{name}"} for name in op.query]
    if op.body is not None:
        out["requestBody"] = {"required": not op.body_optional, **_json(ref(op.body.__name__), op.examples)}
    elif op.raw_body is not None:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": ref(op.raw_body)},
            "application/yaml": {"schema": {**ref(op.raw_body), "description": "The same document in YAML."}}}}
    success: dict = {"description": "OK" if op.ok == 200 else ("Created" if op.ok == 201 else "No content")}
    if op.answer is not None:
        schema = ref(op.answer)
        success.update(_json({"type": "array", "items": schema} if op.list_of_answer else schema))
    responses = {str(op.ok): success}
    for code in op.statuses():
        responses[str(code)] = {"$ref": f"#/components/responses/{_ERROR_RESPONSES[code][0]}"}
    out["responses"] = responses
    return out


# ---- request bodies -----------------------------------------------------------------------------

# The models let an explicit null through for these optional fields, and the views refuse it
# (400: null is a wrong type, never "unchanged"); the document says what the API accepts.
NULL_REFUSED: dict[str, tuple[str, ...] | None] = {
    "MonitorCreateBody": MONITOR_NOT_NULL,
    "MonitorUpdateBody": MONITOR_NOT_NULL,
    "UserUpdateBody": None,  # every field (admin.update_user)
}


def request_schema(model: type[BaseModel]) -> dict:
    """The model's JSON Schema, as the document shows it (nested models stay in $defs)."""
    schema = model.model_json_schema(ref_template=REF)
    if model.__name__ in NULL_REFUSED:
        names = NULL_REFUSED[model.__name__] or tuple(schema["properties"])
        for name in names:
            schema["properties"][name] = _not_null(schema["properties"][name])
    return schema


def _not_null(prop: dict) -> dict:
    """`{"anyOf": [X, {"type": "null"}], "default": null, ...}` -> X with the rest, no default."""
    branches = prop.get("anyOf")
    if not branches or {"type": "null"} not in branches:
        return prop
    rest = [branch for branch in branches if branch != {"type": "null"}]
    out = {key: value for key, value in prop.items() if key not in ("anyOf", "default")}
    return {**(rest[0] if len(rest) == 1 else {"anyOf": rest}), **out}


def _request_schemas() -> dict[str, dict]:
    """The request models' schemas, their nested models ($defs) lifted into components."""
    out: dict[str, dict] = {}
    for model in dict.fromkeys(op.body for op in OPERATIONS if op.body is not None):
        schema = request_schema(model)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


@cache
def build_document() -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        item = paths.setdefault(op.path, {})
        params = [{"$ref": f"#/components/parameters/{name}"}
                  for placeholder, name in _PATH_PARAMETERS.items() if placeholder in op.path]
        if params:
            item["parameters"] = params
        item[op.method] = _operation(op)
    paths["/api/export"]["get"]["responses"]["200"]["content"]["application/yaml"] = {
        "schema": {"description": "With format=yaml: the same document in YAML."}}
    responses = {}
    for code, (name, text) in _ERROR_RESPONSES.items():
        responses[name] = {"description": text, **_json(ref("Error"))}
    responses["TooManyRequests"]["headers"] = _RATE_HEADERS
    responses["ServiceUnavailable"]["headers"] = {"Retry-After": {
        "required": False, "description": "Seconds to wait before trying again (when the appliance is busy).",
        "schema": {"type": "integer", "minimum": 0}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StatusCore",
            "version": __version__,
            "description": "The API of a self-hosted StatusCore appliance. JSON in and out; timestamps are "
                           "ISO 8601 UTC with Z; errors are `{\"error\": ..., \"details\"?: {field: problem}}`. "
                           "Unknown JSON fields and wrong types are rejected with 400. Every user sees only "
                           "their own monitors.",
        },
        "tags": [{"name": name} for name in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": paths,
        "components": {
            "securitySchemes": {SECURITY_SCHEME: {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT or sc_ API key",
                "description": "The token from POST /api/auth/login, or an API key from POST /api/auth/keys "
                               "(`sc_...`; a read key gets 403 on any write), as `Authorization: Bearer <token>`."},
                PROBE_SECURITY_SCHEME: {
                    "type": "http", "scheme": "bearer", "bearerFormat": "scp_ probe token",
                    "description": "A remote probe's token from POST /api/admin/probes, as "
                                   "`Authorization: Bearer scp_...`; only for /api/probe/*."}},
            "parameters": PARAMETERS,
            "responses": responses,
            "schemas": {**_request_schemas(), **RESPONSE_SCHEMAS},
        },
    }
