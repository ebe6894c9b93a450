"""Rate limits (flask-limiter, in memory: one waitress process serves everything).

- Every request counts against one application-wide limit, keyed on the token's user when a
  valid token is sent and on the client IP otherwise.
- Login failures are limited per IP and per email on top, against password guessing.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_jwt_extended import get_current_user, get_jwt, verify_jwt_in_request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from appliance.config import Settings


def user_or_ip() -> str:
    header = request.headers.get("Authorization", "")
    if header[7:].strip().startswith("sc_"):  # an API key counts against its user's budget
        found = current_app.extensions["statuscore"].api_keys.authenticate(header[7:].strip())
        if found is not None:
            return f"user:{found[1].id}"
    if g.get("user") is not None and g.get("api_key") is None:  # already authenticated by token
        return f"user:{g.user.id}"
    try:
        verify_jwt_in_request(optional=True)
        claims = get_jwt()
        user = get_current_user() if claims else None
    except Exception:  # an invalid token is answered by the auth layer; limit by IP here
        claims, user = None, None
    if user is not None:
        # The token is valid and its user current: the view's authenticate() takes this
        # instead of decoding the token a second time.
        g.user, g.api_key = user, None
    if claims and claims.get("sub"):
        return f"user:{claims['sub']}"
    return f"ip:{get_remote_address()}"


def login_email() -> str:
    data = request.get_json(force=True, silent=True)
    email = data.get("email") if isinstance(data, dict) else None
    return f"email:{email.strip().lower()}" if isinstance(email, str) else f"ip:{get_remote_address()}"


def login_ip() -> str:
    return f"ip:{get_remote_address()}"


def create_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=user_or_ip,
        application_limits=[settings.rate_limit],
        headers_enabled=True,
        storage_uri="memory://",
        strategy="fixed-window",
        retry_after="delta-seconds",
    )


def only_failures(response) -> bool:
    return response.status_code == 401


def limit_endpoint(app, limiter: Limiter, endpoint: str, limit: str, key_func, **options) -> None:
    """Attach a route limit to an already registered view. flask-limiter enforces decorated
    limits in the wrapper it returns, so the wrapper must replace the registered view."""
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(limit, key_func=key_func,
                                                 error_message="rate limit exceeded", **options)(view)
