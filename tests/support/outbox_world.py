"""Real stores and a dispatcher driven step by step (run_once) with an injected clock, for the
tests of the channel kinds (e-mail, Apprise): one user, one monitor, transitions on demand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from appliance.engine.dispatcher import Dispatcher
from appliance.notifiers import Event
from appliance.storage.entities import EntityStore, Transition
from appliance.storage.outbox import Fanout, OutboxStore
from tests.support.appliance import cheap_hasher

T0 = datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class World:
    def __init__(self, tmp_path):
        self.entities = EntityStore(tmp_path / "entities.sqlite", hasher=cheap_hasher())
        self.outbox = OutboxStore(self.entities)
        self.clock = Clock()
        self.user = self.entities.create_user("owner@example.test", "owner-password-1")
        self.monitor = self.entities.create_monitor(self.user.id, {"name": "Website", "type": "http",
                                                                   "target": "http://127.0.0.1:9/"})

    def make_event(self, fanout: Fanout) -> Event:
        change, monitor = fanout.change, fanout.monitor
        details = change.details
        return Event(name=change.event, monitor_id=monitor.id, monitor_name=monitor.name,
                     monitor_type=monitor.type, target=monitor.target, status=change.new_status,
                     at=change.created_at, cause=details.get("cause", ""), incident_id=details.get("incident_id"),
                     duration_seconds=details.get("duration_seconds"))

    def dispatcher(self, **kwargs) -> Dispatcher:
        return Dispatcher(self.outbox, self.make_event, timeout=5.0, clock=self.clock, **kwargs)

    def channel(self, smtp, **settings):
        """An e-mail channel to `smtp` (a tests.support.smtp_server.SmtpServer)."""
        values = {"host": "127.0.0.1", "port": smtp.port, "security": "none", "from": "statuscore@example.test",
                  "to": ["ops@example.test", "oncall@example.test"], **settings}
        return self.outbox.create_webhook(self.user.id, "mailto:ops@example.test", "email",
                                          ["monitor.down", "monitor.up"], True, values)

    def apprise(self, url: str):
        # Apprise sends wherever its URL says: these tests only ever point it at this machine.
        assert urlsplit(url).hostname == "127.0.0.1", f"not a loopback Apprise URL: {url}"
        return self.outbox.create_webhook(self.user.id, url, "apprise", ["monitor.down", "monitor.up"], True)

    def transition(self, old: str, new: str, cause: str = "HTTP 503"):
        return self.entities.record_transition(Transition(self.monitor.id, old, new, self.clock(), cause))

    def deliveries(self, hook):
        return [d for d, _ in reversed(self.outbox.deliveries(hook.id))]
