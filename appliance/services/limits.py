"""Rate limits: where the HTTP skin counts requests and failed logins. Embedded, in each
process's memory (None here); in cluster mode, in PostgreSQL, shared by every node, so a client
behind a load balancer has one budget, not one per node."""

from __future__ import annotations


class Limits:
    def __init__(self, appliance):
        self._shared = appliance.shared_limits

    def shared(self):
        """The cluster's counters and login meters (appliance/storage/shared_limits.py), or None."""
        return self._shared
