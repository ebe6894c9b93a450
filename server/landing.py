"""GET /: what this address is. A small page for browsers, JSON for `Accept: application/json`,
with the links a newcomer needs: the status pages, the API's OpenAPI document, the health check,
and how to open the admin console. No login; limited per client IP like every anonymous call."""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, render_template, request

from server.auth import services
from server.links import link_base
from server.public import PAGE_HEADERS

bp = Blueprint("landing", __name__)

OPENAPI_URL = "/api/openapi.json"
HEALTH_URL = "/api/health"


def landing_json() -> dict:
    about = services().about
    return {
        "name": "StatusCore",
        "version": about.version,
        "status_pages": [{"company_name": page.company_name, "url": f"/status/{page.slug}",
                          "json_url": f"/api/public/status/{page.slug}"} for page in about.status_pages()],
        "openapi_url": OPENAPI_URL,
        "health_url": HEALTH_URL,
        "console": f"statuscore console --server {link_base()}",
    }


@bp.get("/")
def landing():
    data = landing_json()
    # Browsers ask for text/html first; scripts that ask for JSON (or only JSON) get JSON.
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        response = jsonify(data)
    else:
        response = make_response(render_template("landing.html", about=data), 200)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        response.headers.update(PAGE_HEADERS)  # the status page's CSP: own assets only, no framing
    response.headers["Vary"] = "Accept"  # one URL, two answers
    return response
