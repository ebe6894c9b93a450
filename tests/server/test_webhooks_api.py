"""The webhooks API over HTTP: create, list, update, delete, test and the delivery log, per
user, with URL validation and a generated secret. The test endpoint sends to a real receiver
on 127.0.0.1; the check engine is off (nothing else is ever sent)."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error
from tests.support.net import free_port, wait_for
from tests.support.receiver import Receiver

BASE = "/api/settings/webhooks"
ALL_EVENTS = ["monitor.down", "monitor.up", "ssl.expiring", "domain.expiring", "anomaly.detected"]
WEBHOOK_KEYS = {"id", "url", "format", "events", "secret", "enabled", "failing", "created_at"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_emails = iter(range(10**6))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Engine off, and a short webhook timeout so the hanging receiver costs one second."""
    instance = InProcessAppliance(tmp_path_factory.mktemp("webhooks") / "data", webhook_timeout=1.0)
    instance.start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture
def alice(api, admin):
    return api.create_user(admin, f"hooks-alice-{next(_emails)}@example.test", full_name="Alice")


@pytest.fixture
def bob(api, admin):
    return api.create_user(admin, f"hooks-bob-{next(_emails)}@example.test", full_name="Bob")


@pytest.fixture
def receiver():
    with Receiver() as hook:
        yield hook


def create(api, user, **fields) -> dict:
    body = {"url": "http://127.0.0.1:9/hook", **fields}
    response = api.post(BASE, user, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def masked(hook: dict) -> dict:
    """The webhook as every answer but the one that made its secret shows it."""
    return {**hook, "secret": "whsec_****" + hook["secret"][-4:]}


# ---- create, list, update, delete ---------------------------------------------------------------

def test_it_creates_a_webhook_with_defaults_and_a_generated_secret(api, alice):
    hook = create(api, alice, url="https://hooks.example.test/statuscore")
    assert set(hook) == WEBHOOK_KEYS
    assert hook["url"] == "https://hooks.example.test/statuscore"
    assert hook["format"] == "generic"
    assert hook["events"] == ALL_EVENTS
    assert hook["enabled"] is True and hook["failing"] is False
    assert re.fullmatch(r"whsec_[0-9a-f]{48}", hook["secret"])
    assert TIMESTAMP.match(hook["created_at"])
    assert create(api, alice)["secret"] != hook["secret"]


@pytest.mark.parametrize("fmt", ["generic", "slack", "discord"])
def test_it_creates_a_webhook_in_each_format(api, alice, fmt):
    hook = create(api, alice, format=fmt, events=["monitor.up"], enabled=False)
    assert (hook["format"], hook["events"], hook["enabled"]) == (fmt, ["monitor.up"], False)


def test_it_lists_only_the_callers_webhooks_in_creation_order(api, alice, bob):
    first = create(api, alice, url="http://127.0.0.1:9/a")
    second = create(api, alice, url="http://127.0.0.1:9/b", format="slack")
    bobs = create(api, bob)
    listed = api.get(BASE, alice)
    assert listed.status_code == 200
    assert listed.json() == [masked(first), masked(second)]
    assert api.get(BASE, bob).json() == [masked(bobs)]


def test_it_updates_only_the_given_fields(api, alice):
    hook = create(api, alice)
    response = api.put(f"{BASE}/{hook['id']}", alice, json={"events": ["monitor.down"], "format": "discord"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {**masked(hook), "events": ["monitor.down"], "format": "discord"}
    response = api.put(f"{BASE}/{hook['id']}", alice, json={"url": "https://example.test/x", "enabled": False})
    assert response.json() == {**updated, "url": "https://example.test/x", "enabled": False}
    assert api.get(BASE, alice).json() == [response.json()]


def test_it_rotates_the_secret_on_request_only(api, alice):
    hook = create(api, alice)
    same = api.put(f"{BASE}/{hook['id']}", alice, json={"rotate_secret": False}).json()
    assert same == masked(hook)
    rotated = api.put(f"{BASE}/{hook['id']}", alice, json={"rotate_secret": True}).json()
    assert rotated["secret"] != hook["secret"]
    assert re.fullmatch(r"whsec_[0-9a-f]{48}", rotated["secret"])
    assert rotated == {**hook, "secret": rotated["secret"]}


def test_it_shows_the_secret_only_in_the_answer_that_made_it(api, alice):
    """Like an API key: in full when created or rotated, masked everywhere else, to anyone (a
    read-only API key included: it must not be able to forge signed deliveries)."""
    hook = create(api, alice)
    read_key = api.post("/api/auth/keys", alice, json={"name": "dashboard", "scope": "read"}).json()["key"]
    write_key = api.post("/api/auth/keys", alice, json={"name": "deploy", "scope": "write"}).json()["key"]
    for caller in (read_key, write_key, alice):
        [listed] = api.get(BASE, caller).json()
        assert listed["secret"] == "whsec_****" + hook["secret"][-4:]
        assert hook["secret"][6:-4] not in api.get(BASE, caller).text
    changed = api.put(f"{BASE}/{hook['id']}", write_key, json={"enabled": False}).json()
    assert changed["secret"] == "whsec_****" + hook["secret"][-4:]
    rotated = api.put(f"{BASE}/{hook['id']}", write_key, json={"rotate_secret": True}).json()
    assert re.fullmatch(r"whsec_[0-9a-f]{48}", rotated["secret"])
    assert api.get(BASE, read_key).json()[0]["secret"] == "whsec_****" + rotated["secret"][-4:]


def test_it_deletes_a_webhook(api, alice):
    hook = create(api, alice)
    response = api.delete(f"{BASE}/{hook['id']}", alice)
    assert response.status_code == 204 and response.content == b""
    assert api.get(BASE, alice).json() == []
    assert_error(api.delete(f"{BASE}/{hook['id']}", alice), 404)
    assert_error(api.put(f"{BASE}/{hook['id']}", alice, json={"enabled": True}), 404)


# ---- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "ftp://example.com/hook",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "example.com/hook",  # no scheme
    "http://exa mple.com/hook",
    "http://example.com/a hook",
    " http://example.com/ hook",
    "http://example.com/\thook",
    "http://example.com/\x00hook",
    "http://example.com/\x7fhook",
    "http:///hook",  # no host
    "https://",
    "http://:8080/hook",
    "http://exa_mple..com/",
    "http://example.com:0/",
    "http://example.com:99999/",
    "http://" + "a" * 2050 + ".com/",
    "short",
])
def test_it_refuses_a_url_that_is_not_a_usable_http_url(api, alice, url):
    assert_error(api.post(BASE, alice, json={"url": url}), 400, "url")
    hook = create(api, alice)
    assert_error(api.put(f"{BASE}/{hook['id']}", alice, json={"url": url}), 400, "url")
    assert api.get(BASE, alice).json() == [masked(hook)]


def test_it_accepts_internal_and_loopback_receivers(api, alice):
    """An appliance notifies internal systems: loopback and internal names are fine."""
    for url in ("http://127.10.0.5:8080/hook", "http://[::1]:9000/x?token=a", "https://chat.internal/hook"):
        assert create(api, alice, url=url)["url"] == url


@pytest.mark.parametrize("body, field", [
    ({"url": "http://127.0.0.1:9/", "format": "teams"}, "format"),
    ({"url": "http://127.0.0.1:9/", "format": None}, "format"),
    ({"url": "http://127.0.0.1:9/", "events": ["monitor.sideways"]}, "events.0"),
    ({"url": "http://127.0.0.1:9/", "events": ["monitor.up", "monitor.up"]}, "events"),
    ({"url": "http://127.0.0.1:9/", "events": []}, "events"),
    ({"url": "http://127.0.0.1:9/", "events": "monitor.up"}, "events"),
    ({"url": "http://127.0.0.1:9/", "enabled": "yes"}, "enabled"),
    ({"url": "http://127.0.0.1:9/", "enabled": 1}, "enabled"),
    ({"url": "http://127.0.0.1:9/", "secret": "mine"}, "secret"),
    ({"url": "http://127.0.0.1:9/", "rotate_secret": True}, "rotate_secret"),
    ({"url": "http://127.0.0.1:9/", "id": 5}, "id"),
    ({"url": 5}, "url"),
    ({"url": None}, "url"),
    ({}, "url"),
])
def test_it_refuses_an_invalid_create_body_naming_the_field(api, alice, body, field):
    assert_error(api.post(BASE, alice, json=body), 400, field)
    assert api.get(BASE, alice).json() == []


@pytest.mark.parametrize("body, field", [
    ({"url": None}, "url"),
    ({"format": None}, "format"),
    ({"events": None}, "events"),
    ({"enabled": None}, "enabled"),
    ({"rotate_secret": None}, "rotate_secret"),
    ({"format": "teams"}, "format"),
    ({"events": ["monitor.up", "monitor.up"]}, "events"),
    ({"events": ["nope"]}, "events.0"),
    ({"enabled": "false"}, "enabled"),
    ({"failing": False}, "failing"),
    ({"secret": "whsec_mine"}, "secret"),
    ({"user_id": 1}, "user_id"),
])
def test_it_refuses_an_invalid_update_and_changes_nothing(api, alice, body, field):
    hook = create(api, alice)
    assert_error(api.put(f"{BASE}/{hook['id']}", alice, json=body), 400, field)
    assert api.get(BASE, alice).json() == [masked(hook)]


@pytest.mark.parametrize("data", [b"", b"{not json", b"[]", b'"url"'])
def test_it_refuses_a_body_that_is_not_a_json_object(api, alice, data):
    assert_error(api.post(BASE, alice, data=data, headers={"Content-Type": "application/json"}), 400)


# ---- permissions --------------------------------------------------------------------------------

# (method, path under /api/settings/webhooks/<id>, a valid body, the owner's status)
ENDPOINTS = [
    ("PUT", "", {"enabled": False}, 200),
    ("PUT", "", {"rotate_secret": True}, 200),
    ("POST", "/test", None, 200),
    ("GET", "/deliveries", None, 200),
    ("DELETE", "", None, 204),
]
IDS = [f"{m} {p or '/'} {b}" for m, p, b, _ in ENDPOINTS]


@pytest.mark.parametrize("method, suffix, body, expected", ENDPOINTS, ids=IDS)
def test_it_lets_the_owner_use_every_webhook_endpoint(api, alice, receiver, method, suffix, body, expected):
    hook = create(api, alice, url=receiver.url)
    response = api.request(method, f"{BASE}/{hook['id']}{suffix}", alice, json=body)
    assert response.status_code == expected, response.text


@pytest.mark.parametrize("method, suffix, body, _expected", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("intruder", ["bob", "admin"])
def test_it_answers_404_to_another_user_and_changes_or_sends_nothing(request, api, alice, receiver, intruder,
                                                                      method, suffix, body, _expected):
    other = request.getfixturevalue(intruder)
    hook = create(api, alice, url=receiver.url)
    theirs = assert_error(api.request(method, f"{BASE}/{hook['id']}{suffix}", other, json=body), 404)
    missing = assert_error(api.request(method, f"{BASE}/999999{suffix}", other, json=body), 404)
    assert theirs == missing  # indistinguishable from an id that does not exist
    assert api.get(BASE, alice).json() == [masked(hook)]
    assert api.get(f"{BASE}/{hook['id']}/deliveries", alice).json() == []
    assert receiver.messages == []


@pytest.mark.parametrize("method, suffix, body", [
    ("PUT", "", {"enabled": "no"}),
    ("PUT", "", {"nonsense": True}),
    ("POST", "/test", {"anything": 1}),
])
def test_it_answers_404_to_another_user_even_for_an_invalid_request(api, alice, bob, method, suffix, body):
    hook = create(api, alice)
    assert_error(api.request(method, f"{BASE}/{hook['id']}{suffix}", bob, json=body), 404)


@pytest.mark.parametrize("method, suffix, body, _expected",
                         ENDPOINTS + [("GET", "", None, 200), ("POST", "", {"url": "http://127.0.0.1:9/"}, 201)],
                         ids=IDS + ["GET list", "POST create"])
def test_it_answers_401_to_anonymous_requests(api, alice, receiver, anonymous, method, suffix, body, _expected):
    hook = create(api, alice, url=receiver.url)
    target = f"{BASE}/{hook['id']}{suffix}" if suffix or method in ("PUT", "DELETE") else BASE
    assert_error(api.request(method, target, anonymous, json=body), 401)
    assert_error(api.request(method, target, "not-a-token", json=body), 401)
    assert api.get(BASE, alice).json() == [masked(hook)]
    assert receiver.messages == []


def test_it_checks_the_token_before_the_body(api, anonymous):
    assert_error(api.post(BASE, anonymous, data=b"{not json"), 401)
    assert_error(api.post(BASE, anonymous, json={"bogus": 1}), 401)


def test_it_answers_404_for_an_id_out_of_range(api, alice):
    for path in (f"{BASE}/0", f"{BASE}/99999999999999999999", f"{BASE}/9223372036854775808/deliveries",
                 f"{BASE}/-1", f"{BASE}/abc/test"):
        method = "POST" if path.endswith("/test") else "GET" if path.endswith("deliveries") else "DELETE"
        response = api.request(method, path, alice)
        assert response.status_code in (404, 405), (path, response.text)
        assert response.json()["error"]


# ---- the test send and the delivery log ---------------------------------------------------------

def test_it_sends_a_signed_test_message_to_the_receiver(api, alice, receiver):
    hook = create(api, alice, url=receiver.url)
    response = api.post(f"{BASE}/{hook['id']}/test", alice)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["delivered"] is True and result["status_code"] == 200 and result["error"] is None
    assert isinstance(result["duration_ms"], int) and result["duration_ms"] >= 0
    [message] = receiver.messages
    assert message.path == "/hook"
    assert message.header("Content-Type") == "application/json"
    assert message.event == "webhook.test"
    expected = "sha256=" + hmac.new(hook["secret"].encode(), message.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(message.header("X-StatusCore-Signature"), expected)
    payload = message.json()
    assert set(payload) == {"event", "monitor", "timestamp", "details",
                            "cause", "incident_id", "duration_seconds", "link"}
    assert payload["event"] == "webhook.test"
    [delivery] = api.get(f"{BASE}/{hook['id']}/deliveries", alice).json()
    assert delivery["id"] == result["delivery_id"]
    assert delivery["monitor"] is None  # a test message is about no monitor
    assert delivery["uuid"] == message.delivery


def test_it_signs_with_the_rotated_secret(api, alice, receiver):
    hook = create(api, alice, url=receiver.url)
    secret = api.put(f"{BASE}/{hook['id']}", alice, json={"rotate_secret": True}).json()["secret"]
    assert api.post(f"{BASE}/{hook['id']}/test", alice).json()["delivered"] is True
    [message] = receiver.messages
    assert message.header("X-StatusCore-Signature") == \
        "sha256=" + hmac.new(secret.encode(), message.body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("fmt, key", [("slack", "blocks"), ("discord", "embeds")])
def test_it_sends_the_test_message_in_the_webhooks_format(api, alice, receiver, fmt, key):
    hook = create(api, alice, url=receiver.url, format=fmt)
    assert api.post(f"{BASE}/{hook['id']}/test", alice).json()["delivered"] is True
    [message] = receiver.messages
    assert key in message.json()


@pytest.mark.parametrize("status", [500, 404])
def test_it_reports_a_receiver_that_answers_an_error(api, alice, receiver, status):
    receiver.answer(status)
    hook = create(api, alice, url=receiver.url)
    result = api.post(f"{BASE}/{hook['id']}/test", alice).json()
    assert result["delivered"] is False
    assert result["status_code"] == status
    assert str(status) in result["error"]
    assert len(receiver.messages) == 1  # a test is sent once, never retried
    [delivery] = api.get(f"{BASE}/{hook['id']}/deliveries", alice).json()
    assert delivery["state"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [status]


def test_it_reports_a_receiver_that_refuses_connections(api, alice):
    hook = create(api, alice, url=f"http://127.0.0.1:{free_port()}/hook")
    result = api.post(f"{BASE}/{hook['id']}/test", alice).json()
    assert result["delivered"] is False and result["status_code"] is None
    assert result["error"]


def test_it_gives_up_on_a_receiver_that_hangs_after_the_timeout(api, alice, receiver):
    receiver.hang()
    hook = create(api, alice, url=receiver.url)
    result = api.post(f"{BASE}/{hook['id']}/test", alice).json()
    assert result["delivered"] is False and result["status_code"] is None
    assert "no answer" in result["error"]
    [message] = receiver.messages
    wait_for(lambda: message.answered.is_set(), timeout=10, message="the sender to hang up")
    assert message.sender_gave_up  # the appliance hung up; the receiver never answered


def test_it_waits_for_a_slow_receiver_within_the_timeout(api, alice, receiver):
    receiver.slow(0.3)
    hook = create(api, alice, url=receiver.url)
    assert api.post(f"{BASE}/{hook['id']}/test", alice).json()["delivered"] is True


def test_it_lists_deliveries_newest_first_with_every_attempt(api, alice, receiver):
    hook = create(api, alice, url=receiver.url)
    assert api.get(f"{BASE}/{hook['id']}/deliveries", alice).json() == []
    api.post(f"{BASE}/{hook['id']}/test", alice)
    receiver.answer(503)
    api.post(f"{BASE}/{hook['id']}/test", alice)
    response = api.get(f"{BASE}/{hook['id']}/deliveries", alice)
    assert response.status_code == 200
    failed, delivered = response.json()
    assert set(delivered) == {"id", "uuid", "event", "monitor", "state", "attempt_count", "created_at", "finished_at",
                              "next_attempt_at", "last_status_code", "last_error", "attempts"}
    assert failed["id"] > delivered["id"]
    assert (delivered["state"], delivered["attempt_count"], delivered["last_status_code"]) == ("delivered", 1, 200)
    assert (failed["state"], failed["attempt_count"], failed["last_status_code"]) == ("failed", 1, 503)
    for delivery in (delivered, failed):
        assert delivery["event"] == "webhook.test"
        assert delivery["next_attempt_at"] is None
        assert TIMESTAMP.match(delivery["created_at"]) and TIMESTAMP.match(delivery["finished_at"])
        [attempt] = delivery["attempts"]
        assert set(attempt) == {"at", "status_code", "error", "duration_ms"}
        assert TIMESTAMP.match(attempt["at"]) and attempt["duration_ms"] >= 0
    assert delivered["attempts"][0]["error"] is None
    assert "503" in failed["attempts"][0]["error"]
    assert [m.delivery for m in receiver.messages] == [delivered["uuid"], failed["uuid"]]


def test_it_keeps_another_users_deliveries_apart(api, alice, bob, receiver):
    mine = create(api, alice, url=receiver.url)
    theirs = create(api, bob, url=receiver.url)
    api.post(f"{BASE}/{mine['id']}/test", alice)
    assert api.get(f"{BASE}/{theirs['id']}/deliveries", bob).json() == []
    assert len(api.get(f"{BASE}/{mine['id']}/deliveries", alice).json()) == 1
