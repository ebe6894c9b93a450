"""Export and import of a configuration (monitors, webhooks, status page, maintenance) as JSON or
YAML: no ids or secrets out; import matched by name, idempotent, with a dry run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from tests.support.appliance import ROOT, InProcessAppliance

DOCUMENT = {
    "monitors": [
        {"name": "Website", "type": "https", "target": "https://127.0.0.1:9/", "interval": 60, "is_active": False},
        {"name": "DB", "type": "tcp", "target": "127.0.0.1", "port": 9, "retries": 2, "is_active": False},
    ],
    "webhooks": [{"url": "http://127.0.0.1:9/hook", "format": "slack", "events": ["monitor.down"]}],
    "status_page": {"company_name": "Acme", "slug": "acme-status"},
    "maintenance": [{"name": "Sunday backups", "monitors": ["DB"],
                     "recurring": {"weekdays": ["sun"], "start": "02:00", "duration_minutes": 60,
                                   "timezone": "Europe/Berlin"}}],
}


@pytest.fixture
def server(tmp_path):
    instance = InProcessAppliance(tmp_path / "data").start(engine=False)
    yield instance
    instance.stop()


def names(items):
    return sorted(f"{i['kind']}:{i['name']}" for i in items)


def test_it_imports_idempotently_and_exports_the_same_thing_back(server):
    api, admin = server.api, server.admin()
    dry = api.post("/api/import?dry_run=true", admin, json=DOCUMENT).json()
    assert dry["dry_run"] is True and len(dry["created"]) == 4 and len(dry["updated"]) == 1
    assert api.get("/api/monitors", admin).json() == []  # nothing written by a dry run

    first = api.post("/api/import", admin, json=DOCUMENT).json()
    assert names(first["created"]) == ["maintenance:Sunday backups", "monitor:DB", "monitor:Website",
                                       "webhook:http://127.0.0.1:9/hook"]
    assert names(first["updated"]) == ["status_page:acme-status"]
    second = api.post("/api/import", admin, json=DOCUMENT).json()
    assert second["created"] == [] and second["updated"] == [] and len(second["unchanged"]) == 5

    exported = api.get("/api/export", admin).json()
    text = str(exported)
    assert "whsec_" not in text and "'id'" not in text
    assert [m["name"] for m in exported["monitors"]] == ["Website", "DB"]
    assert exported["maintenance"][0]["monitors"] == ["DB"]
    assert exported["status_page"] == {"company_name": "Acme", "slug": "acme-status"}
    again = api.post("/api/import", admin, json=exported).json()
    assert again["created"] == [] and again["updated"] == []


def test_it_updates_by_name_and_never_deletes(server):
    api, admin = server.api, server.admin()
    api.post("/api/import", admin, json=DOCUMENT)
    api.create_monitor(admin, name="Kept", type="tcp", target="127.0.0.1", port=9, is_active=False)
    changed = {"monitors": [{**DOCUMENT["monitors"][1], "retries": 5}]}
    report = api.post("/api/import", admin, json=changed).json()
    assert names(report["updated"]) == ["monitor:DB"]
    monitors = {m["name"]: m for m in api.get("/api/monitors", admin).json()}
    assert monitors["DB"]["retries"] == 5 and set(monitors) == {"Website", "DB", "Kept"}


def test_it_reads_and_writes_yaml(server):
    api, admin = server.api, server.admin()
    body = yaml.safe_dump(DOCUMENT)
    response = api.post("/api/import", admin, data=body, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 200, response.text
    exported = api.get("/api/export?format=yaml", admin)
    assert exported.headers["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(exported.text)["webhooks"][0]["format"] == "slack"


@pytest.mark.parametrize("document, field", [
    ({"monitors": [{"name": "x", "type": "http", "target": "ftp://nope"}]}, "monitors[0].target"),
    ({"monitors": [{"name": "x", "type": "tcp", "target": "127.0.0.1"}]}, "monitors[0].port"),
    ({"monitors": [{"name": "x", "type": "tcp", "target": "127.0.0.1", "port": 1, "colour": "red"}]},
     "monitors[0].colour"),
    ({"monitors": [{"name": "a", "type": "tcp", "target": "h", "port": 1}, {"name": "a", "type": "tcp",
                                                                           "target": "h", "port": 1}]},
     "monitors[1].name"),
    ({"webhooks": [{"url": "gopher://x"}]}, "webhooks[0].url"),
    ({"maintenance": [{"name": "m", "monitors": ["nope"], "starts_at": "2030-01-01T00:00:00Z",
                       "ends_at": "2030-01-01T01:00:00Z"}]}, "maintenance[0].monitors"),
    ({"status_page": {"company_name": "x", "slug": "Bad Slug"}}, "status_page.slug"),
    ({"monitor": []}, "monitor"),
])
def test_it_checks_the_whole_document_before_writing_anything(server, document, field):
    api, admin = server.api, server.admin()
    response = api.post("/api/import", admin, json={**DOCUMENT, **document} if "monitor" not in document
                        else document)
    assert response.status_code == 400, response.text
    assert field in response.json()["details"]
    assert api.get("/api/monitors", admin).json() == []


def test_it_refuses_yaml_aliases_and_garbage(server):
    api, admin = server.api, server.admin()
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nmonitors: [*b]\n"
    response = api.post("/api/import", admin, data=bomb, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 400 and "YAML" in response.json()["error"]
    assert api.post("/api/import", admin, data="{not json").status_code == 400
    assert api.post("/api/import", admin, json=[1, 2]).status_code == 400
    assert api.post("/api/import?dry_run=maybe", admin, json={}).status_code == 400
    assert api.get("/api/export?format=xml", admin).status_code == 400


def test_it_keeps_users_apart(server):
    api, admin = server.api, server.admin()
    api.post("/api/import", admin, json=DOCUMENT)
    other = api.create_user(admin, "importer@example.test")
    assert api.get("/api/export", other).json()["monitors"] == []
    assert api.post("/api/import").status_code == 401


def test_the_cli_exports_and_imports_with_a_dry_run(server, tmp_path):
    api, admin = server.api, server.admin()
    api.post("/api/import", admin, json=DOCUMENT)
    env = {**os.environ, "STATUSCORE_TOKEN": admin.token, "STATUSCORE_SERVER": server.url}
    out = tmp_path / "statuscore.yaml"
    done = subprocess.run([sys.executable, "-m", "statuscore", "export", "--output", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(out.read_text())
    document["monitors"][0]["interval"] = 120
    out.write_text(yaml.safe_dump(document))
    dry = subprocess.run([sys.executable, "-m", "statuscore", "import", str(out), "--dry-run"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "updated   monitor     Website" in dry.stdout and "dry run" in dry.stdout
    assert api.get("/api/monitors", admin).json()[0]["interval"] == 60
    real = subprocess.run([sys.executable, "-m", "statuscore", "import", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert real.returncode == 0 and api.get("/api/monitors", admin).json()[0]["interval"] == 120


def test_it_reads_an_unquoted_yaml_time_as_a_time(server):
    api, admin = server.api, server.admin()
    api.post("/api/import", admin, json={"monitors": DOCUMENT["monitors"]})
    body = ("maintenance:\n  - name: Lunch deploys\n    monitors: [DB]\n    recurring:\n"
            "      weekdays: [mon]\n      start: 12:30\n      duration_minutes: 30\n")
    response = api.post("/api/import", admin, data=body, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 200, response.text
    assert api.get("/api/maintenance", admin).json()[0]["recurring"]["start"] == "12:30"
