"""Auth over HTTP: login, me, password change and every way a token can be bad."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from tests.support.asserts import assert_error

USER_KEYS = {"id", "email", "fullName", "subscriptionTier"}


@pytest.fixture(scope="module")
def alice(api, admin):
    """One alice for the module; the test that changes a password makes its own user."""
    return api.create_user(admin, "auth-alice@example.test", full_name="Alice", subscription_tier="pro")


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(user_id, version=1, **extra) -> dict:
    now = int(time.time())
    return {"sub": str(user_id), "ver": version, "type": "access", "fresh": False,
            "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 600, **extra}


def _signed(server, claims: dict) -> str:
    """A token signed with the appliance's real secret (read from its data dir)."""
    secret = server.settings.secret_path.read_text().strip()
    assert secret == server.appliance.secret
    return jwt.encode(claims, secret, algorithm="HS256")


# ---- login -------------------------------------------------------------------------------------

def test_it_logs_in_and_returns_the_user_and_a_token(api, alice):
    response = api.post("/api/auth/login", json={"email": alice.email, "password": alice.password})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"user", "token"}
    assert set(body["user"]) == USER_KEYS
    assert body["user"] == {"id": alice.id, "email": alice.email, "fullName": "Alice", "subscriptionTier": "pro"}
    assert isinstance(body["token"], str) and body["token"].count(".") == 2
    assert api.get("/api/auth/me", body["token"]).status_code == 200


def test_it_issues_hs256_tokens_that_expire(api, alice):
    header = jwt.get_unverified_header(alice.token)
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert claims["sub"] == str(alice.id)
    assert claims["exp"] - claims["iat"] == 24 * 3600  # the default lifetime


def test_it_rejects_a_token_from_another_appliance(api, server, admin, idle_server):
    """Each data dir has its own generated secret: the same admin elsewhere is a stranger here."""
    assert idle_server.appliance.secret != server.appliance.secret
    assert len(server.appliance.secret) >= 32
    elsewhere = idle_server.admin()
    assert idle_server.api.get("/api/auth/me", elsewhere).status_code == 200
    assert_error(api.get("/api/auth/me", elsewhere), 401)
    assert_error(idle_server.api.get("/api/auth/me", admin), 401)


def test_it_reports_free_tier_users_as_free(api, bob):
    body = api.post("/api/auth/login", json={"email": bob.email, "password": bob.password}).json()
    assert body["user"]["subscriptionTier"] == "free"
    assert body["user"]["fullName"] == "Bob"


def test_it_matches_the_email_case_insensitively(api, alice):
    response = api.post("/api/auth/login", json={"email": "  " + alice.email.upper() + " ",
                                                 "password": alice.password})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == alice.id


def test_it_answers_a_wrong_password_and_an_unknown_email_alike(api, alice):
    wrong_password = api.post("/api/auth/login", json={"email": alice.email, "password": "not-her-password"})
    unknown_email = api.post("/api/auth/login", json={"email": "nobody@example.test", "password": "whatever-1"})
    first = assert_error(wrong_password, 401)
    second = assert_error(unknown_email, 401)
    assert first == second
    assert "token" not in first


@pytest.mark.parametrize("body", [
    {"email": "a@example.test"},
    {"password": "whatever-1"},
    {},
    {"email": 1, "password": "whatever-1"},
    {"email": "a@example.test", "password": None},
    {"email": "a@example.test", "password": "whatever-1", "remember": True},
], ids=["no-password", "no-email", "empty", "email-int", "password-null", "unknown-field"])
def test_it_rejects_a_malformed_login_with_400(api, body):
    assert_error(api.post("/api/auth/login", json=body), 400)


def test_it_does_not_log_in_with_an_empty_password(api, alice):
    assert_error(api.post("/api/auth/login", json={"email": alice.email, "password": ""}), 401)


# ---- me ----------------------------------------------------------------------------------------

def test_it_shows_me_with_admin_flag_and_status_page_slug(api, alice, admin):
    body = api.get("/api/auth/me", alice).json()
    assert set(body) == USER_KEYS | {"isAdmin", "statusPageSlug"}
    assert body["id"] == alice.id and body["email"] == alice.email
    assert body["isAdmin"] is False
    assert body["statusPageSlug"] is None
    assert api.get("/api/auth/me", admin).json()["isAdmin"] is True


def test_it_never_shows_the_password_hash(api, alice):
    text = api.get("/api/auth/me", alice).text + api.post(
        "/api/auth/login", json={"email": alice.email, "password": alice.password}).text
    assert "scrypt" not in text and "password" not in text.lower()


# ---- password change ---------------------------------------------------------------------------

def test_it_changes_the_password_and_retires_old_tokens(api, admin):
    alice = api.create_user(admin, "auth-changer@example.test")
    response = api.post("/api/auth/password", alice,
                        json={"current_password": alice.password, "new_password": "brand-new-secret"})
    assert response.status_code == 200, response.text
    new_token = response.json()["token"]

    assert_error(api.get("/api/auth/me", alice), 401)
    assert api.get("/api/auth/me", new_token).json()["id"] == alice.id
    assert_error(api.post("/api/auth/login", json={"email": alice.email, "password": alice.password}), 401)
    relogin = api.post("/api/auth/login", json={"email": alice.email, "password": "brand-new-secret"})
    assert relogin.status_code == 200
    assert api.get("/api/auth/me", relogin.json()["token"]).status_code == 200


def test_it_refuses_a_password_change_with_the_wrong_current_password(api, alice):
    response = api.post("/api/auth/password", alice,
                        json={"current_password": "wrong-wrong-1", "new_password": "brand-new-secret"})
    assert_error(response, 400, "current_password")
    assert api.get("/api/auth/me", alice).status_code == 200  # nothing changed
    api.login(alice.email, alice.password)


def test_it_refuses_a_short_new_password(api, alice):
    response = api.post("/api/auth/password", alice,
                        json={"current_password": alice.password, "new_password": "short"})
    assert_error(response, 400, "new_password")
    api.login(alice.email, alice.password)


@pytest.mark.parametrize("body", [
    {"new_password": "brand-new-secret"},
    {"current_password": "x"},
    {"current_password": "x", "new_password": 12345678},
    {"current_password": "x", "new_password": "brand-new-secret", "confirm": "brand-new-secret"},
])
def test_it_rejects_a_malformed_password_change(api, alice, body):
    assert_error(api.post("/api/auth/password", alice, json=body), 400)


def test_it_needs_a_token_to_change_a_password(api, anonymous):
    assert_error(api.post("/api/auth/password", anonymous,
                          json={"current_password": "a" * 8, "new_password": "b" * 8}), 401)


# ---- bad tokens --------------------------------------------------------------------------------

def test_it_answers_401_without_a_token(api):
    assert_error(api.get("/api/auth/me"), 401)


@pytest.mark.parametrize("header", [
    "Bearer",
    "Bearer ",
    "Bearer garbage",
    "Bearer a.b.c",
    "Bearer not a token",
    "Basic YWxpY2U6c2VjcmV0",
    "garbage",
])
def test_it_answers_401_to_a_malformed_authorization_header(api, header):
    assert_error(api.get("/api/auth/me", headers={"Authorization": header}), 401)


def test_it_rejects_a_token_whose_payload_was_tampered_with(api, alice, admin):
    header, _payload, signature = alice.token.split(".")
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    forged = ".".join([header, _b64({**claims, "sub": str(admin.id)}), signature])
    assert_error(api.get("/api/auth/me", forged), 401)
    assert_error(api.get("/api/admin/users", forged), 401)


def test_it_rejects_a_token_signed_with_another_secret(api, alice):
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    other = jwt.encode(claims, "x" * 64, algorithm="HS256")
    assert_error(api.get("/api/auth/me", other), 401)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_it_rejects_an_unsigned_alg_none_token(api, alice, alg):
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    for token in (f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}.",
                  f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}"):
        assert_error(api.get("/api/auth/me", token), 401)


def test_it_rejects_a_token_signed_with_another_algorithm(api, server, alice):
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    token = jwt.encode(claims, server.appliance.secret, algorithm="HS512")
    assert_error(api.get("/api/auth/me", token), 401)


def test_it_accepts_a_hand_made_token_signed_with_the_data_dirs_secret(api, server, alice):
    """The control for the tests below: the same recipe with good claims works."""
    assert api.get("/api/auth/me", _signed(server, _claims(alice.id))).json()["id"] == alice.id


def test_it_rejects_an_expired_token(api, server, alice):
    past = int(time.time()) - 3600
    token = _signed(server, _claims(alice.id, iat=past - 60, nbf=past - 60, exp=past))
    body = assert_error(api.get("/api/auth/me", token), 401)
    assert "expired" in body["error"]


@pytest.mark.parametrize("claims", [
    {"ver": 2},
    {"ver": None},
    {"sub": "not-a-number"},
    {"sub": "999999"},
    {"type": "refresh"},
], ids=["stale-version", "no-version", "sub-text", "sub-unknown", "refresh-type"])
def test_it_rejects_a_well_signed_token_with_bad_claims(api, server, alice, claims):
    assert_error(api.get("/api/auth/me", _signed(server, {**_claims(alice.id), **claims})), 401)


def test_it_rejects_a_token_without_a_subject(api, server, alice):
    claims = _claims(alice.id)
    del claims["sub"]
    assert_error(api.get("/api/auth/me", _signed(server, claims)), 401)


def test_it_rejects_the_token_of_a_deleted_user(api, admin, bob):
    assert api.delete(f"/api/admin/users/{bob.id}", admin).status_code == 204
    assert_error(api.get("/api/auth/me", bob), 401)
    assert_error(api.get("/api/monitors", bob), 401)
    assert_error(api.post("/api/auth/login", json={"email": bob.email, "password": bob.password}), 401)


def test_it_answers_bad_tokens_on_monitor_endpoints_with_401_too(api):
    for path in ("/api/monitors", "/api/monitors/1", "/api/admin/users"):
        assert_error(api.get(path, "garbage"), 401)
