"""The HTTP skin of the appliance: create_app(appliance) builds the Flask app (blueprints,
JSON errors, auth, rate limits); appliance.cli serves it with waitress."""

from __future__ import annotations

from flask import Flask

from server import admin, auth, monitors, openapi
from server.errors import register_error_handlers
from server.limits import create_limiter

MAX_BODY_BYTES = 1024 * 1024


def create_app(appliance, config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config.update(config or {})
    app.json.sort_keys = False
    app.extensions["statuscore"] = appliance

    auth.init_jwt(app, appliance)
    limiter = create_limiter(appliance.settings)
    limiter.init_app(app)
    app.extensions["statuscore.limiter"] = limiter

    for blueprint in (auth.bp, monitors.bp, admin.bp, openapi.bp):
        app.register_blueprint(blueprint)
    auth.register_login_limits(limiter, appliance.settings)

    register_error_handlers(app)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
