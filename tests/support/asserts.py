"""Assertions shared by the HTTP tests: the error shape every endpoint answers with."""

from __future__ import annotations

import requests


def assert_error(response: requests.Response, status: int, field: str | None = None) -> dict:
    """`response` is `status` with API.md's error body: {"error": "<sentence>", "details": {...}};
    with `field`, `details` names that field. Returns the body."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:500]}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"].strip(), body
    assert set(body) <= {"error", "details"}, body
    if "details" in body:
        assert isinstance(body["details"], dict), body
    if field is not None:
        assert field in body.get("details", {}), f"details should name {field!r}: {body}"
        assert isinstance(body["details"][field], str) and body["details"][field], body
    return body
