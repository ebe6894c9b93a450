"""What this appliance is, for anyone who asks without logging in: its version, its data dir's
instance id (GET /api/health; `statuscore doctor` compares it) and the public status pages it
serves (the landing page at /)."""

from __future__ import annotations

from typing import NamedTuple

from appliance import __version__


class PublishedPage(NamedTuple):
    company_name: str
    slug: str


class About:
    def __init__(self, appliance):
        self._entities = appliance.entities
        self.version = __version__
        self.instance_id: str | None = appliance.instance_id

    def status_pages(self) -> list[PublishedPage]:
        """Every status page set up on this appliance (they are public by design), by name."""
        pages = [PublishedPage(user.company_name or user.status_page_slug, user.status_page_slug)
                 for user in self._entities.list_users() if user.status_page_slug]
        return sorted(pages, key=lambda page: (page.company_name.lower(), page.slug))
