"""The logged-in user's status page settings: GET and PUT /api/settings/status-page.

`{company_name, slug}`: the page is then public at /status/<slug> (and its JSON at
/api/public/status/<slug>); a slug is unique across the appliance (409 when taken); `slug: null`
turns the page off. Which monitors it lists is each monitor's `public_status`.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from appliance.models import User
from server.auth import current_user, require_login, services
from server.schemas import StatusPageBody, parse_body

bp = Blueprint("status_page", __name__, url_prefix="/api/settings")
bp.before_request(require_login)


def status_page_json(user: User) -> dict:
    slug = user.status_page_slug
    return {
        "company_name": user.company_name,
        "slug": slug,
        "url": f"/status/{slug}" if slug else None,
        "json_url": f"/api/public/status/{slug}" if slug else None,
    }


@bp.get("/status-page")
def get_status_page():
    return jsonify(status_page_json(current_user))


@bp.put("/status-page")
def put_status_page():
    body = parse_body(StatusPageBody)
    return jsonify(status_page_json(services().status_pages.configure(current_user, body.company_name, body.slug)))
