"""The HTTP skin of the appliance: create_app(appliance) builds the Flask app (blueprints,
JSON errors, auth, rate limits); `statuscore serve` (statuscore/serve.py) serves it with waitress (server/http_server.py)."""

from __future__ import annotations

from flask import Flask, g
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from server import (admin, auth, health, heartbeat, incidents, insights, landing, maintenance, metrics, monitors,
                    openapi, probes, tools, transfer, webhooks)
from server.errors import register_error_handlers
from server.limits import create_limiter, init_login_throttle
from server.proxies import TrustedProxies
from server import public, status_page  # the status page: its settings, JSON and web page
from server import incident_updates  # the owner's notes on incidents, shown on the status page

MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER_STATUSES = (429, 503)  # the only answers that say when to try again


class RowIdConverter(IntegerConverter):
    """`<int:...>` in our routes is a row id: at most 18 digits (SQLite's INTEGER holds 19), so a
    longer number matches no route (404) instead of overflowing in the database (500)."""

    regex = r"\d{1,18}"


class JSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:  # thousands of nested [[[...: bad JSON (400), not a crash (500)
            raise ValueError("the JSON is nested too deeply") from None


def create_app(appliance, config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = RowIdConverter  # before any blueprint adds a rule
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config.update(config or {})
    app.json.sort_keys = False
    app.extensions["statuscore"] = appliance

    if appliance.settings.trusted_proxies:  # the client address, before anything reads it
        app.wsgi_app = TrustedProxies(app.wsgi_app, appliance.settings.trusted_proxies)
    auth.init_jwt(app, appliance)
    shared = appliance.services.limits.shared()  # cluster mode: one budget across the nodes
    init_login_throttle(app, appliance.settings, shared)  # before the limiter (see there)
    limiter = create_limiter(appliance.settings, shared)
    limiter.init_app(app)
    app.extensions["statuscore.limiter"] = limiter

    for blueprint in (auth.bp, monitors.bp, insights.bp, admin.bp, heartbeat.bp, webhooks.bp, tools.bp,
                      maintenance.bp, metrics.bp, transfer.bp,
                      probes.admin_bp, probes.locations_bp, probes.probe_bp, openapi.bp, health.bp,
                      incidents.bp, landing.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(status_page.bp)
    app.register_blueprint(incident_updates.bp)
    app.register_blueprint(public.bp)
    heartbeat.register_heartbeat_limits(app, limiter, appliance.settings)
    probes.register_probe_limits(app, limiter)
    tools.register_tool_limits(app, limiter, appliance.settings)

    register_error_handlers(app)

    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        own = g.get("retry_after")
        if own is not None:  # "busy, try again in ..." (an ApiError's retry_after)
            response.headers["Retry-After"] = str(own)
        elif response.status_code not in RETRY_AFTER_STATUSES:  # flask-limiter sets it on every response
            response.headers.pop("Retry-After", None)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Flask runs after_request functions last-registered first: put this one at the front of the
    # list, so it runs after flask-limiter's (which adds Retry-After to every limited response).
    app.after_request_funcs.setdefault(None, []).insert(0, _headers)
    return app
