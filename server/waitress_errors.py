"""waitress answers some requests itself, before the app sees them (a malformed request line, a
bad header, headers or a chunked body too large, a body it cannot read): by default as plain
text. Here they leave in the contract's shape, `{"error": "<one sentence>"}` as JSON.

server/http_server.py's channel derives from JsonErrorChannel.
"""

from __future__ import annotations

import json

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

# What to do about each of waitress's own errors (by status code), in one sentence.
_MESSAGES = {
    400: "The request is not valid HTTP ({detail}); send a well-formed HTTP/1.1 request.",
    413: "The request body is too large ({detail}); send at most 1 MiB.",
    431: "The request's headers are too large ({detail}); send fewer or shorter headers.",
    501: "The server cannot handle this request ({detail}); send a plain HTTP/1.1 request.",
    500: "Internal error; the details are in the server log.",
}
MAX_DETAIL = 200


def error_body(error) -> bytes:
    """waitress's error (a waitress.utilities.Error) as the contract's JSON body."""
    detail = " ".join(str(error.body or error.reason).split())[:MAX_DETAIL].rstrip(".")
    template = _MESSAGES.get(error.code, "The request could not be served ({detail}).")
    return json.dumps({"error": template.format(detail=detail)}).encode("utf-8")


class JsonErrorTask(ErrorTask):
    """ErrorTask with a JSON body (the status line and closing the connection are waitress's)."""

    def execute(self):
        error = self.request.error
        body = error_body(error)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff"),
                                      ("Cache-Control", "no-store")])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    """An HTTP connection whose own error answers are JSON."""

    error_task_class = JsonErrorTask

