"""Where users reach the appliance, for absolute links in answers."""

from __future__ import annotations

from flask import current_app, request


def link_base() -> str:
    """The public_url setting when set (behind a reverse proxy that rewrites the host), else the
    scheme and host this request came to (X-Forwarded-* already applied for trusted proxies)."""
    public = current_app.extensions["statuscore"].settings.public_url
    return (public or request.host_url).rstrip("/")
