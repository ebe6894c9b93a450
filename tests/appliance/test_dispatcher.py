"""The dispatcher step by step (run_once, no threads) with real stores, a real receiver on
127.0.0.1 and an injected clock: the default backoff schedule, permanent errors, the
compare-and-set claims that keep a delivery from going twice, and a restart's released claims."""

from __future__ import annotations

import ssl
from datetime import datetime, timedelta, timezone

import pytest
import trustme
from sqlmodel import select

from appliance.engine.dispatcher import BACKOFF_SECONDS, Dispatcher
from appliance.models import Delivery
from appliance.notifiers import Event
from appliance.storage.entities import EntityStore, Transition
from appliance.storage.outbox import Fanout, OutboxStore
from tests.support.appliance import cheap_hasher
from tests.support.receiver import Receiver

T0 = datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_event(fanout: Fanout) -> Event:
    change, monitor = fanout.change, fanout.monitor
    return Event(name=change.event, monitor_id=monitor.id, monitor_name=monitor.name, monitor_type=monitor.type,
                 target=monitor.target, status=change.new_status, at=T0, locations=("Local",))


class World:
    def __init__(self, database: str, receiver: Receiver):
        self.entities = EntityStore(database, hasher=cheap_hasher())
        self.outbox = OutboxStore(self.entities)
        self.clock = Clock()
        self.receiver = receiver
        self.user = self.entities.create_user("owner@example.test", "owner-password-1")
        self.monitor = self.new_monitor("Website")

    def new_monitor(self, name: str):
        return self.entities.create_monitor(self.user.id, {"name": name, "type": "http",
                                                           "target": "http://127.0.0.1:9/"})

    def dispatcher(self, make=make_event, **kwargs) -> Dispatcher:
        return Dispatcher(self.outbox, make, timeout=2.0, clock=self.clock, **kwargs)

    def hook(self, **fields):
        values = {"url": self.receiver.url, "format": "generic", "events": ["monitor.down", "monitor.up"],
                  "enabled": True, **fields}
        return self.outbox.create_webhook(self.user.id, **values)

    def transition(self, old: str, new: str, monitor=None):
        monitor = monitor or self.monitor
        return self.entities.record_transition(Transition(monitor.id, old, new, self.clock(), "test"))

    def deliveries(self, hook) -> list[Delivery]:
        return [d for d, _ in reversed(self.outbox.deliveries(hook.id))]


@pytest.fixture
def receiver():
    with Receiver() as hook:
        yield hook


@pytest.fixture
def world(database, receiver):
    """On SQLite and on PostgreSQL (the `database` fixture)."""
    world = World(database, receiver)
    yield world
    world.entities.close()


def test_it_retries_on_the_default_schedule_then_gives_up_after_five_attempts(world, receiver):
    receiver.answer(500)
    hook = world.hook()
    dispatcher = world.dispatcher()
    assert dispatcher.backoff == tuple(BACKOFF_SECONDS) == (15, 45, 135, 405)
    world.transition("pending", "down")
    dispatcher.run_once()
    assert len(receiver.messages) == 1
    for wait in (15, 45, 135, 405):
        world.clock.advance(wait - 0.5)
        dispatcher.run_once()
        before = len(receiver.messages)
        world.clock.advance(0.5)
        dispatcher.run_once()
        assert len(receiver.messages) == before + 1, f"the attempt {wait} s later"
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 5, 500)
    world.clock.advance(86400)
    dispatcher.run_once()
    assert len(receiver.messages) == 5
    assert len({m.delivery for m in receiver.messages}) == 1
    assert sum((15, 45, 135, 405)) == 600  # ~10 minutes from the first to the last attempt


def test_it_uses_the_configured_backoff(world, receiver):
    receiver.answer(503)
    hook = world.hook()
    dispatcher = world.dispatcher(backoff=(1, 2))
    world.transition("pending", "down")
    for step in (0, 1, 2, 100):
        world.clock.advance(step)
        dispatcher.run_once()
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    assert len(receiver.messages) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_it_treats_a_4xx_answer_as_final(world, receiver, status):
    receiver.answer(status)
    hook = world.hook()
    dispatcher = world.dispatcher()
    world.transition("pending", "down")
    dispatcher.run_once()
    world.clock.advance(3600)
    dispatcher.run_once()
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 1, status)
    assert len(receiver.messages) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_it_retries_a_timeout_rate_limit_or_server_error(world, receiver, status):
    receiver.fail(1, status=status)
    hook = world.hook()
    dispatcher = world.dispatcher()
    world.transition("pending", "down")
    dispatcher.run_once()
    world.clock.advance(15)
    dispatcher.run_once()
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts) == ("delivered", 2)


def test_it_flags_a_webhook_failing_after_three_final_failures_and_clears_it_on_success(world, receiver):
    receiver.answer(410)
    hook = world.hook()
    dispatcher = world.dispatcher()
    for number, (old, new) in enumerate([("pending", "down"), ("down", "up"), ("up", "down")], start=1):
        world.transition(old, new)
        dispatcher.run_once()
        assert world.outbox.webhook(hook.id).failing is (number >= 3)
    receiver.answer(200)
    world.transition("down", "up")
    dispatcher.run_once()
    assert world.outbox.webhook(hook.id).failing is False


def test_it_fans_out_a_change_once_even_when_asked_twice(world, receiver):
    hook = world.hook()
    change = world.transition("pending", "down")
    first = world.dispatcher()
    second = world.dispatcher()
    assert world.outbox.fan_out(change.id, first._deliveries_for) == 1
    assert world.outbox.fan_out(change.id, second._deliveries_for) == 0
    first.run_once()
    second.run_once()
    assert len(world.deliveries(hook)) == 1 and len(receiver.messages) == 1


def test_it_claims_a_delivery_once(world, receiver):
    world.hook()
    world.transition("pending", "down")
    world.outbox.fan_out(world.outbox.unprocessed_changes()[0], world.dispatcher()._deliveries_for)
    [delivery_id] = world.outbox.due(world.clock())
    assert world.outbox.claim(delivery_id, world.clock(), lease_seconds=60) is not None
    assert world.outbox.claim(delivery_id, world.clock(), lease_seconds=60) is None
    assert world.outbox.due(world.clock()) == []
    world.dispatcher().run_once()
    assert receiver.messages == []  # claimed by "another sender"
    world.clock.advance(61)  # the lease ran out: the claim's holder is presumed dead
    world.dispatcher().run_once()
    assert len(receiver.messages) == 1


def test_it_releases_a_dead_processs_claims_at_start(world, receiver):
    """kill -9 mid-send leaves a claim behind; the next process releases it and sends at once."""
    hook = world.hook()
    world.transition("pending", "down")
    world.outbox.fan_out(world.outbox.unprocessed_changes()[0], world.dispatcher()._deliveries_for)
    [delivery_id] = world.outbox.due(world.clock())
    world.outbox.claim(delivery_id, world.clock(), lease_seconds=3600)  # then the process died
    world.outbox.release_claims()  # what Dispatcher.start() does first
    world.dispatcher().run_once()
    [delivery] = world.deliveries(hook)
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    assert len(receiver.messages) == 1


def test_it_sends_one_webhooks_events_in_order(world, receiver):
    receiver.fail(1)
    hook = world.hook()
    dispatcher = world.dispatcher()
    world.transition("pending", "down")
    world.transition("down", "up")
    world.transition("up", "down")
    dispatcher.run_once()  # the first fails: the others wait behind it
    assert [m.event for m in receiver.messages] == ["monitor.down"]
    world.clock.advance(15)
    for _ in range(3):
        dispatcher.run_once()
    assert [m.event for m in receiver.messages] == ["monitor.down"] * 2 + ["monitor.up", "monitor.down"]
    assert [d.state for d in world.deliveries(hook)] == ["delivered"] * 3


def test_it_sleeps_until_the_next_retry_not_a_busy_poll(world, receiver):
    """Between wake-ups the loop sleeps until the next attempt is due: events queued behind a
    failing one (due long ago, but held back to keep the order) must not make it spin."""
    dispatcher = world.dispatcher(poll_seconds=60.0)
    assert world.outbox.next_attempt_at() is None
    assert dispatcher._until_next_attempt() == 60.0  # nothing pending: the safety poll
    receiver.fail(1)
    world.hook()
    world.transition("pending", "down")
    world.transition("down", "up")
    dispatcher.run_once()  # the first fails; its retry is 15 s away, the second waits behind it
    assert world.outbox.next_attempt_at() == T0 + timedelta(seconds=15)
    assert dispatcher._until_next_attempt() == pytest.approx(15.0)
    world.clock.advance(10)
    assert dispatcher._until_next_attempt() == pytest.approx(5.0)
    world.clock.advance(5)
    dispatcher.run_once()
    assert [m.event for m in receiver.messages] == ["monitor.down", "monitor.down"]
    dispatcher.run_once()
    assert world.outbox.next_attempt_at() is None


def test_it_does_not_let_a_failing_webhook_hold_up_another(world, receiver):
    with Receiver() as healthy:
        receiver.answer(500)
        broken = world.hook()
        working = world.hook(url=healthy.url)
        dispatcher = world.dispatcher()
        world.transition("pending", "down")
        world.transition("down", "up")
        dispatcher.run_once()
        dispatcher.run_once()
        assert [m.event for m in healthy.messages] == ["monitor.down", "monitor.up"]
        assert [d.state for d in world.deliveries(working)] == ["delivered", "delivered"]
        assert [d.state for d in world.deliveries(broken)] == ["pending", "pending"]


def test_it_goes_on_delivering_when_one_change_cannot_be_fanned_out(world, receiver):
    """One bad outbox row (its event cannot be built) must not stop every later notification."""
    hook = world.hook()
    bad = world.transition("pending", "down")
    other = world.new_monitor("Other")
    world.transition("pending", "down", monitor=other)

    def make(fanout: Fanout) -> Event:
        if fanout.change.id == bad.id:
            raise ValueError("cannot build this event")
        return make_event(fanout)

    dispatcher = world.dispatcher(make)
    dispatcher.run_once()
    dispatcher.run_once()
    assert [m.json()["monitor"]["name"] for m in receiver.messages] == ["Other"]
    assert [d.state for d in world.deliveries(hook)] == ["delivered"]
    assert world.outbox.unprocessed_changes() == [bad.id]  # kept: a restart (with a fix) tries again
    world.dispatcher().run_once()  # a new process: the row is built now
    assert [m.json()["monitor"]["name"] for m in receiver.messages] == ["Other", "Website"]


def test_it_skips_disabled_webhooks_and_other_users_webhooks_at_fan_out(world, receiver):
    hook = world.hook()
    off = world.hook(enabled=False)
    stranger = world.entities.create_user("stranger@example.test", "stranger-password-1")
    theirs = world.outbox.create_webhook(stranger.id, url=receiver.url, format="generic",
                                         events=["monitor.down"], enabled=True)
    only_up = world.hook(events=["monitor.up"])
    world.transition("pending", "down")
    world.dispatcher().run_once()
    assert len(world.deliveries(hook)) == 1
    assert world.deliveries(off) == [] and world.deliveries(theirs) == [] and world.deliveries(only_up) == []
    with world.outbox.session() as s:
        assert len(list(s.exec(select(Delivery)))) == 1


# ---- HTTPS receivers (Slack and Discord are) ----------------------------------------------------

@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def https_receiver(ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with Receiver(ssl_context=context) as hook:
        yield hook


def test_it_delivers_over_https_to_a_certificate_it_trusts(world, https_receiver, ca, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    hook = world.hook(url=https_receiver.url)
    world.transition("pending", "down")
    world.dispatcher(ca_file=str(ca_file)).run_once()
    [delivery] = world.deliveries(hook)
    assert delivery.state == "delivered"
    [message] = https_receiver.messages
    assert message.event == "monitor.down" and message.json()["event"] == "monitor.down"


def test_it_refuses_a_receiver_whose_certificate_it_cannot_verify(world, https_receiver):
    hook = world.hook(url=https_receiver.url)
    world.transition("pending", "down")
    world.dispatcher().run_once()  # the system's CAs do not know the test CA
    [delivery] = world.deliveries(hook)
    assert delivery.state == "pending" and delivery.last_status_code is None
    assert "certificate" in delivery.last_error
    assert https_receiver.messages == []  # nothing was sent before the certificate was checked
