"""The OpenAPI document: served, valid OpenAPI 3.1, complete (every /api route of the app with
its methods, nothing that does not exist), built from the request models, and right about
which endpoints need a token. The fuzzing against it is in test_openapi_fuzz.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis

from appliance.config import Settings
from appliance.service import Appliance
from server import create_app, schemas
from server.openapi import NULL_REFUSED, REF, build_document, request_schema

SERVER_DIR = Path(__file__).resolve().parents[2] / "server"
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}  # Flask adds them to every route
_PLACEHOLDER = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    appliance = Appliance(Settings.load({"data_dir": tmp_path_factory.mktemp("openapi") / "data"}, env={}))
    yield create_app(appliance)
    appliance.stop()


@pytest.fixture(scope="module")
def document() -> dict:
    return build_document()


def api_routes(app) -> dict[str, set[str]]:
    """OpenAPI path -> methods, for every /api rule of the app."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.rule.startswith("/api/"):
            continue
        path = _PLACEHOLDER.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        routes.setdefault(path, set()).update(set(rule.methods) - IMPLICIT_METHODS)
    return routes


def documented(document) -> dict[str, set[str]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {path: {m.upper() for m in item if m in methods} for path, item in document["paths"].items()}


def test_it_documents_every_api_route_with_its_methods(app, document):
    missing = {path: sorted(methods - documented(document).get(path, set()))
               for path, methods in api_routes(app).items()}
    missing = {path: methods for path, methods in missing.items() if methods}
    assert not missing, f"add these to OPERATIONS in server/openapi.py: {missing}"


def test_it_documents_nothing_that_is_not_routed(app, document):
    routes = api_routes(app)
    stale = {path: sorted(methods - routes.get(path, set())) for path, methods in documented(document).items()}
    stale = {path: methods for path, methods in stale.items() if methods}
    assert not stale, f"documented but not routed: {stale}"


def test_it_types_path_parameters_as_the_routes_convert_them(app, document):
    components = document["components"]["parameters"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = _PLACEHOLDER.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        declared = {}
        for param in document["paths"][path].get("parameters", []):
            param = components[param["$ref"].rsplit("/", 1)[1]] if "$ref" in param else param
            declared[param["name"]] = param
        for match in _PLACEHOLDER.finditer(rule.rule):
            param = declared[match["name"]]
            assert param["in"] == "path" and param["required"] is True
            expected = "integer" if match["converter"] == "int" else "string"
            assert param["schema"]["type"] == expected, (path, match["name"])


def test_it_is_a_valid_openapi_3_1_document(document):
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.1 meta-schema


def test_it_documents_every_request_body_from_its_pydantic_model(document):
    """Whatever a view parses with parse_body(Model) is documented as exactly that model."""
    parsed = set()
    for source in SERVER_DIR.glob("*.py"):
        parsed |= set(re.findall(r"parse_body\((\w+)\)", source.read_text()))
    assert parsed, "no parse_body calls found"
    components = document["components"]["schemas"]
    for name in parsed:
        model = getattr(schemas, name)
        expected = request_schema(model)
        expected.pop("$defs", None)
        assert components[name] == expected, name
        generated = model.model_json_schema(ref_template=REF)
        assert set(components[name]["properties"]) == set(generated["properties"])
        assert components[name].get("required", []) == generated.get("required", [])
    used = {op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            for item in document["paths"].values() for op in item.values()
            if isinstance(op, dict) and "requestBody" in op}
    # Bodies read without a pydantic model (JSON or YAML documents) are named here.
    assert used == parsed | {"ConfigDocument"}


def test_it_refuses_null_where_the_document_says_so(api, admin):
    """The document drops `null` from these fields (NULL_REFUSED): the API must answer 400."""
    http = {"name": "Site", "type": "http", "target": "http://127.0.0.1:9/"}
    monitor = api.create_monitor(admin, **http)
    for model, fields in NULL_REFUSED.items():
        for field in fields or getattr(schemas, model).model_fields:
            if model == "MonitorCreateBody":
                response = api.post("/api/monitors", admin, json={**http, field: None})
            elif model == "MonitorUpdateBody":
                response = api.put(f"/api/monitors/{monitor['id']}", admin, json={field: None})
            else:
                response = api.patch(f"/api/admin/users/{admin.id}", admin, json={field: None})
            assert response.status_code == 400, (model, field, response.text)
            assert field in response.json().get("details", {}), (model, field, response.text)


def test_it_documents_the_error_body_for_every_error_status(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            codes = set(op["responses"])
            assert "429" in codes, (method, path)
            assert "401" in codes or not op["security"], (method, path)
            for code, response in op["responses"].items():
                if int(code) >= 400:
                    name = response["$ref"].rsplit("/", 1)[1]
                    error = document["components"]["responses"][name]
                    assert error["content"]["application/json"]["schema"] == {"$ref": REF.format(model="Error")}


def test_it_serves_the_document(api, document):
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == document


def test_it_marks_exactly_the_endpoints_that_need_a_token(api, document):
    for path, item in document["paths"].items():
        url = re.sub(r"\{\w+_id\}", "1", path).replace("{token}", "no-such-token")
        for method, op in item.items():
            if method == "parameters":
                continue
            status = api.request(method.upper(), url).status_code
            if op["security"]:
                assert status == 401, (method, path, status)
            else:
                assert status != 401, (method, path, status)


def test_it_declares_the_probe_token_for_exactly_the_probe_api(document):
    """/api/probe/* takes a probe's token (scp_...), every other protected endpoint a login."""
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"bearerAuth", "probeToken"}
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters" or not op["security"]:
                continue
            expected = "probeToken" if path.startswith("/api/probe/") else "bearerAuth"
            assert op["security"] == [{expected: []}], (method, path)
