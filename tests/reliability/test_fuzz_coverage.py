"""The schemathesis run over the whole API (tests/server/test_openapi_fuzz.py: no 5xx, no
schema violation, a documented status, content type and headers for every generated request)
reaches every endpoint: the document it is driven by has every routed /api operation, and
schemathesis turns each of them into a test (none dropped for a schema it cannot use).

For a longer run than the suite's bounded one (20 examples per operation and phase):
`STATUSCORE_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/server/test_openapi_fuzz.py -n 0`.
"""

from __future__ import annotations

import pytest
import schemathesis

from server import create_app
from tests.server.test_openapi_fuzz import CONFIG, MAX_EXAMPLES
from tests.support.appliance import InProcessAppliance

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("coverage") / "data")
    yield create_app(instance.appliance)
    instance.appliance.stop()


def routed(app) -> set[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every /api route the server answers."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", f"{{{name}}}").replace(f"<anytext:{name}>", f"{{{name}}}")
            path = path.replace(f"<{name}>", f"{{{name}}}")
        out |= {(method, path) for method in rule.methods & METHODS}
    return out


def test_it_fuzzes_every_routed_api_operation(app):
    document = app.test_client().get("/api/openapi.json").json
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config.from_dict(CONFIG))
    fuzzed, broken = set(), []
    for result in schema.get_all_operations():
        try:
            operation = result.ok()
        except Exception as exc:  # an operation schemathesis cannot build tests for
            broken.append(repr(exc))
            continue
        fuzzed.add((operation.method.upper(), operation.path))
    assert broken == []
    assert fuzzed == routed(app)
    assert MAX_EXAMPLES >= 20
