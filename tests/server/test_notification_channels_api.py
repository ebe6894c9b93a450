"""Email and Apprise channels through the webhooks API over HTTP: created, shown without their
secrets (the SMTP password is write-only, an Apprise URL is shown as scheme://…), changed without
losing them, refused with a 400 that names the problem, and tested with the test action against
real receivers on 127.0.0.1 (aiosmtpd; Apprise's json:// at a local HTTP server). The check
engine is off: nothing else is ever sent."""

from __future__ import annotations

import pytest

from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error
from tests.support.net import free_port
from tests.support.receiver import Receiver
from tests.support.smtp_server import SmtpServer

BASE = "/api/settings/webhooks"
PASSWORD = "Smtp-Pass-Word-7731"
_emails = iter(range(10**6))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("channels") / "data", webhook_timeout=3.0)
    instance.start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture
def alice(api, admin):
    return api.create_user(admin, f"channels-alice-{next(_emails)}@example.test", full_name="Alice")


@pytest.fixture
def smtp():
    with SmtpServer(login=("alerts", PASSWORD)) as server:
        yield server


@pytest.fixture
def receiver():
    with Receiver() as hook:
        yield hook


def email_body(port: int, **settings) -> dict:
    return {"format": "email", "events": ["monitor.down", "monitor.up"],
            "email": {"host": "127.0.0.1", "port": port, "security": "none", "username": "alerts",
                      "password": PASSWORD, "from": "statuscore@example.test", "to": ["ops@example.test"],
                      **settings}}


def create(api, user, body: dict) -> dict:
    response = api.post(BASE, user, json=body)
    assert response.status_code == 201, response.text
    return response.json()


# ---- email --------------------------------------------------------------------------------------

def test_it_creates_an_email_channel_and_never_shows_its_password(api, alice):
    response = api.post(BASE, alice, json=email_body(2525))
    assert response.status_code == 201, response.text
    assert PASSWORD not in response.text
    hook = response.json()
    assert hook["format"] == "email" and hook["url"] == "mailto:ops@example.test"
    assert hook["email"] == {"host": "127.0.0.1", "port": 2525, "security": "none", "username": "alerts",
                             "password_set": True, "from": "statuscore@example.test", "to": ["ops@example.test"]}
    listed = api.get(BASE, alice)
    assert PASSWORD not in listed.text
    assert [h["email"] for h in listed.json()] == [hook["email"]]


def test_it_gives_the_usual_port_of_the_security_chosen(api, alice):
    hook = create(api, alice, {"format": "email", "email": {"host": "smtp.example.test", "from": "a@example.test",
                                                            "to": ["b@example.test"]}})
    assert (hook["email"]["security"], hook["email"]["port"], hook["email"]["password_set"]) == ("starttls", 587, False)
    changed = api.put(f"{BASE}/{hook['id']}", alice, json={"email": {"security": "tls"}}).json()
    assert (changed["email"]["security"], changed["email"]["port"]) == ("tls", 465)


def test_it_sends_a_test_mail_and_keeps_the_password_through_a_change(api, alice, smtp):
    hook = create(api, alice, email_body(smtp.port))
    changed = api.put(f"{BASE}/{hook['id']}", alice, json={"email": {"to": ["noc@example.test", "ops@example.test"]}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["url"] == "mailto:noc@example.test,ops@example.test"
    assert changed.json()["email"]["password_set"] is True
    result = api.post(f"{BASE}/{hook['id']}/test", alice).json()
    assert result["delivered"] is True and result["error"] is None and result["status_code"] is None
    [mail] = smtp.wait_for_count(1)
    assert mail.login == "alerts"  # the password given at creation, never shown, still used
    assert mail.recipients == ("noc@example.test", "ops@example.test")
    assert mail.subject.startswith("[TEST] ")
    [delivery] = api.get(f"{BASE}/{hook['id']}/deliveries", alice).json()
    assert (delivery["id"], delivery["state"], delivery["event"]) == (result["delivery_id"], "delivered", "webhook.test")


def test_it_reports_a_failed_test_mail_in_one_line(api, alice):
    port = free_port()
    hook = create(api, alice, email_body(port))
    result = api.post(f"{BASE}/{hook['id']}/test", alice).json()
    assert result["delivered"] is False
    assert result["error"].startswith(f"cannot connect to 127.0.0.1:{port}") and "\n" not in result["error"]
    [delivery] = api.get(f"{BASE}/{hook['id']}/deliveries", alice).json()
    assert delivery["state"] == "failed" and delivery["last_error"] == result["error"]


@pytest.mark.parametrize("body, field", [
    ({"format": "email"}, "email"),
    ({"format": "email", "url": "https://hooks.example.test/x", "email": email_body(25)["email"]}, "url"),
    ({"url": "https://hooks.example.test/x", "email": email_body(25)["email"]}, "email"),
    (email_body(25, to=[]), "email.to"),
    (email_body(25, to=["ops@example.test, boss@example.test"]), "email.to.0"),
    (email_body(25, **{"from": "Ops <ops@example.test>"}), "email.from"),
    (email_body(25, security="ssl"), "email.security"),
    (email_body(25, host="smtp example"), "email.host"),
    (email_body(70000), "email.port"),
    (email_body(25, password=None), "email.password"),
    (email_body(25, bcc=["x@example.test"]), "email.bcc"),
], ids=["no-settings", "url-too", "email-for-generic", "no-recipient", "two-in-one", "display-name",
        "unknown-security", "bad-host", "bad-port", "null-password", "unknown-field"])
def test_it_refuses_email_settings_it_cannot_use(api, alice, body, field):
    body = assert_error(api.post(BASE, alice, json=body), 400, field)
    assert PASSWORD not in str(body)


def test_it_needs_the_settings_of_the_kind_a_channel_moves_to(api, alice):
    hook = create(api, alice, {"url": "https://hooks.example.test/x"})
    assert_error(api.put(f"{BASE}/{hook['id']}", alice, json={"format": "email"}), 400, "email")
    assert_error(api.put(f"{BASE}/{hook['id']}", alice, json={"format": "apprise"}), 400, "url")
    moved = api.put(f"{BASE}/{hook['id']}", alice, json={"format": "email", "email": email_body(25)["email"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["url"] == "mailto:ops@example.test"
    back = api.put(f"{BASE}/{hook['id']}", alice, json={"format": "slack"})
    assert_error(back, 400, "url")  # the e-mail channel had no receiver URL to keep


# ---- apprise ------------------------------------------------------------------------------------

def test_it_creates_an_apprise_channel_and_shows_only_its_scheme(api, alice, receiver):
    url = f"json://alerts:Apprise-Token-0425@127.0.0.1:{receiver.port}/hook"
    response = api.post(BASE, alice, json={"format": "apprise", "url": url})
    assert response.status_code == 201, response.text
    assert "Apprise-Token-0425" not in response.text
    hook = response.json()
    assert hook["url"] == "json://…" and "email" not in hook
    assert "Apprise-Token-0425" not in api.get(BASE, alice).text
    # A change that leaves the URL out keeps it (the masked one is never needed back).
    assert api.put(f"{BASE}/{hook['id']}", alice, json={"events": ["monitor.down"]}).json()["url"] == "json://…"
    result = api.post(f"{BASE}/{hook['id']}/test", alice).json()
    assert result["delivered"] is True, result
    [message] = receiver.wait_for_count(1)
    assert message.json()["title"].startswith("StatusCore test message")


def test_it_reports_a_failed_apprise_test_without_the_token(api, alice):
    url = f"json://127.0.0.1:{free_port()}/Apprise-Token-0425"
    hook = create(api, alice, {"format": "apprise", "url": url})
    result = api.post(f"{BASE}/{hook['id']}/test", alice).json()
    assert result["delivered"] is False and result["error"] and "\n" not in result["error"]
    assert "Apprise-Token-0425" not in result["error"]


@pytest.mark.parametrize("url, words", [
    ("nosuchservice://token@host", "nosuchservice://, which Apprise does not know"),
    ("tgram://not-a-bot-token", "not a tgram:// URL Apprise can read"),
    ("just-words", "not an Apprise URL"),
])
def test_it_names_what_apprise_cannot_read_in_a_400(api, alice, url, words):
    body = assert_error(api.post(BASE, alice, json={"format": "apprise", "url": url}), 400, "url")
    assert words in body["error"] and words in body["details"]["url"]


def test_it_checks_a_changed_apprise_url_too(api, alice):
    hook = create(api, alice, {"format": "apprise", "url": "ntfy://127.0.0.1/alerts"})
    assert_error(api.put(f"{BASE}/{hook['id']}", alice, json={"url": "nosuchservice://x"}), 400, "url")
    assert api.put(f"{BASE}/{hook['id']}", alice, json={"url": "gotify://127.0.0.1/AbCdEfGhIjKlMnO"}).status_code == 200


def test_it_leaves_email_and_apprise_channels_out_of_an_export_and_refuses_them_in_an_import(api, alice):
    create(api, alice, {"url": "https://hooks.example.test/kept"})
    create(api, alice, email_body(25))
    create(api, alice, {"format": "apprise", "url": "ntfy://127.0.0.1/alerts"})
    exported = api.get("/api/export", alice)
    assert [h["url"] for h in exported.json()["webhooks"]] == ["https://hooks.example.test/kept"]
    assert PASSWORD not in exported.text
    document = {"webhooks": [{"format": "apprise", "url": "ntfy://127.0.0.1/alerts"}]}
    assert_error(api.post("/api/import?dry_run=true", alice, json=document), 400, "webhooks[0].format")
