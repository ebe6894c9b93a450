"""Retry-After says when to try again: it belongs on 429 (rate limited) and 503 answers only.
flask-limiter adds it to every response of a limited endpoint; a 200, 400, 401, 404 or 405 must
not carry it (clients and proxies would wait for nothing)."""

from __future__ import annotations

import pytest

from tests.support.appliance import InProcessAppliance


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("retry") / "data", rate_limit="12/minute")
    instance.start(engine=False)
    yield instance
    instance.stop()


def test_only_a_429_says_retry_after(limited):
    api, admin = limited.api, limited.admin()
    answers = {
        200: api.get("/api/monitors", admin),
        201: api.post("/api/monitors", admin, json={"name": "db", "type": "tcp", "target": "127.0.0.1", "port": 9,
                                                    "is_active": False}),
        400: api.post("/api/monitors", admin, json={"name": "x"}),
        401: api.get("/api/monitors"),
        404: api.get("/api/monitors/424242", admin),
        405: api.request("PATCH", "/api/monitors", admin),
        "404 page": api.get("/status/nobody"),
        "200 document": api.get("/api/openapi.json"),
    }
    for status, response in answers.items():
        assert response.status_code == (status if isinstance(status, int) else int(status[:3])), response.text
        assert "Retry-After" not in response.headers, (status, dict(response.headers))
    assert "X-RateLimit-Limit" in answers[200].headers  # a limited endpoint all the same
    limited_now = None
    for _ in range(20):
        limited_now = api.get("/api/monitors", admin)
        if limited_now.status_code == 429:
            break
    assert limited_now.status_code == 429
    assert int(limited_now.headers["Retry-After"]) >= 0
