"""ApiClient: the StatusCore REST API from Python, one method per endpoint of API.md.

The console uses it, and so can any script::

    from console.client import ApiClient, ApiError

    api = ApiClient("http://127.0.0.1:8080")
    api.login("admin@example.com", "secret-password")
    for monitor in api.list_monitors():
        print(monitor["name"], monitor["status"], monitor["uptime_percentage"])

Every failure is an `ApiError(status, message, details)` carrying the server's
`{"error", "details"}`; when the server cannot be reached at all, `status` is None
(`error.unreachable` is true) and the message says so. Nothing here imports textual.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Literal, TypedDict
from urllib.parse import quote

import requests

DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 10.0
# An MTR report runs several traceroute rounds on the server: give it time.
MTR_TIMEOUT = 180.0
WHOIS_TIMEOUT = 60.0
# A backup archive holds every stored check result: large, and assembled before it is sent.
BACKUP_TIMEOUT = 600.0


# ---- the main objects (API.md shapes; the server may add keys) ------------------------------

class User(TypedDict, total=False):
    id: int
    email: str
    fullName: str
    subscriptionTier: Literal["free", "pro"]
    isAdmin: bool
    statusPageSlug: str | None
    createdAt: str


class Monitor(TypedDict, total=False):
    id: int
    name: str
    type: str
    target: str | None
    port: int | None
    ssl_check: bool
    check_locations: list[str]
    interval: int
    timeout: int
    retries: int
    recovery_checks: int
    reminder_minutes: int | None
    is_active: bool
    public_status: bool
    status: Literal["pending", "up", "down", "paused"]
    response_time: int | None
    last_check: str | None
    uptime_percentage: str | None
    location_status: dict[str, str]
    ssl: dict | None
    domain: dict | None
    heartbeat_url: str
    grace: int
    keyword: str | None
    expected_status: int | None
    last_error: str
    in_maintenance: bool
    created_at: str


class HistoryPoint(TypedDict):
    checked_at: str
    status: Literal["up", "down"]
    response_time: int | None
    location: str


class History(TypedDict):
    monitor: Monitor
    history: list[HistoryPoint]
    stats: dict[str, Any]


class Stats(TypedDict, total=False):
    monitor_id: int
    days: int
    uptime: str | None
    avg: int | None
    min: int | None
    max: int | None
    p50: int | None
    p95: int | None
    p99: int | None
    checks: int
    failures: int
    incidents: int
    mttr_seconds: int | None
    daily: list[dict[str, Any]]


class Incident(TypedDict, total=False):
    id: int
    monitor_id: int
    monitor_name: str
    started_at: str
    resolved_at: str | None
    status: Literal["ongoing", "resolved"]
    duration_seconds: int
    cause: str
    locations: list[str]


class Anomaly(TypedDict, total=False):
    id: int
    monitor_id: int
    monitor_name: str
    location: str
    detected_at: str
    kind: str
    value: float | None
    baseline: float | None
    severity: Any
    message: str
    acknowledged: bool


class Insights(TypedDict):
    incidents: list[Incident]
    anomalies: list[Anomaly]


class Webhook(TypedDict, total=False):
    id: int
    url: str
    format: Literal["generic", "slack", "discord"]
    events: list[str]
    secret: str
    enabled: bool


class Recurring(TypedDict, total=False):
    weekdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    start: str  # "02:00", wall-clock time in `timezone`
    duration_minutes: int
    timezone: str


class MaintenanceWindow(TypedDict, total=False):
    id: int
    name: str
    monitor_ids: list[int]
    starts_at: str | None  # one-off
    ends_at: str | None
    recurring: Recurring | None  # weekly
    notice: str | None  # announced on the public status page
    active: bool
    created_at: str


class ApiKey(TypedDict, total=False):
    id: int
    name: str
    scope: Literal["read", "write"]
    prefix: str
    created_at: str
    last_used_at: str | None
    key: str  # only in the answer that created it


class ImportReport(TypedDict, total=False):
    dry_run: bool
    created: list[dict[str, str]]  # {kind, name}
    updated: list[dict[str, str]]
    unchanged: list[dict[str, str]]


class Location(TypedDict, total=False):
    name: str
    display_name: str
    online: bool
    last_seen: str | None


class MtrHop(TypedDict, total=False):
    hop: int
    host: str
    address: str
    loss_pct: float
    sent: int
    last: float
    avg: float
    best: float
    worst: float
    stdev: float


class MtrReport(TypedDict, total=False):
    target: str
    address: str
    rounds: int
    reached: bool
    hops: list[MtrHop]


class Whois(TypedDict, total=False):
    target: str
    kind: Literal["domain", "ip"]
    registrar: str | None
    creation_date: str | None
    expiration_date: str | None
    name_servers: list[str]
    raw: str


# ---- the one error type -----------------------------------------------------------------------

class ApiError(Exception):
    """A failed call: `status` is the HTTP status (None when the server could not be reached),
    `message` the server's `error` sentence, `details` its per-field `details`."""

    def __init__(self, status: int | None, message: str, details: dict[str, str] | None = None,
                 retry_after: float | None = None, server_said: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details: dict[str, str] = dict(details or {})
        self.retry_after = retry_after
        # The server's own `error` sentence; None when the answer had none (a proxy's HTML page, ...).
        self.server_said = server_said

    @property
    def unreachable(self) -> bool:
        """The server did not answer at all (down, wrong address, network lost, timed out)."""
        return self.status is None

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.message} (HTTP {self.status})"

    def __repr__(self) -> str:
        return f"ApiError({self.status!r}, {self.message!r}, {self.details!r})"


class ServerUnreachable(ApiError):
    """The server could not be reached (status None); `reason` names what went wrong
    (requests' exception class: ConnectionError, ReadTimeout, ...)."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(None, message)
        self.reason = reason


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not _UNSET}


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


_UNSET: Any = _Unset()


class ApiClient:
    """A session with one StatusCore server. Thread-safe enough for the console's workers:
    each call is one `requests` request; the token is a plain attribute."""

    def __init__(self, server_url: str = DEFAULT_SERVER, token: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, session: requests.Session | None = None):
        self.server_url = normalize_url(server_url)
        self.token = token
        self.timeout = timeout
        self.session = session or requests.Session()
        self._monitor_types: list[dict] | None = None  # the server's types do not change while it runs
        self.user: User | None = None

    # ---- plumbing ---------------------------------------------------------------------------
    def request(self, method: str, path: str, *, json_body: Any = _UNSET, params: dict | None = None,
                timeout: float | None = None, auth: bool = True, raw: bool = False,
                data: str | bytes | None = None, content_type: str | None = None) -> Any:
        """One call; the decoded JSON answer (None for 204), or the text when `raw`. `data` sends a
        body as it is (with `content_type`) instead of `json_body`."""
        headers = {"Accept": "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        kwargs: dict[str, Any] = {"headers": headers, "params": params, "timeout": timeout or self.timeout}
        if json_body is not _UNSET:
            kwargs["json"] = json_body
        elif data is not None:
            kwargs["data"] = data.encode("utf-8") if isinstance(data, str) else data
            headers["Content-Type"] = content_type or "application/octet-stream"
        response = self._send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        if raw:
            return response.text
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, f"{self.server_url} answered something that is not JSON; "
                                                 "is this a StatusCore server?") from None

    @contextmanager
    def download(self, path: str, timeout: float | None = None, chunk_size: int = 1 << 20) -> Iterator[Iterator[bytes]]:
        """A large answer in chunks, never whole in memory: `with api.download(path) as chunks:`.
        Refusals raise on entering, before the caller has created anything for the chunks."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with self._send("GET", path, headers=headers, stream=True, timeout=timeout or self.timeout) as response:
            yield self._chunks(response, chunk_size)

    def _chunks(self, response: requests.Response, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from response.iter_content(chunk_size)
        except requests.RequestException as exc:
            raise ServerUnreachable(f"cannot reach {self.server_url}", type(exc).__name__) from None

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The request itself: an answer below 400, else the ApiError it stands for."""
        try:
            response = self.session.request(method, self.server_url + path, **kwargs)
        except requests.Timeout as exc:
            raise ServerUnreachable(f"{self.server_url} did not answer in time", type(exc).__name__) from None
        except requests.RequestException as exc:
            raise ServerUnreachable(f"cannot reach {self.server_url}", type(exc).__name__) from None
        if response.status_code >= 400:
            with response:
                raise _error_from(response)
        return response

    def get(self, path: str, **kw) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = _UNSET, **kw) -> Any:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = _UNSET, **kw) -> Any:
        return self.request("PUT", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = _UNSET, **kw) -> Any:
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw) -> Any:
        return self.request("DELETE", path, **kw)

    # ---- auth -------------------------------------------------------------------------------
    def login(self, email: str, password: str) -> User:
        """Log in; keeps the token for the next calls and returns the user."""
        answer = self.post("/api/auth/login", {"email": email, "password": password}, auth=False)
        self.token = answer["token"]
        self.user = answer["user"]
        return answer["user"]

    def logout(self) -> None:
        """Forget the token (JWTs are stateless: nothing to tell the server)."""
        self.token = None
        self.user = None

    def me(self) -> User:
        user = self.get("/api/auth/me")
        self.user = user
        return user

    def change_password(self, current_password: str, new_password: str) -> dict:
        """Other sessions end; the answer's fresh token replaces ours."""
        answer = self.post("/api/auth/password", {"current_password": current_password,
                                                  "new_password": new_password})
        if answer and answer.get("token"):
            self.token = answer["token"]
        return answer

    # API keys (ext)
    def list_api_keys(self) -> list[ApiKey]:
        return self.get("/api/auth/keys")

    def create_api_key(self, name: str, scope: Literal["read", "write"] = "read") -> ApiKey:
        """The answer carries the key (`sc_...`) this once."""
        return self.post("/api/auth/keys", {"name": name, "scope": scope})

    def delete_api_key(self, key_id: int) -> None:
        self.delete(f"/api/auth/keys/{int(key_id)}")

    # ---- monitors ---------------------------------------------------------------------------
    def monitor_types(self) -> list[dict]:
        """Each monitor type the server has, with what it takes (GET /api/monitors/types), kept
        for the session: forms are built from it, so the console knows no type by itself."""
        if self._monitor_types is None:
            self._monitor_types = self.get("/api/monitors/types")
        return self._monitor_types

    def list_monitors(self) -> list[Monitor]:
        return self.get("/api/monitors")

    def get_monitor(self, monitor_id: int) -> Monitor:
        return self.get(f"/api/monitors/{int(monitor_id)}")

    def create_monitor(self, fields: dict[str, Any] | None = None, **more: Any) -> Monitor:
        """`create_monitor({"name": ..., "type": ..., "target": ...})` or keyword arguments."""
        return self.post("/api/monitors", {**(fields or {}), **more})

    def update_monitor(self, monitor_id: int, fields: dict[str, Any] | None = None, **more: Any) -> Monitor:
        return self.put(f"/api/monitors/{int(monitor_id)}", {**(fields or {}), **more})

    def delete_monitor(self, monitor_id: int) -> None:
        self.delete(f"/api/monitors/{int(monitor_id)}")

    def toggle_monitor(self, monitor_id: int, is_active: bool) -> Monitor:
        return self.patch(f"/api/monitors/{int(monitor_id)}/toggle", {"is_active": bool(is_active)})

    def set_public(self, monitor_id: int, public_status: bool) -> Monitor:
        return self.patch(f"/api/monitors/{int(monitor_id)}/public", {"public_status": bool(public_status)})

    def history(self, monitor_id: int, hours: int = 24) -> History:
        return self.get(f"/api/monitors/{int(monitor_id)}/history", params={"hours": int(hours)})

    def stats(self, monitor_id: int, days: int = 30) -> Stats:
        return self.get(f"/api/monitors/{int(monitor_id)}/stats", params={"days": int(days)})

    def insights(self, monitor_id: int) -> Insights:
        return self.get(f"/api/monitors/{int(monitor_id)}/insights")

    # ---- incident updates (shown on the status page) ---------------------------------------------
    def incident_updates(self, incident_id: int) -> list[dict]:
        return self.get(f"/api/incidents/{int(incident_id)}/updates")

    def post_incident_update(self, incident_id: int, status: str, message: str) -> dict:
        return self.post(f"/api/incidents/{int(incident_id)}/updates", {"status": status, "message": message})

    # ---- anomalies --------------------------------------------------------------------------
    def anomalies(self) -> list[Anomaly]:
        """Every unacknowledged anomaly across your monitors."""
        return self.get("/api/monitors/anomalies")

    def acknowledge_anomaly(self, anomaly_id: int) -> Anomaly:
        return self.post(f"/api/monitors/anomalies/{int(anomaly_id)}/acknowledge")

    # ---- tools ------------------------------------------------------------------------------
    def mtr(self, monitor_id: int, timeout: float = MTR_TIMEOUT) -> MtrReport:
        """An MTR report to the monitor's target (403 for free accounts); takes a while."""
        return self.get(f"/api/monitors/{int(monitor_id)}/mtr", timeout=timeout)

    def whois(self, target: str, timeout: float = WHOIS_TIMEOUT) -> Whois:
        return self.get(f"/api/monitors/tools/whois/{quote(target.strip(), safe='')}", timeout=timeout)

    # ---- public status page -----------------------------------------------------------------
    def public_status(self, slug: str) -> dict:
        return self.get(f"/api/public/status/{quote(slug, safe='')}", auth=False)

    def public_status_html(self, slug: str) -> str:
        return self.get(f"/status/{quote(slug, safe='')}", auth=False, raw=True)

    def get_status_page(self) -> dict:
        return self.get("/api/settings/status-page")

    def update_status_page(self, company_name: str, slug: str | None) -> dict:
        """slug None turns the page off."""
        return self.put("/api/settings/status-page", {"company_name": company_name, "slug": slug})

    # ---- webhooks ---------------------------------------------------------------------------
    def list_webhooks(self) -> list[Webhook]:
        return self.get("/api/settings/webhooks")

    def create_webhook(self, url: str | None = None, format: str = "generic", events: list[str] | None = None,
                       secret: str | None = None, enabled: bool | None = None,
                       email: dict[str, Any] | None = None) -> Webhook:
        """A notification channel: `url` for the webhook kinds and apprise, `email` (SMTP settings) for email."""
        body = _clean({"url": url if url is not None else _UNSET, "format": format,
                       "events": events if events is not None else _UNSET,
                       "secret": secret if secret else _UNSET,
                       "enabled": enabled if enabled is not None else _UNSET,
                       "email": email if email is not None else _UNSET})
        return self.post("/api/settings/webhooks", body)

    def update_webhook(self, webhook_id: int, fields: dict[str, Any] | None = None, **more: Any) -> Webhook:
        return self.put(f"/api/settings/webhooks/{int(webhook_id)}", {**(fields or {}), **more})

    def delete_webhook(self, webhook_id: int) -> None:
        self.delete(f"/api/settings/webhooks/{int(webhook_id)}")

    def test_webhook(self, webhook_id: int) -> dict:
        """Send a test delivery now; the server's report of it."""
        return self.post(f"/api/settings/webhooks/{int(webhook_id)}/test", timeout=max(self.timeout, 30.0))

    def webhook_deliveries(self, webhook_id: int) -> list[dict]:
        return self.get(f"/api/settings/webhooks/{int(webhook_id)}/deliveries")

    # ---- locations and probes ---------------------------------------------------------------
    def list_locations(self) -> list[Location]:
        return self.get("/api/locations")

    def register_probe(self, name: str, display_name: str | None = None) -> dict:
        """Admin: a probe's token, for `statuscore probe --token ...` (shown once)."""
        return self.post("/api/admin/probes", _clean({"name": name,
                                                      "display_name": display_name or _UNSET}))

    def list_probes(self) -> list[dict]:
        """Admin: the registered probes with their online state."""
        return self.get("/api/admin/probes")

    def rename_probe(self, probe_id: int, display_name: str) -> dict:
        return self.patch(f"/api/admin/probes/{int(probe_id)}", {"display_name": display_name})

    def revoke_probe(self, probe_id: int) -> None:
        """Admin: the probe's token stops working at once (its results stay)."""
        self.delete(f"/api/admin/probes/{int(probe_id)}")

    # ---- maintenance ------------------------------------------------------------------------
    def list_maintenance(self) -> list[MaintenanceWindow]:
        return self.get("/api/maintenance")

    def create_maintenance(self, fields: dict[str, Any]) -> MaintenanceWindow:
        return self.post("/api/maintenance", fields)

    def get_maintenance(self, window_id: int) -> MaintenanceWindow:
        return self.get(f"/api/maintenance/{int(window_id)}")

    def update_maintenance(self, window_id: int, fields: dict[str, Any]) -> MaintenanceWindow:
        return self.put(f"/api/maintenance/{int(window_id)}", fields)

    def delete_maintenance(self, window_id: int) -> None:
        self.delete(f"/api/maintenance/{int(window_id)}")

    # ---- admin ------------------------------------------------------------------------------
    def list_users(self) -> list[User]:
        return self.get("/api/admin/users")

    def create_user(self, email: str, password: str, full_name: str = "",
                    subscription_tier: Literal["free", "pro"] = "free", is_admin: bool = False) -> User:
        return self.post("/api/admin/users", {"email": email, "password": password, "full_name": full_name,
                                              "subscription_tier": subscription_tier, "is_admin": is_admin})

    def update_user(self, user_id: int, fields: dict[str, Any] | None = None, **more: Any) -> User:
        """Any of email, password, full_name, subscription_tier, is_admin."""
        return self.patch(f"/api/admin/users/{int(user_id)}", {**(fields or {}), **more})

    def delete_user(self, user_id: int) -> None:
        self.delete(f"/api/admin/users/{int(user_id)}")

    def engine_status(self) -> dict:
        return self.get("/api/admin/engine")

    # ---- export, metrics, heartbeats, the document ------------------------------------------
    def export(self, format: Literal["json", "yaml"] = "json") -> Any:
        """The configuration document (a dict for json, the text for yaml)."""
        return self.get("/api/export", params={"format": format}, raw=format != "json")

    def export_text(self, format: Literal["json", "yaml"] = "yaml", timeout: float | None = None) -> str:
        """The configuration document as the server wrote it, for a file."""
        return self.get("/api/export", params={"format": format}, raw=True, timeout=timeout) or ""

    def import_(self, document: dict, dry_run: bool = True) -> ImportReport:
        return self.post("/api/import", document, params={"dry_run": "true" if dry_run else "false"})

    def import_text(self, text: str | bytes, format: Literal["json", "yaml"] = "yaml", dry_run: bool = True,
                    timeout: float | None = None) -> ImportReport:
        """Import a document as written in a file (YAML or JSON text, sent as it is):
        `{dry_run, created, updated, unchanged}`, each a list of `{kind, name}`."""
        kind = "application/json" if format == "json" else "application/yaml"
        return self.request("POST", "/api/import", params={"dry_run": "true" if dry_run else "false"},
                            data=text, content_type=kind, timeout=timeout or max(self.timeout, 60.0))

    def backup(self, timeout: float = BACKUP_TIMEOUT):
        """Admin: a consistent backup archive (.tar.gz) of the appliance, streamed:
        `with api.backup() as chunks: ...`. It holds the secret: write it for the owner only."""
        return self.download("/api/admin/backup", timeout=timeout)

    def metrics(self) -> str:
        return self.get("/metrics", raw=True)

    def heartbeat(self, token: str, fail: bool = False) -> dict:
        path = f"/api/heartbeat/{quote(token, safe='')}" + ("/fail" if fail else "")
        return self.post(path, auth=False)

    def openapi(self) -> dict:
        return self.get("/api/openapi.json", auth=False)

    # ---- a token kept on disk (only when the user asks) -------------------------------------
    def save_token(self, path: str | os.PathLike) -> Path:
        """Write {server, token} to `path`, readable by the owner only (0600)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"server": self.server_url, "token": self.token}, handle)
        os.chmod(path, 0o600)
        return path

    def load_token(self, path: str | os.PathLike) -> bool:
        """Use the token saved for this server at `path`; False when there is none."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            return False
        if not isinstance(data, dict) or normalize_url(str(data.get("server", ""))) != self.server_url:
            return False
        token = data.get("token")
        if not isinstance(token, str) or not token:
            return False
        self.token = token
        return True


def forget_token(path: str | os.PathLike) -> None:
    try:
        Path(path).unlink()
    except FileNotFoundError:
        pass


def normalize_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if url and "://" not in url:
        url = "http://" + url
    return url


def _error_from(response: requests.Response) -> ApiError:
    said, details = None, None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str) and body["error"]:
            said = body["error"]
        if isinstance(body.get("details"), dict):
            details = {str(k): str(v) for k, v in body["details"].items()}
    message = said or f"the server answered {response.status_code} {response.reason or ''}".strip()
    retry_after = None
    if response.status_code == 429:
        try:
            retry_after = float(response.headers.get("Retry-After", ""))
        except ValueError:
            retry_after = None
    return ApiError(response.status_code, message, details, retry_after, server_said=said)
