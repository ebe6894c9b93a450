"""Locations and probes: where monitors are checked from. An admin registers remote probes (each
gets a secret token once); a probe pulls its assignments and pushes results; anyone logged in
sees the locations and whether they are online."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.models import Probe
from appliance.services.errors import Conflict, NotFound
from appliance.spec import MonitorSpec
from appliance.storage.entities import Conflict as StoreConflict
from appliance.storage.probes import TOKEN_PREFIX


@dataclass(frozen=True)
class ProbeView:
    probe: Probe
    location: object | None  # locations.Location: online, last_seen


@dataclass(frozen=True)
class Assignments:
    location: str
    refresh_seconds: float
    specs: list[MonitorSpec]


class Probes:
    def __init__(self, appliance):
        self._app = appliance

    # ---- locations ---------------------------------------------------------------------------
    def locations(self) -> list:
        """Every location (this appliance's and the probes'), with online and last_seen."""
        return self._app.locations.all()

    # ---- registering (admins) ----------------------------------------------------------------
    def list(self) -> list[ProbeView]:
        by_name = self._by_name()
        return [ProbeView(p, by_name.get(p.name)) for p in self._app.probes.all()]

    def register(self, name: str, display_name: str) -> tuple[ProbeView, str]:
        """The new probe and its token (shown this once)."""
        app = self._app
        if name == app.settings.location or name == "all":
            raise Conflict(f"The name {name} is taken by this appliance's own location.", {"name": "already taken"})
        try:
            probe, token = app.probes.register(name, display_name)
        except StoreConflict:
            raise Conflict(f"A probe named {name} already exists.", {"name": "already taken"}) from None
        app.locations.reload()
        return ProbeView(probe, None), token

    def rename(self, probe_id: int, display_name: str) -> ProbeView:
        probe = self._app.probes.rename(probe_id, display_name)
        if probe is None:
            raise NotFound("probe")
        self._app.locations.reload()
        return ProbeView(probe, self._by_name().get(probe.name))

    def revoke(self, probe_id: int) -> None:
        """The token stops working at once; the location's stored results stay."""
        if self._app.probes.delete(probe_id) is None:
            raise NotFound("probe")
        self._app.locations.reload()

    # ---- a probe's own calls -----------------------------------------------------------------
    def authenticate(self, token: str) -> Probe | None:
        """The probe this token is (and note that it was heard from), or None."""
        probe = self._app.probes.by_token(token) if token.startswith(TOKEN_PREFIX) else None
        if probe is not None:
            self._app.locations.heard_from(probe)
        return probe

    def assignments(self, probe: Probe) -> Assignments:
        return Assignments(probe.name, self._app.locations.check_in_seconds,
                           self._app.probe_intake.assignments(probe))

    def take_results(self, probe: Probe, results: list[dict]):
        """A batch of results (ProbeIntake's report: accepted, duplicates, rejected)."""
        return self._app.probe_intake.take(probe, results)

    def _by_name(self) -> dict:
        return {loc.name: loc for loc in self._app.locations.all()}


class Heartbeats:
    """A job calls its heartbeat URL (the token is the credential)."""

    def __init__(self, appliance):
        self._app = appliance

    def beat(self, token: str, failed: bool = False):
        """The monitor whose URL this is, its call recorded (paused: acknowledged only)."""
        monitor = self._app.heartbeat(token, failed=failed)
        if monitor is None:
            raise NotFound.said("No heartbeat monitor has this URL; copy heartbeat_url from the monitor again.")
        return monitor
