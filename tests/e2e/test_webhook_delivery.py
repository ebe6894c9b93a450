"""Webhooks end to end: a real `statuscore serve` watches a real HTTP peer go down and up, and
real receivers on 127.0.0.1 get exactly one down and one up message per subscribed webhook, in
order, in each format; failures are retried (4xx is not), a hanging receiver delays only itself,
and neither kill -9 nor a restart loses or doubles a message.

The backoff between attempts is configured to seconds (STATUSCORE_WEBHOOK_BACKOFF) and the
send timeout to 3 s, so retries and timeouts happen within the test. "Exactly once" is checked
on the X-StatusCore-Delivery header (one id per event and webhook, the same on every retry) and
on the delivery log; absence is checked after a later event went through the same webhook
(deliveries to one webhook are sent in order) or on the log, never by sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import sqlite3

import pytest

from tests.support.appliance import ApplianceProcess
from tests.support.net import free_port, wait_for
from tests.support.peers import HttpPeer
from tests.support.receiver import Receiver

pytestmark = pytest.mark.slow

HOOKS = "/api/settings/webhooks"
SETTINGS = {
    "STATUSCORE_WEBHOOK_BACKOFF": "1,1,1,1",
    "STATUSCORE_WEBHOOK_TIMEOUT": "3",
    "STATUSCORE_LOCATION_DISPLAY_NAME": "US-East (Virginia)",
}
MILLIS_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_users = itertools.count()


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    proc = ApplianceProcess(tmp_path_factory.mktemp("webhooks") / "data", env=SETTINGS).start()
    yield proc
    proc.stop()


@pytest.fixture
def user(appliance):
    """Each test its own user: other tests' webhooks never see its monitors."""
    return appliance.api.create_user(appliance.admin(), f"hooks-{next(_users)}@example.test")


@pytest.fixture
def peer():
    with HttpPeer() as server:
        yield server


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def make(port: int = 0) -> Receiver:
        started.append(Receiver(port=port).start())
        return started[-1]

    yield make
    for receiver in started:
        receiver.stop()


# ---- helpers ------------------------------------------------------------------------------------

class Watched:
    """A monitor of `peer` owned by `user`, driven down and up on demand."""

    def __init__(self, appliance: ApplianceProcess, user, peer: HttpPeer, name: str = "Production API"):
        self.appliance, self.user, self.peer = appliance, user, peer
        self.monitor = appliance.api.create_monitor(user, name=name, type="http", target=peer.url + "/health",
                                                    interval=10, retries=0)
        self.id = self.monitor["id"]
        self.wait_status("up")

    @property
    def api(self):
        return self.appliance.api

    def status(self) -> str:
        return self.api.get(f"/api/monitors/{self.id}", self.user).json()["status"]

    def wait_status(self, status: str) -> None:
        wait_for(lambda: self.status() == status, timeout=30, message=f"monitor {self.id} to be {status}")

    def check_now(self) -> None:
        """An edit makes the engine check the monitor at once (an unchanged PUT changes nothing,
        so the timeout alternates)."""
        timeout = 5 if self.api.get(f"/api/monitors/{self.id}", self.user).json()["timeout"] != 5 else 6
        response = self.api.put(f"/api/monitors/{self.id}", self.user, json={"timeout": timeout})
        assert response.status_code == 200, response.text

    def go_down(self) -> None:
        self.peer.set_status(500)
        self.check_now()
        self.wait_status("down")

    def come_up(self) -> None:
        self.peer.set_status(None)
        self.check_now()
        self.wait_status("up")


def add_hook(appliance, user, url: str, **fields) -> dict:
    response = appliance.api.post(HOOKS, user, json={"url": url, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(appliance, user, hook: dict) -> list[dict]:
    """The webhook's delivery log, oldest first."""
    response = appliance.api.get(f"{HOOKS}/{hook['id']}/deliveries", user)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()))


def webhook(appliance, user, hook: dict) -> dict:
    return next(h for h in appliance.api.get(HOOKS, user).json() if h["id"] == hook["id"])


def wait_settled(appliance, user, hook: dict, count: int) -> list[dict]:
    """Wait until the webhook has `count` deliveries and none is pending; returns them."""
    def settled():
        log = deliveries(appliance, user, hook)
        return log if len(log) == count and all(d["state"] != "pending" for d in log) else None
    return wait_for(settled, timeout=30, message=f"{count} settled deliveries of webhook {hook['id']}")


def assert_once_each(messages, events: list[str]) -> None:
    """Exactly these events, in this order, each a distinct delivery sent once."""
    assert [m.event for m in messages] == events
    assert len({m.delivery for m in messages}) == len(messages), "a delivery was sent twice"


def assert_signed(message, secret: str) -> None:
    expected = "sha256=" + hmac.new(secret.encode(), message.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(message.header("X-StatusCore-Signature") or "", expected)


# ---- one down and one up, in each format --------------------------------------------------------

def test_it_sends_exactly_one_down_and_one_up_message_in_each_format(appliance, user, peer, receivers):
    generic, slack, discord = receivers(), receivers(), receivers()
    hooks = {
        "generic": add_hook(appliance, user, generic.url, events=["monitor.down", "monitor.up"]),
        "slack": add_hook(appliance, user, slack.url, format="slack"),
        "discord": add_hook(appliance, user, discord.url, format="discord"),
    }
    watched = Watched(appliance, user, peer)
    watched.go_down()
    watched.come_up()
    for name, receiver in (("generic", generic), ("slack", slack), ("discord", discord)):
        messages = receiver.wait_for_count(2)
        assert_once_each(messages, ["monitor.down", "monitor.up"])
        log = wait_settled(appliance, user, hooks[name], 2)
        assert [(d["event"], d["state"], d["attempt_count"]) for d in log] == [
            ("monitor.down", "delivered", 1), ("monitor.up", "delivered", 1)]
        assert [d["uuid"] for d in log] == [m.delivery for m in messages]
        for message in messages:
            assert message.path == "/hook" and message.header("Content-Type") == "application/json"
    assert receiver_counts(generic, slack, discord) == [2, 2, 2]

    down, up = (m.json() for m in generic.messages)
    monitor = {"id": watched.id, "name": "Production API", "type": "http", "target": peer.url + "/health"}
    # The seed's keys, and beside them the incident's facts (no STATUSCORE_PUBLIC_URL here: no link).
    assert isinstance(down["incident_id"], int) and "500" in down["cause"]
    assert down == {"event": "monitor.down", "monitor": {**monitor, "status": "down"},
                    "timestamp": down["timestamp"], "details": {"locations": "US-East (Virginia)"},
                    "cause": down["cause"], "incident_id": down["incident_id"], "duration_seconds": None,
                    "link": None}
    assert isinstance(up["duration_seconds"], int) and up["duration_seconds"] >= 0
    assert up == {"event": "monitor.up", "monitor": {**monitor, "status": "up"},
                  "timestamp": up["timestamp"], "details": {"locations": "US-East (Virginia)"},
                  "cause": down["cause"], "incident_id": down["incident_id"],
                  "duration_seconds": up["duration_seconds"], "link": None}
    assert MILLIS_TIMESTAMP.match(down["timestamp"]) and MILLIS_TIMESTAMP.match(up["timestamp"])
    assert down["timestamp"] < up["timestamp"]
    for message in generic.messages:
        assert_signed(message, hooks["generic"]["secret"])

    slack_down, slack_up = (m.json() for m in slack.messages)
    assert "Production API" in slack_down["text"] and "DOWN" in slack_down["text"]
    assert "UP" in slack_up["text"]
    assert slack_down["attachments"][0]["color"] != slack_up["attachments"][0]["color"]
    facts = " ".join(f["text"] for b in slack_down["blocks"] for f in b.get("fields", []))
    for fact in ("Production API", "DOWN", peer.url + "/health", "US-East (Virginia)"):
        assert fact in facts
    assert all(m.header("X-StatusCore-Signature") is None for m in slack.messages)

    discord_down, discord_up = (m.json()["embeds"][0] for m in discord.messages)
    assert discord_down["color"] == 0xE74C3C and discord_up["color"] == 0x2ECC71
    assert "Production API" in discord_down["title"]


def receiver_counts(*receivers: Receiver) -> list[int]:
    return [len(r.messages) for r in receivers]


def test_it_sends_only_the_events_a_webhook_subscribes_to(appliance, user, peer, receivers):
    everything, ups, downs = receivers(), receivers(), receivers()
    all_hook = add_hook(appliance, user, everything.url)
    up_hook = add_hook(appliance, user, ups.url, events=["monitor.up"])
    down_hook = add_hook(appliance, user, downs.url, format="slack", events=["monitor.down", "ssl.expiring"])
    watched = Watched(appliance, user, peer)
    watched.go_down()
    watched.come_up()
    assert_once_each(everything.wait_for_count(2), ["monitor.down", "monitor.up"])
    wait_settled(appliance, user, all_hook, 2)
    # Each event is fanned out to every webhook at once: by now the others' logs are complete.
    assert [d["event"] for d in wait_settled(appliance, user, up_hook, 1)] == ["monitor.up"]
    assert [d["event"] for d in wait_settled(appliance, user, down_hook, 1)] == ["monitor.down"]
    assert_once_each(ups.messages, ["monitor.up"])
    assert_once_each(downs.messages, ["monitor.down"])


def test_it_sends_nothing_to_a_disabled_webhook(appliance, user, peer, receivers):
    active, off, switched_off = receivers(), receivers(), receivers()
    add_hook(appliance, user, active.url)
    off_hook = add_hook(appliance, user, off.url, enabled=False)
    later = add_hook(appliance, user, switched_off.url)
    response = appliance.api.put(f"{HOOKS}/{later['id']}", user, json={"enabled": False})
    assert response.json()["enabled"] is False
    watched = Watched(appliance, user, peer)
    watched.go_down()
    watched.come_up()
    assert_once_each(active.wait_for_count(2), ["monitor.down", "monitor.up"])
    assert deliveries(appliance, user, off_hook) == [] and deliveries(appliance, user, later) == []
    assert off.messages == [] and switched_off.messages == []


def test_it_sends_nothing_to_another_users_webhooks(appliance, user, peer, receivers):
    mine, theirs = receivers(), receivers()
    add_hook(appliance, user, mine.url)
    other = appliance.api.create_user(appliance.admin(), f"hooks-other-{next(_users)}@example.test")
    other_hook = add_hook(appliance, other, theirs.url)
    watched = Watched(appliance, user, peer)
    watched.go_down()
    watched.come_up()
    assert_once_each(mine.wait_for_count(2), ["monitor.down", "monitor.up"])
    assert deliveries(appliance, other, other_hook) == [] and theirs.messages == []


def test_it_links_the_status_page_only_for_a_public_monitor(appliance, user, peer, receivers):
    receiver = receivers()
    add_hook(appliance, user, receiver.url, format="slack", events=["monitor.down"])
    slug = f"hooks-page-{user.id}"
    response = appliance.api.put("/api/settings/status-page", user, json={"company_name": "Acme", "slug": slug})
    assert response.status_code == 200, response.text
    public = Watched(appliance, user, peer, name="Public API")
    response = appliance.api.patch(f"/api/monitors/{public.id}/public", user, json={"public_status": True})
    assert response.status_code == 200, response.text
    public.go_down()
    [linked] = receiver.wait_for_count(1)
    link = f"{appliance.url}/status/{slug}"
    assert linked.json()["attachments"][0]["title_link"] == link
    assert f"<{link}|Status page>" in linked.body.decode()

    with HttpPeer() as other_peer:
        private = Watched(appliance, user, other_peer, name="Private API")
        private.go_down()
        unlinked = receiver.wait_for_count(2)[1]
    assert "Private API" in unlinked.json()["text"]
    assert "title_link" not in unlinked.json()["attachments"][0] and "Status page" not in unlinked.body.decode()


# ---- failures -----------------------------------------------------------------------------------

def test_it_retries_a_receiver_that_fails_and_then_recovers(appliance, user, peer, receivers):
    receiver = receivers()
    receiver.fail(2, status=500)
    hook = add_hook(appliance, user, receiver.url)
    watched = Watched(appliance, user, peer)
    watched.go_down()
    messages = receiver.wait_for_count(3)
    assert [m.event for m in messages] == ["monitor.down"] * 3
    assert len({m.delivery for m in messages}) == 1, "a retry is the same delivery"
    assert len({m.body for m in messages}) == 1, "a retry sends the same bytes"
    for message in messages:
        assert_signed(message, hook["secret"])
    [down] = wait_settled(appliance, user, hook, 1)
    assert down["state"] == "delivered" and down["attempt_count"] == 3
    assert [a["status_code"] for a in down["attempts"]] == [500, 500, 200]
    assert [a["error"] is None for a in down["attempts"]] == [False, False, True]
    assert webhook(appliance, user, hook)["failing"] is False

    watched.come_up()
    messages = receiver.wait_for_count(4)
    assert [m.event for m in messages] == ["monitor.down"] * 3 + ["monitor.up"]
    assert [d["state"] for d in wait_settled(appliance, user, hook, 2)] == ["delivered", "delivered"]


def test_it_keeps_the_order_of_events_while_retrying(appliance, user, peer, receivers):
    """The up waits until the down went through: a receiver never sees them swapped."""
    receiver = receivers()
    receiver.fail(3, status=503)
    hook = add_hook(appliance, user, receiver.url)
    watched = Watched(appliance, user, peer)
    watched.go_down()
    watched.come_up()  # while the down is still being retried
    messages = receiver.wait_until(lambda got: any(m.event == "monitor.up" for m in got))
    events = [m.event for m in messages]
    assert events == ["monitor.down"] * 4 + ["monitor.up"]
    log = wait_settled(appliance, user, hook, 2)
    assert [(d["event"], d["attempt_count"]) for d in log] == [("monitor.down", 4), ("monitor.up", 1)]


def test_it_gives_up_after_five_attempts(appliance, user, peer, receivers):
    receiver = receivers()
    receiver.answer(502)
    hook = add_hook(appliance, user, receiver.url)
    watched = Watched(appliance, user, peer)
    watched.go_down()
    [down] = wait_settled(appliance, user, hook, 1)
    assert down["state"] == "failed" and down["attempt_count"] == 5
    assert [a["status_code"] for a in down["attempts"]] == [502] * 5
    assert len(receiver.messages) == 5 and len({m.delivery for m in receiver.messages}) == 1


@pytest.mark.parametrize("status", [400, 410])
def test_it_does_not_retry_a_permanent_error_and_flags_the_webhook_after_three(appliance, user, peer, receivers,
                                                                             status):
    receiver = receivers()
    receiver.answer(status)
    hook = add_hook(appliance, user, receiver.url)
    watched = Watched(appliance, user, peer)
    steps = [watched.go_down, watched.come_up, watched.go_down]
    for number, step in enumerate(steps, start=1):
        step()
        log = wait_settled(appliance, user, hook, number)
        assert [(d["state"], d["attempt_count"]) for d in log] == [("failed", 1)] * number
        assert [a["status_code"] for a in log[-1]["attempts"]] == [status]
        assert len(receiver.messages) == number, "a 4xx answer is not retried"
        assert webhook(appliance, user, hook)["failing"] is (number >= 3)
    assert_once_each(receiver.messages, ["monitor.down", "monitor.up", "monitor.down"])

    receiver.answer(200)  # fixed: the next delivery clears the flag
    watched.come_up()
    assert wait_settled(appliance, user, hook, 4)[-1]["state"] == "delivered"
    assert webhook(appliance, user, hook)["failing"] is False


def test_it_does_not_let_a_hanging_receiver_delay_another_webhook(appliance, user, peer, receivers):
    hanging, fast = receivers(), receivers()
    hanging.hang()
    stuck = add_hook(appliance, user, hanging.url)
    add_hook(appliance, user, fast.url, format="discord")
    watched = Watched(appliance, user, peer)
    watched.go_down()
    [held] = hanging.wait_for_count(1)
    [delivered] = fast.wait_for_count(1)
    assert delivered.event == "monitor.down"
    # The fast receiver got its message while the other request was still hanging: it did not
    # wait for that one to time out.
    ended = held.ended_at
    assert ended is None or delivered.at < ended

    # The hanging receiver's attempt times out (the sender hangs up) and is retried; let the
    # retry through.
    wait_for(lambda: held.sender_gave_up, timeout=30, message="the sender to give up on the hanging receiver")
    def timed_out():
        attempts = deliveries(appliance, user, stuck)[0]["attempts"]
        return attempts and attempts[0]["error"]
    assert "no answer" in wait_for(timed_out, timeout=30, message="the attempt to time out")
    hanging.release()
    [down] = wait_settled(appliance, user, stuck, 1)
    assert down["state"] == "delivered" and down["attempt_count"] >= 2
    assert {m.delivery for m in hanging.messages} == {down["uuid"]}

    watched.come_up()
    assert_once_each(fast.wait_for_count(2), ["monitor.down", "monitor.up"])


# ---- kill -9 and restarts -----------------------------------------------------------------------

def sqlite_rows(data_dir, query: str, *args) -> list[tuple]:
    with sqlite3.connect(data_dir / "statuscore.sqlite") as db:
        return list(db.execute(query, args))


def test_it_sends_a_pending_event_exactly_once_after_kill_9(tmp_path, peer):
    data_dir = tmp_path / "data"
    port = free_port()  # the receiver's address: nothing listens there yet (connections refused)
    settings = {**SETTINGS, "STATUSCORE_WEBHOOK_BACKOFF": "5,5,5,5"}
    proc = ApplianceProcess(data_dir, env=settings).start()
    try:
        admin = proc.admin()
        hook = add_hook(proc, admin, f"http://127.0.0.1:{port}/hook")
        watched = Watched(proc, admin, peer)
        watched.go_down()

        def refused_once():
            log = deliveries(proc, admin, hook)
            return log and log[0]["state"] == "pending" and log[0]["attempts"]
        [attempt] = wait_for(refused_once, timeout=30, message="a refused first attempt")
        assert attempt["status_code"] is None and attempt["error"]
    finally:
        proc.kill()

    with Receiver(port=port) as receiver:
        proc = ApplianceProcess(data_dir, env=settings, port=proc.port).start()
        try:
            admin = proc.admin()
            [down] = receiver.wait_for_count(1, timeout=30)
            assert down.event == "monitor.down" and down.json()["monitor"]["id"] == watched.id
            assert_signed(down, hook["secret"])
            [logged] = wait_settled(proc, admin, hook, 1)
            assert logged["state"] == "delivered" and logged["uuid"] == down.delivery

            watched = rebind(watched, proc, admin)
            watched.come_up()
            messages = receiver.wait_for_count(2)
            assert_once_each(messages, ["monitor.down", "monitor.up"])
            assert [d["state"] for d in wait_settled(proc, admin, hook, 2)] == ["delivered", "delivered"]
        finally:
            proc.stop()


def test_it_sends_nothing_again_after_a_restart(tmp_path, peer):
    data_dir = tmp_path / "data"
    with Receiver() as receiver:
        proc = ApplianceProcess(data_dir, env=SETTINGS).start()
        try:
            admin = proc.admin()
            hook = add_hook(proc, admin, receiver.url, format="slack")
            watched = Watched(proc, admin, peer)
            watched.go_down()
            watched.come_up()
            receiver.wait_for_count(2)
            wait_settled(proc, admin, hook, 2)
        finally:
            proc.kill()  # right after the deliveries: the harshest restart

        for restart in ("kill -9", "stop"):
            proc = ApplianceProcess(data_dir, env=SETTINGS, port=proc.port).start()
            try:
                admin = proc.admin()
                assert sqlite_rows(data_dir, "SELECT COUNT(*) FROM state_change WHERE processed_at IS NULL") == [(0,)]
            finally:
                proc.kill() if restart == "kill -9" else proc.stop()

        proc = ApplianceProcess(data_dir, env=SETTINGS, port=proc.port).start()
        try:
            admin = proc.admin()
            watched = rebind(watched, proc, admin)
            assert watched.status() == "up"
            watched.go_down()  # a new event: it goes after anything still queued for this webhook
            messages = receiver.wait_until(lambda got: len(got) >= 3 and got[-1].event == "monitor.down")
            assert_once_each(messages, ["monitor.down", "monitor.up", "monitor.down"])
            assert [d["state"] for d in wait_settled(proc, admin, hook, 3)] == ["delivered"] * 3
        finally:
            proc.stop()


def test_it_resends_a_delivery_cut_off_by_kill_9_with_the_same_delivery_id(tmp_path, peer):
    """At least once: a send interrupted by kill -9 (no answer recorded) is sent again after the
    restart, at once (the dead process's claim is released) and with the same
    X-StatusCore-Delivery, so the receiver can tell it is the same event."""
    data_dir = tmp_path / "data"
    settings = {**SETTINGS, "STATUSCORE_WEBHOOK_TIMEOUT": "60"}  # the claim would outlive the test
    with Receiver() as receiver:
        receiver.hang()
        proc = ApplianceProcess(data_dir, env=settings).start()
        try:
            admin = proc.admin()
            hook = add_hook(proc, admin, receiver.url)
            watched = Watched(proc, admin, peer)
            watched.go_down()
            [first] = receiver.wait_for_count(1)
        finally:
            proc.kill()
        receiver.release()
        receiver.answer(200)

        proc = ApplianceProcess(data_dir, env=settings, port=proc.port).start()
        try:
            admin = proc.admin()
            messages = receiver.wait_for_count(2, timeout=30)
            assert [m.event for m in messages] == ["monitor.down"] * 2
            assert messages[1].delivery == first.delivery and messages[1].body == first.body
            [down] = wait_settled(proc, admin, hook, 1)
            assert down["state"] == "delivered"
            watched = rebind(watched, proc, admin)
            watched.come_up()
            messages = receiver.wait_for_count(3)
            assert [m.event for m in messages] == ["monitor.down", "monitor.down", "monitor.up"]
        finally:
            proc.stop()


def rebind(watched: Watched, proc: ApplianceProcess, user) -> Watched:
    """The same monitor, through a restarted appliance."""
    again = Watched.__new__(Watched)
    again.appliance, again.user, again.peer = proc, user, watched.peer
    again.monitor, again.id = watched.monitor, watched.id
    return again
