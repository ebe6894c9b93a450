"""GET /metrics: Prometheus text format, for an admin login or an API key.

What it holds, and for whom, is the Metrics service's (appliance/services/metrics.py); this
module writes it in the exposition format.
"""

from __future__ import annotations

from flask import Blueprint, Response, g

from server.auth import authenticate, current_user, services
from server.errors import ApiError

bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"



def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


class Exposition:
    def __init__(self):
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(**labels) if labels else ''} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


@bp.get("/metrics")
def metrics():
    authenticate()
    if g.get("api_key") is None and not current_user.is_admin:
        raise ApiError(403, "Metrics need an admin login or an API key.")
    out = Exposition()
    for family in services().metrics.families(current_user):
        out.family(family.name, family.kind, family.help, family.samples)
    return Response(out.text(), mimetype=None, content_type=CONTENT_TYPE)
