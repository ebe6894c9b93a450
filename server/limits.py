"""Rate limits, in memory (one waitress process serves everything), or in cluster mode in
PostgreSQL (server/shared_limits.py), so a client has one budget across the nodes.

- Every request counts against one application-wide limit (flask-limiter), keyed on the token's
  user when a valid token is sent and on the client address otherwise.
- Failed logins are throttled on top, per (account, client address) with a per-address budget
  and a per-account backoff (server/login_throttle.py); its 429s are shaped here.

The client address is REMOTE_ADDR: the peer, or behind a trusted reverse proxy the client it
names (server/proxies.py rewrites it before any of this runs).
"""

from __future__ import annotations

import logging
import math
import time

import limits
from flask import Flask, current_app, g, request
from flask_jwt_extended import get_current_user, get_jwt, verify_jwt_in_request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from appliance.config import Settings
from server.errors import error_response
from server.login_throttle import LoginThrottle, Rate, SharedMeters, Throttled
from server.shared_limits import SCHEME as SHARED_SCHEME
from server.proxies import PROXY_ENVIRON_KEY

log = logging.getLogger("statuscore.api")


def user_or_ip() -> str:
    header = request.headers.get("Authorization", "")
    if header[7:].strip().startswith("sc_"):  # an API key counts against its user's budget
        found = current_app.extensions["statuscore"].services.keys.authenticate(header[7:].strip())
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


def create_limiter(settings: Settings, shared=None) -> Limiter:
    """`shared`: the cluster's counters (appliance/storage/shared_limits.py), or None: in memory."""
    storage = ({"storage_uri": f"{SHARED_SCHEME}://", "storage_options": {"counters": shared},
                # PostgreSQL unreachable: the per-user limit counted in this node's memory meanwhile,
                # rather than an error for every request.
                "in_memory_fallback_enabled": True, "in_memory_fallback": [settings.rate_limit]}
               if shared is not None else {"storage_uri": "memory://"})
    return Limiter(
        key_func=user_or_ip,
        application_limits=[settings.rate_limit],
        headers_enabled=True,
        strategy="fixed-window",
        retry_after="delta-seconds",
        **storage,
    )


def limit_endpoint(app, limiter: Limiter, endpoint: str, limit: str, key_func, **options) -> None:
    """Attach a route limit to an already registered view. flask-limiter enforces decorated
    limits in the wrapper it returns, so the wrapper must replace the registered view."""
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(limit, key_func=key_func,
                                                 error_message="rate limit exceeded", **options)(view)


_REFUSALS = {
    "account": "Too many failed logins for this account from your address",
    "client": "Too many failed logins from your address",
    "backoff": "This account has had many failed logins, so attempts at it are spaced out",
}


def init_login_throttle(app: Flask, settings: Settings, shared=None) -> None:
    """The login throttle of this app (`shared`: the cluster's meters). Call it before the
    limiter's init_app: its header hook must run after flask-limiter's, which writes the
    application limit's headers."""
    rate = limits.parse(settings.login_rate_limit)
    meters = SharedMeters(shared) if shared is not None else None
    app.extensions["statuscore.login_throttle"] = LoginThrottle(Rate(rate.amount, rate.get_expiry()), meters=meters)
    app.after_request(_throttled_headers)


def login_throttle() -> LoginThrottle:
    return current_app.extensions["statuscore.login_throttle"]


def throttled_response(refused: Throttled, account: str):
    """429 with the contract's body, a sentence on what to do, and headers that say when."""
    seconds = max(1, math.ceil(refused.retry_after))
    if refused.first:  # once per blocked client, not once per refused request
        proxy = request.environ.get(PROXY_ENVIRON_KEY)
        log.warning("login throttled (%s) for %r from %s%s; retry in %d s", refused.reason, account,
                    request.remote_addr, f" (via proxy {proxy})" if proxy else "", seconds)
    g.login_refusal = (refused.limit, seconds)
    return error_response(429, "rate limit exceeded",
                          {"login": f"{_REFUSALS[refused.reason]}; try again in {seconds} s."})


def _throttled_headers(response):
    if "login_refusal" in g:
        limit, seconds = g.login_refusal
        response.headers["Retry-After"] = str(seconds)
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = str(math.ceil(time.time()) + seconds)
    return response
