"""Incident updates: what the owner tells visitors about an incident while it runs ("Investigating:
the database is not answering", "Monitoring: a fix is out"), as on Atlassian Statuspage. They show
under the incident on the public status page and in its Atom feed.

The incident itself still opens and resolves by the checks: an update in words never hides a
monitor that is down, and posting "resolved" while checks still fail says only what the owner
wrote. Only the owner of the incident's monitor may read or write its updates (others: 404).
"""

from __future__ import annotations

from appliance.models import INCIDENT_UPDATE_STATUSES, Incident, IncidentUpdate, User
from appliance.services.errors import Invalid, NotFound
from appliance.timeutil import utcnow
from appliance.validation import text_problem

MAX_MESSAGE = 5000
MAX_UPDATES = 100  # per incident: a page lists them all


class IncidentUpdates:
    def __init__(self, appliance):
        self._app = appliance
        self._store = appliance.incident_updates

    def owned(self, user: User, incident_id: int) -> Incident:
        found = self._store.owned_incident(incident_id, user.id)
        if found is None:
            raise NotFound("incident")
        return found[0]

    def list(self, user: User, incident_id: int) -> list[IncidentUpdate]:
        """Newest first."""
        self.owned(user, incident_id)
        return self._store.for_incidents([incident_id]).get(incident_id, [])

    def post(self, user: User, incident_id: int, status: str, message: str) -> IncidentUpdate:
        incident = self.owned(user, incident_id)
        message = (message or "").strip()
        problems = {}
        if status not in INCIDENT_UPDATE_STATUSES:
            problems["status"] = f"must be one of {', '.join(INCIDENT_UPDATE_STATUSES)}"
        if not message:
            problems["message"] = "must not be empty"
        elif len(message) > MAX_MESSAGE:
            problems["message"] = f"must be at most {MAX_MESSAGE} characters"
        elif (problem := text_problem(message, multiline=True)):
            problems["message"] = problem
        if problems:
            field, problem = next(iter(problems.items()))
            raise Invalid(f"Invalid incident update: {field} {problem}.", problems)
        if self._store.count(incident.id) >= MAX_UPDATES:
            raise Invalid(f"This incident already has {MAX_UPDATES} updates; delete one first.",
                          {"incident_id": f"has {MAX_UPDATES} updates already"})
        row = self._store.add(IncidentUpdate(incident_id=incident.id, status=status, message=message,
                                             created_at=utcnow().replace(microsecond=0)))
        self._app.page_versions.bump(user.id)  # the status page shows it on the next request
        return row

    def delete(self, user: User, incident_id: int, update_id: int) -> None:
        self.owned(user, incident_id)
        if not self._store.delete(update_id, incident_id):
            raise NotFound("incident update")
        self._app.page_versions.bump(user.id)
