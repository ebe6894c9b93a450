"""`statuscore probe`: this program as a remote location. It pulls its assignments from the
appliance, runs the same checkers on its own schedule, spools every result on disk and pushes
them in batches, in order. It only makes outbound HTTP requests.

If the appliance is unreachable the results wait in the spool and go later; each carries an id
and the server also keeps a per-monitor watermark, so a batch sent twice (an answer lost on the
way back) is not stored twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

import requests

from appliance import __version__
from appliance.checkers import CheckerContext
from appliance.monitor_types import build_checkers
from appliance.monitor_types.fields import BY_NAME as FIELDS, CREATE_DEFAULTS, PROBE_FIELDS
from appliance.engine.scheduler import Scheduler
from appliance.spec import MonitorSpec
from appliance.spool import Spool
from appliance.timeutil import iso, utcnow

log = logging.getLogger("statuscore.probe")

ASSIGNMENT_REFRESH = 30.0
PUSH_BATCH = 500
MAX_BACKOFF = 30.0
MAX_ERROR = 2000  # characters of an error text the appliance takes (longer: the whole batch is refused)


class ProbeAgent:
    def __init__(self, server: str, token: str, location: str, data_dir: Path,
                 source_address: str | None = None, ca_file: str | None = None, workers: int = 16,
                 refresh_seconds: float = ASSIGNMENT_REFRESH, push_seconds: float = 1.0):
        self.server = server.rstrip("/")
        self.location = location
        self.refresh_seconds = refresh_seconds
        self.push_seconds = push_seconds
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}",
                                  "User-Agent": f"StatusCore-Probe/{__version__}"})
        self.spool = Spool(Path(data_dir) / f"spool-{location}.sqlite")
        self.checkers = build_checkers(CheckerContext(source_address=source_address, ca_file=ca_file))
        self.scheduler = Scheduler(self._check, workers=workers)
        self._specs: dict[int, MonitorSpec] = {}
        self._stop = threading.Event()
        self.connected = False
        self._refused = False

    # ---- running -----------------------------------------------------------------------------
    def run(self) -> None:
        """Until stop(): refresh assignments and push results; checks run on the scheduler."""
        self.scheduler.start()
        pusher = threading.Thread(target=self._push_loop, name="probe-push", daemon=True)
        pusher.start()
        try:
            while not self._stop.is_set():
                self.refresh()
                self._stop.wait(self.refresh_seconds)
        finally:
            self.scheduler.stop()
            pusher.join(5)
            self.spool.close()

    def stop(self) -> None:
        self._stop.set()

    def refresh(self) -> bool:
        try:
            response = self.http.get(f"{self.server}/api/probe/assignments", timeout=10)
        except requests.RequestException as exc:
            self._lost(f"cannot reach {self.server} ({type(exc).__name__}); checks go on and results are spooled")
            return False
        if response.status_code == 401:
            if not self._refused:  # once, not at every call
                log.error("the appliance refused this probe's token (HTTP 401); checks go on and results "
                          "are kept in the spool; ask an admin for a new token")
            self._refused = True
            return False
        if response.status_code != 200:
            log.warning("assignments answered HTTP %d; keeping the current ones", response.status_code)
            return False
        body = response.json()
        self._refused = False
        every = body.get("refresh_seconds")  # the appliance says how often to call in to stay online
        if isinstance(every, (int, float)) and not isinstance(every, bool) and 1 <= every <= 3600:
            self.refresh_seconds = float(every)
        if body.get("location") != self.location:
            log.error("this token belongs to location %r, not %r; checking as %r",
                      body.get("location"), self.location, body.get("location"))
            self.location = body.get("location")
        self._found()
        self._apply([_spec(m) for m in body.get("monitors", [])])
        return True

    def _apply(self, specs: list[MonitorSpec]) -> None:
        wanted = {spec.id: spec for spec in specs if spec.type in self.checkers}
        for monitor_id in set(self._specs) - set(wanted):
            self.scheduler.remove(monitor_id)
        for monitor_id, spec in wanted.items():
            if self._specs.get(monitor_id) != spec:
                self.scheduler.add(spec, run_now=monitor_id not in self._specs)
        self._specs = wanted

    def _check(self, spec: MonitorSpec) -> None:
        result = self.checkers[spec.type].check(spec)
        if result is None or not self.scheduler.is_scheduled(spec):
            return
        self.spool.add({
            "id": uuid.uuid4().hex, "monitor_id": spec.id, "checked_at": iso(utcnow(), millis=True),
            "up": result.up, "response_time": None if result.response_time_ms is None else round(result.response_time_ms, 2),
            "error": None if result.error is None else result.error[:MAX_ERROR], "details": _facts(result.details),
        })

    # ---- pushing -----------------------------------------------------------------------------
    def push_once(self) -> int:
        """Send the oldest spooled results; returns how many the server took (or had)."""
        batch = self.spool.peek(PUSH_BATCH)
        if not batch:
            return 0
        response = self.http.post(f"{self.server}/api/probe/results",
                                  json={"results": [item for _, item in batch]}, timeout=15)
        if response.status_code != 200:
            raise requests.HTTPError(f"HTTP {response.status_code}: {response.text[:200]}")
        report = response.json()
        for rejected in report.get("rejected", [])[:3]:
            log.warning("the appliance rejected a result: %s", rejected.get("reason"))
        self.spool.remove_through(batch[-1][0])
        return len(batch)

    def _push_loop(self) -> None:
        backoff = self.push_seconds
        while not self._stop.wait(backoff):
            try:
                while self.push_once() == PUSH_BATCH and not self._stop.is_set():
                    pass
                self._found()
                backoff = self.push_seconds
            except (requests.RequestException, ValueError) as exc:
                self._lost(f"cannot deliver results to {self.server} ({exc}); {len(self.spool)} waiting in the spool")
                backoff = min(MAX_BACKOFF, max(backoff * 2, 1.0))

    def _lost(self, message: str) -> None:
        if self.connected or not hasattr(self, "_warned"):
            log.warning(message)
            self._warned = True
        self.connected = False

    def _found(self) -> None:
        if not self.connected:
            log.info("connected to %s as location %s", self.server, self.location)
        self.connected = True


def _spec(data: dict) -> MonitorSpec:
    """An assignment's monitor, with the create defaults for what an older appliance left out."""
    values = {}
    for name in PROBE_FIELDS:
        value = data.get(name, CREATE_DEFAULTS.get(name))
        kind = FIELDS[name].kind
        values[name] = bool(value) if kind == "bool" else (int(value) if kind == "int" and value is not None else value)
    return MonitorSpec(id=data["id"], user_id=0, name=data.get("name", ""), type=data["type"], **values)


def _facts(details: dict) -> dict:
    """Certificate/registration facts, JSON-ready (dates as ISO text)."""
    out = {}
    for kind in ("ssl", "domain"):
        info = details.get(kind)
        if isinstance(info, dict):
            out[kind] = {k: iso(v) if hasattr(v, "tzinfo") else v for k, v in info.items()}
    return out

