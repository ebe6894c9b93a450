"""Every channel kind end to end: a real `statuscore serve` (with STATUSCORE_PUBLIC_URL) watches a
real HTTP peer go down and up, and a generic webhook, an e-mail channel (a real SMTP server on
127.0.0.1) and an Apprise channel (json:// at a local HTTP server) each get one down and one up
message that carry the cause, the incident id, how long the monitor was down and a link to it;
the delivery log names the monitor each delivery is about; a refusing SMTP server is retried."""

from __future__ import annotations

import itertools

import pytest

from tests.e2e.test_webhook_delivery import Watched, deliveries, wait_settled
from tests.support.appliance import ApplianceProcess
from tests.support.peers import HttpPeer
from tests.support.receiver import Receiver
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.slow

HOOKS = "/api/settings/webhooks"
PUBLIC_URL = "https://status.example.test"
SETTINGS = {"STATUSCORE_WEBHOOK_BACKOFF": "1,1,1,1", "STATUSCORE_WEBHOOK_TIMEOUT": "3",
            "STATUSCORE_PUBLIC_URL": PUBLIC_URL}
_users = itertools.count()


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    proc = ApplianceProcess(tmp_path_factory.mktemp("channels") / "data", env=SETTINGS).start()
    yield proc
    proc.stop()


@pytest.fixture
def user(appliance):
    return appliance.api.create_user(appliance.admin(), f"channels-{next(_users)}@example.test")


@pytest.fixture
def peer():
    with HttpPeer() as server:
        yield server


def add(appliance, user, body: dict) -> dict:
    response = appliance.api.post(HOOKS, user, json={"events": ["monitor.down", "monitor.up"], **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_each_kind_tells_the_cause_incident_duration_and_link(appliance, user, peer):
    with Receiver() as webhook, Receiver() as apprise_receiver, SmtpServer() as smtp:
        smtp.refuse(times=1)  # the first down mail is refused once, then retried
        hooks = {
            "generic": add(appliance, user, {"url": webhook.url}),
            "email": add(appliance, user, {"format": "email", "email": {
                "host": "127.0.0.1", "port": smtp.port, "security": "none",
                "from": "statuscore@example.test", "to": ["ops@example.test"]}}),
            "apprise": add(appliance, user, {"format": "apprise",
                                             "url": f"json://127.0.0.1:{apprise_receiver.port}/notify"}),
        }
        watched = Watched(appliance, user, peer)
        link = f"{PUBLIC_URL}/api/monitors/{watched.id}"
        watched.go_down()
        watched.come_up()

        down, up = (m.json() for m in webhook.wait_for_count(2))
        assert isinstance(down["incident_id"], int) and down["incident_id"] == up["incident_id"]
        assert "500" in down["cause"] and up["cause"] == down["cause"]
        assert down["duration_seconds"] is None and up["duration_seconds"] >= 0
        assert down["link"] == up["link"] == link

        down_mail, up_mail = smtp.wait_for_count(2)
        assert smtp.refused == 1
        assert down_mail.subject == f"[DOWN] Production API — {down['cause']}"
        assert up_mail.subject.startswith("[UP] Production API — back after ")
        assert f"Open: {link}" in down_mail.part("plain") and f'href="{link}"' in down_mail.part("html")

        apprise_down, apprise_up = (m.json() for m in apprise_receiver.wait_for_count(2))
        assert (apprise_down["type"], apprise_up["type"]) == ("failure", "success")
        assert down["cause"] in apprise_down["message"] and link in apprise_down["message"]
        assert apprise_up["message"].startswith("Down for ")

        for kind, hook in hooks.items():
            log = wait_settled(appliance, user, hook, 2)
            assert [(d["event"], d["state"]) for d in log] == [("monitor.down", "delivered"),
                                                               ("monitor.up", "delivered")], kind
            assert all(d["monitor"] == {"id": watched.id, "name": "Production API"} for d in log), kind
        email_down = deliveries(appliance, user, hooks["email"])[0]
        assert email_down["attempt_count"] == 2
        assert email_down["attempts"][0]["error"] == "the SMTP server answered 451 4.3.0 Try again later"


def test_the_link_is_the_status_page_when_the_monitor_is_public_there(appliance, user, peer):
    with Receiver() as webhook:
        add(appliance, user, {"url": webhook.url})
        page = appliance.api.put("/api/settings/status-page", user, json={"company_name": "Acme", "slug": "acme-link"})
        assert page.status_code == 200, page.text
        watched = Watched(appliance, user, peer, name="Public API")
        public = appliance.api.patch(f"/api/monitors/{watched.id}/public", user, json={"public_status": True})
        assert public.status_code == 200, public.text
        watched.go_down()
        [message] = webhook.wait_for_count(1)
        assert message.json()["link"] == f"{PUBLIC_URL}/status/acme-link"
