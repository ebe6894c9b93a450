"""Cluster mode: the API's per-user rate limit and the login throttle are counted for the whole
cluster (appliance/storage/shared_limits.py). Two real `statuscore serve --cluster` nodes on a
real PostgreSQL, requests alternated between them as a round-robin balancer would: the 429 comes
at the configured budget in total, not per node."""

from __future__ import annotations

import pytest

from tests.e2e.test_cluster import node, start_all, stop_all
from tests.support.appliance import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("heavy")]

BUDGET, LOGINS = 20, 4


def test_the_budgets_are_the_clusters_not_each_nodes(tmp_path, postgres_url):
    limits = {"STATUSCORE_RATE_LIMIT": f"{BUDGET}/minute", "STATUSCORE_LOGIN_RATE_LIMIT": f"{LOGINS}/15 minutes"}
    nodes = start_all([node(tmp_path, f"n{i}", postgres_url, **limits) for i in range(2)])
    try:
        admin = nodes[0].admin()  # one token for both nodes (the signing secret is shared)
        remaining = []
        for n in range(BUDGET):
            response = nodes[n % 2].api.get("/api/monitors", admin)
            assert response.status_code == 200, (n, response.text)
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        assert remaining == list(range(BUDGET - 1, -1, -1)), "each node counts the other's requests"
        for proc in nodes:
            refused = proc.api.get("/api/monitors", admin)
            assert refused.status_code == 429 and refused.json()["error"] == "rate limit exceeded"
            assert int(refused.headers["Retry-After"]) > 0

        # Wrong passwords for one account from one address, alternately at either node.
        for n in range(LOGINS):
            wrong = nodes[n % 2].api.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": f"guess-{n}"})
            assert wrong.status_code == 401, (n, wrong.text)
        for proc in nodes:
            throttled = proc.api.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert throttled.status_code == 429, throttled.text
            assert "Too many failed logins" in throttled.json()["details"]["login"]
    finally:
        stop_all(nodes)
