"""Tokens against the real `statuscore serve` process, which runs without `cryptography` loaded
(PyJWT then knows no RSA/EC algorithms): HS256 still works and every other algorithm is refused."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from tests.support.asserts import assert_error


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def served_admin(appliance_process):
    return appliance_process.admin()


def test_serve_does_not_load_cryptography(appliance_process, served_admin):
    assert appliance_process.api.get("/api/auth/me", served_admin).status_code == 200
    maps = open(f"/proc/{appliance_process.proc.pid}/maps").read()
    assert "/cryptography/" not in maps


def test_serve_accepts_its_own_tokens_and_refuses_tokens_signed_with_other_secrets(appliance_process, served_admin):
    api = appliance_process.api
    assert api.get("/api/auth/me", served_admin).json()["email"] == served_admin.email
    claims = jwt.decode(served_admin.token, options={"verify_signature": False})
    assert_error(api.get("/api/auth/me", jwt.encode(claims, "y" * 64, algorithm="HS256")), 401)


@pytest.mark.parametrize("alg", ["none", "RS256", "ES256", "EdDSA", "PS256"])
def test_serve_refuses_tokens_claiming_other_algorithms(appliance_process, served_admin, alg):
    claims = jwt.decode(served_admin.token, options={"verify_signature": False})
    signature = "" if alg == "none" else _b64({"forged": True})
    token = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}.{signature}"
    assert_error(appliance_process.api.get("/api/auth/me", token), 401)
