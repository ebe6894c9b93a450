"""Use-case services: what the API (and any other client of the core) can do, one room each.
Each owns its rules (ownership, validation, cache versions, what reaches the engine) and returns
read models; the HTTP skin (server/) parses requests, calls one service and shapes the answer,
and never reaches into the stores itself."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.services.about import About
from appliance.services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from appliance.services.incident_updates import IncidentUpdates
from appliance.services.incidents import Incidents
from appliance.services.limits import Limits
from appliance.services.maintenance import MaintenanceWindows
from appliance.services.metrics import Metrics
from appliance.services.monitors import Monitors
from appliance.services.probes import Heartbeats, Probes
from appliance.services.status_pages import StatusPages
from appliance.services.tools import Tools
from appliance.services.transfer import Transfer
from appliance.services.users import Keys, Users
from appliance.services.webhooks import Webhooks

__all__ = ["Services", "ServiceError", "NotFound", "Invalid", "Conflict", "Forbidden"]


@dataclass(frozen=True)
class Services:
    monitors: Monitors
    incidents: Incidents
    incident_updates: IncidentUpdates
    status_pages: StatusPages
    maintenance: MaintenanceWindows
    tools: Tools
    webhooks: Webhooks
    probes: Probes
    heartbeats: Heartbeats
    users: Users
    keys: Keys
    metrics: Metrics
    transfer: Transfer
    about: About
    limits: Limits

    @classmethod
    def build(cls, appliance) -> "Services":
        return cls(monitors=Monitors(appliance), incidents=Incidents(appliance),
                   incident_updates=IncidentUpdates(appliance),
                   status_pages=StatusPages(appliance, appliance.settings.status_page_cache_seconds),
                   maintenance=MaintenanceWindows(appliance), tools=Tools(appliance),
                   webhooks=Webhooks(appliance), probes=Probes(appliance), heartbeats=Heartbeats(appliance),
                   users=Users(appliance), keys=Keys(appliance), metrics=Metrics(appliance),
                   transfer=Transfer(appliance), about=About(appliance), limits=Limits(appliance))
