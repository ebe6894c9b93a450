"""An in-memory stand-in for ApiClient with fixed data, for the snapshot tests only: they test how
screens render, so the data and the clock must never change. Behaviour tests use a real server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from appliance.monitor_types import TYPES
from console.client import ApiError
from server.serialize import monitor_type_json

NOW = datetime(2024, 1, 15, 12, 0, 0, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _monitor(id, name, type, target, status, rt, uptime, seconds_ago, **extra):
    return {
        "id": id, "name": name, "type": type, "target": target, "port": extra.pop("port", None),
        "ssl_check": type == "https", "check_locations": ["all"], "interval": 60, "timeout": 10, "retries": 1,
        "is_active": status != "paused", "public_status": extra.pop("public_status", False),
        "status": status, "response_time": rt,
        "last_check": iso(NOW - timedelta(seconds=seconds_ago)) if seconds_ago is not None else None,
        "uptime_percentage": uptime,
        "location_status": extra.pop("location_status", {"local": status} if status in ("up", "down") else {}),
        "created_at": "2024-01-01T00:00:00Z", **extra,
    }


MONITORS = [
    _monitor(1, "Website", "https", "https://www.example.com", "up", 145, "99.95", 12, public_status=True,
             ssl={"valid": True, "expires_at": "2024-03-01T00:00:00Z", "days_left": 45, "issuer": "Example CA"},
             location_status={"local": "up", "eu-frankfurt": "up"}, keyword=None, expected_status=None,
             recovery_checks=2, reminder_minutes=30),
    _monitor(2, "Production API", "https", "https://api.example.com/health", "down", None, "97.20", 5,
             last_error="HTTP 503 from https://api.example.com/health",
             ssl={"valid": True, "expires_at": "2024-02-01T00:00:00Z", "days_left": 17, "issuer": "Example CA"},
             location_status={"local": "down", "eu-frankfurt": "down"}, keyword=None, expected_status=None),
    _monitor(3, "Database", "tcp", "db.internal", "up", 2, "100.00", 30, port=5432, in_maintenance=True),
    _monitor(4, "Mail relay", "ping", "127.0.2.25", "pending", None, None, None),
    _monitor(5, "Nightly backup", "heartbeat", None, "paused", None, "99.10", 7200,
             heartbeat_url="/api/heartbeat/abcdefgh12345678", grace=600),
    _monitor(6, "Phones", "sip", "sip:pbx.example.com:5060", "up", 38, "99.99", 45, port=5060),
]


def _history(monitor_id: int, hours: int) -> list[dict]:
    points = []
    start = NOW - timedelta(hours=hours)
    steps = 240
    for i in range(steps):
        at = start + timedelta(seconds=(i + 0.5) * hours * 3600 / steps)
        down = 150 <= i < 156
        rt = None if down else 120 + (i * 37) % 60 + (180 if i in (60, 61, 200) else 0)
        points.append({"checked_at": iso(at), "status": "down" if down else "up", "response_time": rt,
                       "location": "local"})
    return points


ANOMALIES = [
    {"id": 11, "monitor_id": 1, "monitor_name": "Website", "location": "local",
     "detected_at": "2024-01-15T09:10:00Z", "kind": "response_time_spike", "value": 410.0, "baseline": 140.0,
     "severity": "high", "message": "Response time 410 ms, 2.9× the usual 140 ms", "acknowledged": False},
    {"id": 12, "monitor_id": 2, "monitor_name": "Production API", "location": "local",
     "detected_at": "2024-01-15T11:30:00Z", "kind": "flapping", "value": 6.0, "baseline": 0.0,
     "severity": "warning", "message": "6 status changes in 30 minutes", "acknowledged": False},
]

INCIDENTS = [
    {"id": 7, "monitor_id": 1, "monitor_name": "Website", "started_at": "2024-01-15T06:00:00Z",
     "resolved_at": "2024-01-15T06:09:00Z", "status": "resolved", "duration_seconds": 540,
     "cause": "HTTP 502", "locations": ["local"]},
]

USERS = [
    {"id": 1, "email": "admin@example.com", "fullName": "Administrator", "subscriptionTier": "pro",
     "isAdmin": True, "statusPageSlug": "example", "createdAt": "2024-01-01T00:00:00Z"},
    {"id": 2, "email": "alice@example.com", "fullName": "Alice", "subscriptionTier": "pro", "isAdmin": False,
     "statusPageSlug": None, "createdAt": "2024-01-02T09:00:00Z"},
    {"id": 3, "email": "bob@example.com", "fullName": "Bob", "subscriptionTier": "free", "isAdmin": False,
     "statusPageSlug": None, "createdAt": "2024-01-03T09:00:00Z"},
]

WEBHOOKS = [
    {"id": 1, "url": "https://hooks.slack.com/services/T000/B000/XXXX", "format": "slack",
     "events": ["monitor.down", "monitor.up"], "secret": "s3cret", "enabled": True},
    {"id": 2, "url": "https://ops.example.com/statuscore", "format": "generic", "events": ["monitor.down"],
     "secret": "s3cret", "enabled": False},
]


MAINTENANCE = [
    {"id": 1, "name": "Database upgrade", "monitor_ids": [3], "starts_at": "2024-01-15T11:00:00Z",
     "ends_at": "2024-01-15T13:00:00Z", "recurring": None, "active": True, "created_at": "2024-01-14T10:00:00Z"},
    {"id": 2, "name": "Sunday patching", "monitor_ids": [1, 2, 3, 6], "starts_at": None, "ends_at": None,
     "recurring": {"weekdays": ["sun"], "start": "02:00", "duration_minutes": 90, "timezone": "Europe/Berlin"},
     "active": False, "created_at": "2024-01-02T10:00:00Z"},
    {"id": 3, "name": "Router swap", "monitor_ids": [2], "starts_at": "2024-01-10T22:00:00Z",
     "ends_at": "2024-01-11T01:30:00Z", "recurring": None, "active": False, "created_at": "2024-01-09T10:00:00Z"},
]

API_KEYS = [
    {"id": 1, "name": "prometheus", "scope": "read", "prefix": "sc_Xb12Yz9", "created_at": "2024-01-02T09:00:00Z",
     "last_used_at": "2024-01-15T11:59:30Z"},
    {"id": 2, "name": "deploy-script", "scope": "write", "prefix": "sc_Q7pLm3a", "created_at": "2024-01-10T16:20:00Z",
     "last_used_at": None},
]
NEW_KEY = "sc_N3wK3yOnlyShownOnce_0123456789abcdefghijkl"

METRICS = """\
# HELP statuscore_monitor_up 1 if the monitor is up, 0 if down (location=all: the verdict).
# TYPE statuscore_monitor_up gauge
statuscore_monitor_up{monitor_id="1",name="Website",type="https",location="all"} 1
statuscore_monitor_up{monitor_id="2",name="Production API",type="https",location="all"} 0
statuscore_monitor_up{monitor_id="3",name="Database",type="tcp",location="all"} 1
# HELP statuscore_monitor_response_time_ms The latest check's response time in ms.
# TYPE statuscore_monitor_response_time_ms gauge
statuscore_monitor_response_time_ms{monitor_id="1",name="Website",type="https",location="local"} 145
statuscore_monitor_response_time_ms{monitor_id="3",name="Database",type="tcp",location="local"} 2
# HELP statuscore_monitor_uptime_ratio Share of successful checks.
# TYPE statuscore_monitor_uptime_ratio gauge
statuscore_monitor_uptime_ratio{monitor_id="1",name="Website",type="https",window="24h"} 0.9995
statuscore_monitor_uptime_ratio{monitor_id="2",name="Production API",type="https",window="24h"} 0.972
# HELP statuscore_monitor_in_maintenance 1 inside a maintenance window.
# TYPE statuscore_monitor_in_maintenance gauge
statuscore_monitor_in_maintenance{monitor_id="3",name="Database",type="tcp"} 1
# HELP statuscore_checks_total Checks run.
# TYPE statuscore_checks_total counter
statuscore_checks_total 43210
"""

IMPORT_REPORT = {
    "created": [{"kind": "monitor", "name": "Shop"}, {"kind": "maintenance", "name": "Shop migration"}],
    "updated": [{"kind": "monitor", "name": "Website"}],
    "unchanged": [{"kind": "monitor", "name": "Database"},
                  {"kind": "webhook", "name": "https://ops.example.com/statuscore"},
                  {"kind": "status_page", "name": "example"}],
}


class FakeClient:
    """Implements the ApiClient methods the screens call, with the fixed data above."""

    def __init__(self, server_url: str = "http://appliance.example:8080", token: str | None = "fake-token"):
        self.server_url = server_url
        self.token = token
        self.user = None
        self.updates: list[dict] = []  # incident updates posted

    # session
    def load_token(self, _path) -> bool:
        return bool(self.token)

    def save_token(self, path):
        return path

    def login(self, email, password):
        if password != "correct-horse-1":
            raise ApiError(401, "Invalid email or password.")
        self.token = "fake-token"
        return USERS[0]

    def logout(self):
        self.token = None

    def me(self):
        return dict(USERS[0])

    # monitors
    def monitor_types(self):
        return [monitor_type_json(t) for t in TYPES.values()]

    def list_monitors(self):
        return [dict(m) for m in MONITORS]

    def get_monitor(self, monitor_id):
        for monitor in MONITORS:
            if monitor["id"] == monitor_id:
                return dict(monitor)
        raise ApiError(404, "monitor not found")

    def history(self, monitor_id, hours=24):
        return {"monitor": self.get_monitor(monitor_id), "history": _history(monitor_id, hours),
                "stats": {"avg": 152, "min": 120, "max": 359, "uptime": "97.5"}}

    def stats(self, monitor_id, days=30):
        return {"monitor_id": monitor_id, "days": days, "uptime": "99.91", "avg": 150, "min": 98, "max": 2210,
                "p50": 141, "p95": 230, "p99": 410, "checks": 43200, "failures": 39, "incidents": 3,
                "mttr_seconds": 420, "daily": []}

    def insights(self, monitor_id):
        return {"incidents": [i for i in INCIDENTS if i["monitor_id"] == monitor_id],
                "anomalies": [a for a in ANOMALIES if a["monitor_id"] == monitor_id]}

    def incident_updates(self, incident_id):
        return [u for u in self.updates if u["incident_id"] == incident_id]

    def post_incident_update(self, incident_id, status, message):
        if not message.strip():
            raise ApiError(400, "Invalid incident update: message must not be empty.", {"message": "must not be empty"})
        update = {"id": len(self.updates) + 1, "incident_id": incident_id, "status": status, "message": message,
                  "created_at": "2024-01-15T10:30:00Z"}
        self.updates.append(update)
        return update

    def create_monitor(self, fields=None, **more):
        fields = {**(fields or {}), **more}
        details = {}
        if fields.get("type") in ("http", "https") and not str(fields.get("target", "")).startswith(fields["type"]):
            details["target"] = f"must be a URL starting with {fields['type']}://"
        if details:
            raise ApiError(400, f"Invalid monitor: target: {details['target']}.", details)
        return {**MONITORS[0], **fields, "id": 99}

    # the rest
    def anomalies(self):
        return [dict(a) for a in ANOMALIES]

    def acknowledge_anomaly(self, anomaly_id):
        return {**next(a for a in ANOMALIES if a["id"] == anomaly_id), "acknowledged": True}

    def list_users(self):
        return [dict(u) for u in USERS]

    def list_locations(self):
        return [{"name": "local", "display_name": "Local", "online": True, "last_seen": iso(NOW)},
                {"name": "eu-frankfurt", "display_name": "EU (Frankfurt)", "online": False,
                 "last_seen": iso(NOW - timedelta(minutes=14))}]

    def list_probes(self):
        return [{"id": 1, "name": "eu-frankfurt", "display_name": "EU (Frankfurt)", "online": False,
                 "last_seen": iso(NOW - timedelta(minutes=14)), "created_at": "2024-01-02T00:00:00Z"}]

    def engine_status(self):
        return {"monitors_scheduled": 6, "checks_completed": 43210, "backlog": 0, "workers": 64,
                "lag_p50_ms": 0.4, "lag_p99_ms": 2.1, "started_at": "2024-01-15T00:00:00Z"}

    def list_webhooks(self):
        return [dict(w) for w in WEBHOOKS]

    def get_status_page(self):
        return {"company_name": "Example Ltd", "slug": "example"}

    def webhook_deliveries(self, webhook_id):
        return []

    def whois(self, target):
        return {"target": target, "kind": "domain", "registrar": "Example Registrar, Inc.",
                "creation_date": "1995-08-14T04:00:00Z", "expiration_date": "2025-08-13T04:00:00Z",
                "name_servers": ["a.iana-servers.net", "b.iana-servers.net"],
                "raw": "Domain Name: EXAMPLE.COM\nRegistrar: Example Registrar, Inc.\n"}

    # maintenance windows
    def list_maintenance(self):
        return [dict(w) for w in MAINTENANCE]

    def _check_window(self, fields):
        zone = (fields.get("recurring") or {}).get("timezone")
        if zone is not None and zone not in ("UTC", "Europe/Berlin"):
            details = {"recurring.timezone": "is not a known time zone (like Europe/Berlin or UTC)"}
            raise ApiError(400, "Invalid maintenance window: recurring.timezone is not a known time zone "
                                "(like Europe/Berlin or UTC).", details)

    def create_maintenance(self, fields):
        self._check_window(fields)
        return {"id": 9, "active": False, "starts_at": None, "ends_at": None, "recurring": None, **fields}

    def update_maintenance(self, window_id, fields):
        self._check_window(fields)
        return {**next(w for w in MAINTENANCE if w["id"] == window_id), **fields}

    def delete_maintenance(self, window_id):
        return None

    # API keys
    def list_api_keys(self):
        return [dict(k) for k in API_KEYS]

    def create_api_key(self, name, scope="read"):
        return {"id": 3, "name": name, "scope": scope, "prefix": NEW_KEY[:10], "created_at": iso(NOW),
                "last_used_at": None, "key": NEW_KEY}

    def delete_api_key(self, key_id):
        return None

    # export, import, metrics
    def export(self, format="json"):
        document = {"version": 1, "monitors": [{"name": m["name"], "type": m["type"]} for m in MONITORS],
                    "webhooks": [{"url": w["url"]} for w in WEBHOOKS], "status_page": {"slug": "example"},
                    "maintenance": [{"name": w["name"]} for w in MAINTENANCE]}
        if format == "json":
            return document
        import yaml
        return yaml.safe_dump(document, sort_keys=False)

    def import_text(self, text, format="yaml", dry_run=True):
        return {"dry_run": dry_run, **{k: [dict(i) for i in v] for k, v in IMPORT_REPORT.items()}}

    def metrics(self):
        return METRICS

    def mtr(self, monitor_id):
        return {"target": "www.example.com", "rounds": 10, "hops": [
            {"hop": 1, "host": "127.0.2.1", "loss_pct": 0.0, "sent": 10, "last": 0.4, "avg": 0.5, "best": 0.3,
             "worst": 0.9, "stdev": 0.1},
            {"hop": 2, "host": "127.51.100.7", "loss_pct": 10.0, "sent": 10, "last": 8.1, "avg": 8.4, "best": 7.9,
             "worst": 9.6, "stdev": 0.5}]}
