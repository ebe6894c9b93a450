"""Every error leaves as {"error": "<one sentence>", "details": {...}}, whatever raised it."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

from appliance.plans import LimitReached
from appliance.services.errors import (STORE_REFUSALS, Conflict, Forbidden, Invalid, NotFound, ServiceError,
                                       Unavailable, UpstreamFailed, UpstreamTimeout, describe_store_error)

log = logging.getLogger("statuscore.api")

_MESSAGES = {
    400: "The request is malformed.",
    401: "Authentication required: send 'Authorization: Bearer <token>' from /api/auth/login.",
    403: "You are not allowed to do this.",
    404: "Not found.",
    405: "This method is not allowed on this path.",
    413: "The request body is larger than 1 MiB.",
    415: "Send the body as JSON (Content-Type: application/json).",
    429: "rate limit exceeded",
}


# What each refusal of a use case is on the wire.
_STATUS = {Invalid: 400, Forbidden: 403, NotFound: 404, Conflict: 409, UpstreamFailed: 502, Unavailable: 503,
           UpstreamTimeout: 504}


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: dict | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details
        self.retry_after = retry_after  # seconds, sent as Retry-After (e.g. "busy, try again")


def not_found(what: str = "monitor") -> ApiError:
    return ApiError(404, f"{what} not found")


def error_response(status: int, message: str, details: dict | None = None):
    body = {"error": message}
    if details:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if exc.retry_after is not None:
            g.retry_after = exc.retry_after  # create_app's last after_request hook sets the header
        return error_response(exc.status, exc.message, exc.details)

    @app.errorhandler(ServiceError)
    def _refused(exc: ServiceError):
        return error_response(_STATUS[type(exc)], exc.message, exc.details)

    @app.errorhandler(LimitReached)
    def _plan_limit(exc: LimitReached):
        # The plan does not allow more (API.md: 403 for what the plan does not include).
        return error_response(403, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        response = error_response(code, _MESSAGES.get(code, exc.name))
        if code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    def _store_refused(exc: Exception):
        # The disk is full (or failing, or the database busy): say so in one line, and answer
        # 503 (try again), never a bare 500 with a traceback per request.
        text = describe_store_error(exc)
        log.error("a request could not be completed: the data store refused it (%s); if the disk is full, "
                  "free space under the data dir", text)
        return error_response(503, f"The appliance cannot write its data now ({text}); if the disk is full, "
                                   "free space under the data dir and try again.")

    for refusal in STORE_REFUSALS:
        app.register_error_handler(refusal, _store_refused)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error while answering a request")
        return error_response(500, "Internal error; the details are in the server log.")
