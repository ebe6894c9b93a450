"""console.client.ApiClient against a real appliance: one error type with the server's message
and details, a clear error when the server is unreachable, the token file."""

from __future__ import annotations

import os
import stat

import pytest

from console.client import ApiClient, ApiError, ServerUnreachable
from tests.console.helpers import idle_appliance
from tests.support.net import free_port

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


def logged_in(server, user) -> ApiClient:
    client = ApiClient(server.url)
    client.login(user.email, user.password)
    return client


def test_it_logs_in_and_reads_the_user(server, alice):
    client = ApiClient(server.url + "/")  # a trailing slash is fine
    user = client.login(alice.email, alice.password)
    assert user["email"] == alice.email and client.token
    assert client.me()["isAdmin"] is False


def test_it_raises_one_error_type_with_the_servers_message_and_details(server, alice):
    client = logged_in(server, alice)
    with pytest.raises(ApiError) as caught:
        client.create_monitor(name="x", type="tcp", target="db.internal")
    assert caught.value.status == 400
    assert caught.value.details == {"port": "is required for tcp monitors (1-65535)"}
    assert "port" in caught.value.message
    with pytest.raises(ApiError) as missing:
        client.get_monitor(999_999)
    assert (missing.value.status, missing.value.message) == (404, "monitor not found")
    with pytest.raises(ApiError) as bad_login:
        ApiClient(server.url).login(alice.email, "wrong-password")
    assert bad_login.value.status == 401 and not bad_login.value.unreachable


def test_it_covers_a_monitors_life(server, alice, peer):
    client = logged_in(server, alice)
    monitor = client.create_monitor(name="Life", type="http", target=peer.url + "/")
    assert client.update_monitor(monitor["id"], name="Life 2")["name"] == "Life 2"
    assert client.toggle_monitor(monitor["id"], False)["status"] == "paused"
    assert client.set_public(monitor["id"], True)["public_status"] is True
    assert client.history(monitor["id"], hours=1)["monitor"]["id"] == monitor["id"]
    assert client.stats(monitor["id"], days=1)["days"] == 1
    insights = client.insights(monitor["id"])
    assert (insights["incidents"], insights["anomalies"]) == ([], [])
    assert all(s["anomaly_score"] is None or 0 <= s["anomaly_score"] <= 1  # a check may have run
               for s in insights["anomaly_scores"])
    assert client.delete_monitor(monitor["id"]) is None
    assert client.list_monitors() == []


def test_it_says_when_the_server_cannot_be_reached():
    client = ApiClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(ServerUnreachable) as caught:
        client.list_monitors()
    assert isinstance(caught.value, ApiError)
    assert caught.value.status is None and caught.value.unreachable
    assert str(caught.value).startswith("cannot reach http://127.0.0.1:")


def test_it_keeps_a_token_only_in_a_private_file_for_its_server(server, alice, tmp_path):
    client = logged_in(server, alice)
    path = client.save_token(tmp_path / "dir" / "token")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = ApiClient(server.url)
    assert again.load_token(path) and again.me()["email"] == alice.email
    elsewhere = ApiClient("http://127.0.0.1:1")
    assert not elsewhere.load_token(path) and elsewhere.token is None


def test_it_covers_keys_maintenance_export_and_metrics(server, api, admin, alice):
    client = logged_in(server, alice)
    monitor = client.create_monitor(name="Kept", type="http", target="http://127.0.0.1:9/")
    created = client.create_api_key("script", scope="read")
    assert created["key"].startswith("sc_")
    assert [k["name"] for k in client.list_api_keys()] == ["script"]
    reader = ApiClient(server.url, token=created["key"])
    assert [m["name"] for m in reader.list_monitors()] == ["Kept"]
    with pytest.raises(ApiError) as refused:
        reader.delete_monitor(monitor["id"])
    assert refused.value.status == 403
    client.delete_api_key(created["id"])
    assert client.list_api_keys() == []

    window = client.create_maintenance({"name": "Patch night", "monitor_ids": [monitor["id"]],
                                        "starts_at": "2030-01-01T02:00:00Z", "ends_at": "2030-01-01T03:00:00Z"})
    assert client.get_maintenance(window["id"])["active"] is False
    assert client.update_maintenance(window["id"], {"name": "Patch night 2"})["name"] == "Patch night 2"
    assert [w["id"] for w in client.list_maintenance()] == [window["id"]]
    client.delete_maintenance(window["id"])

    document = client.export()
    assert [m["name"] for m in document["monitors"]] == ["Kept"]
    assert client.import_(document, dry_run=True)["unchanged"]
    assert "statuscore_monitor_up" in logged_in(server, admin).metrics()


def test_it_streams_a_backup_and_moves_the_configuration_as_text(server, admin, alice):
    client = logged_in(server, admin)
    with client.backup() as chunks:
        archive = b"".join(chunks)
    assert archive[:2] == b"\x1f\x8b"  # a .tar.gz
    with pytest.raises(ApiError) as refused:
        with logged_in(server, alice).backup():
            pass
    assert refused.value.status == 403 and refused.value.server_said == refused.value.message
    text = client.export_text("yaml")
    assert "monitors:" in text  # YAML as the server wrote it, not a parsed document
    report = client.import_text(text.encode("utf-8"), "yaml", dry_run=True)
    assert report["created"] == [] and report["updated"] == []


def test_it_tells_the_servers_own_sentence_from_a_bare_status_and_names_why_it_is_out_of_reach(peer):
    peer.set_status(502)  # a proxy's page, not the appliance's JSON
    with pytest.raises(ApiError) as caught:
        ApiClient(peer.url).list_monitors()
    assert (caught.value.status, caught.value.server_said) == (502, None)
    with pytest.raises(ServerUnreachable) as unreachable:
        ApiClient(f"http://127.0.0.1:{free_port()}", timeout=2).list_monitors()
    assert unreachable.value.reason == "ConnectionError"
