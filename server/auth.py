"""Auth: login, me, password change; JWT set-up; the helpers other blueprints use."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask_jwt_extended import JWTManager, create_access_token, get_current_user, verify_jwt_in_request
from werkzeug.local import LocalProxy

from appliance.models import User
from server.errors import ApiError, error_response
from server.limits import login_throttle, throttled_response
from server.login_throttle import Throttled, client_key
from server.schemas import ApiKeyCreateBody, LoginBody, PasswordChangeBody, parse_body
from appliance.services.users import KEY_PREFIX, last_used
from appliance.timeutil import iso

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


def init_jwt(app: Flask, appliance) -> None:
    app.config.update(
        JWT_SECRET_KEY=appliance.secret,
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=appliance.settings.token_ttl_seconds),
        JWT_TOKEN_LOCATION=["headers"],
    )
    jwt = JWTManager(app)

    @jwt.user_lookup_loader
    def _load_user(_header, claims):
        # The token is checked twice per request (rate-limit key, then the view): look up once.
        cached = g.get("token_user")
        if cached is not None and cached[0] == (claims.get("sub"), claims.get("ver")):
            return cached[1]
        try:
            user = appliance.services.users.get(int(claims["sub"]))
        except (KeyError, TypeError, ValueError):
            return None
        if user is None or claims.get("ver") != user.token_version:
            return None  # deleted, or the password changed since the token was issued
        g.token_user = ((claims.get("sub"), claims.get("ver")), user)
        return user

    @jwt.user_lookup_error_loader
    def _gone(_header, _claims):
        return error_response(401, "This token is no longer valid (account changed or removed); log in again.")

    @jwt.unauthorized_loader
    def _missing(_reason):
        return error_response(401, "Authentication required: send 'Authorization: Bearer <token>' "
                                   "from POST /api/auth/login.")

    @jwt.invalid_token_loader
    def _invalid(_reason):
        return error_response(401, "The token is invalid; log in again to get a new one.")

    @jwt.expired_token_loader
    def _expired(_header, _claims):
        return error_response(401, "The token has expired; log in again.")


def issue_token(user: User) -> str:
    return create_access_token(identity=str(user.id), additional_claims={"ver": user.token_version})


def user_json(user: User, full: bool = False) -> dict:
    data = {"id": user.id, "email": user.email, "fullName": user.full_name,
            "subscriptionTier": user.subscription_tier}
    if full:
        data["isAdmin"] = user.is_admin
        data["statusPageSlug"] = user.status_page_slug
    return data


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# The authenticated user of this request, by a login token (JWT) or an API key.
current_user: User = LocalProxy(lambda: g.user)  # type: ignore[assignment]


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def authenticate() -> User:
    """Who is calling: a login token (JWT) or an API key (`sc_...`); raises 401/403 otherwise."""
    if "user" in g:
        return g.user
    token = bearer_token()
    if token.startswith(KEY_PREFIX):
        found = services().keys.authenticate(token)
        if found is None:
            raise ApiError(401, "Unknown or revoked API key; create a new one under /api/auth/keys.")
        key, user = found
        if key.scope != "write" and request.method not in SAFE_METHODS:
            raise ApiError(403, "This API key is read-only; use a write key (or a login) for changes.")
        g.user, g.api_key = user, key
        return user
    verify_jwt_in_request()
    user = get_current_user()  # a stale token ends here with a 401
    g.user, g.api_key = user, None
    return user


def require_login() -> None:
    """before_request hook for blueprints whose every endpoint needs a logged-in user."""
    if request.method == "OPTIONS":
        return  # answered by Flask (Allow header)
    authenticate()


def require_session() -> None:
    """Account and key management need a login, not an API key."""
    require_login()
    if g.get("api_key") is not None:
        raise ApiError(403, "API keys cannot manage users, passwords, API keys or probes; "
                            "log in with your password to do this.")


def session_only(view):
    """Declares an endpoint that manages users, passwords, API keys or probes: it takes a login
    token only, never an API key, whatever the key's scope or its owner's role (so a leaked key
    can neither make itself new credentials nor take over accounts). The OpenAPI document marks
    these operations `x-session-only`; tests/security/test_session_only.py holds the two in step."""

    @wraps(view)
    def guarded(*args, **kwargs):
        require_session()
        return view(*args, **kwargs)

    guarded.session_only = True
    return guarded


def require_admin() -> None:
    require_login()
    if request.method != "OPTIONS" and not current_user.is_admin:
        raise ApiError(403, "This needs an administrator account.")


def services():
    """The appliance's use-case services (appliance/services): what the views call."""
    return current_app.extensions["statuscore"].services


@bp.post("/login")
def login():
    body = parse_body(LoginBody)
    email = body.email.strip()
    try:  # counted before the password is checked, so concurrent guesses get no more than the budget
        attempt = login_throttle().attempt(email.lower(), client_key(request.remote_addr))
    except Throttled as refused:
        return throttled_response(refused, email)
    try:
        user = services().users.check_login(email, body.password)
    except BaseException:
        attempt.cancelled()
        raise
    if user is None:
        raise ApiError(401, "Invalid email or password.")
    attempt.succeeded()
    return jsonify({"user": user_json(user), "token": issue_token(user)})


@bp.get("/me")
def me():
    require_login()
    return jsonify(user_json(current_user, full=True))


@bp.post("/password")
@session_only
def change_password():
    body = parse_body(PasswordChangeBody)
    user = services().users.change_password(current_user, body.current_password, body.new_password)
    # Older tokens stop working now; hand back a fresh one so this session continues.
    return jsonify({"message": "Password changed; other sessions must log in again.",
                    "token": issue_token(user)})


def api_key_json(key) -> dict:
    return {"id": key.id, "name": key.name, "scope": key.scope, "prefix": key.prefix,
            "created_at": iso(key.created_at), "last_used_at": iso(last_used(key))}


@bp.get("/keys")
@session_only
def list_keys():
    return jsonify([api_key_json(k) for k in services().keys.list(current_user)])


@bp.post("/keys")
@session_only
def create_key():
    """A new API key: the key itself is in this answer only (it is stored hashed)."""
    body = parse_body(ApiKeyCreateBody)
    key, secret = services().keys.create(current_user, body.name, body.scope)
    return jsonify({**api_key_json(key), "key": secret}), 201


@bp.delete("/keys/<int:key_id>")
@session_only
def revoke_key(key_id: int):
    services().keys.revoke(current_user, key_id)
    return "", 204
